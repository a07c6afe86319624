// pnpm release:rehearse
// The whole release, against a real registry (verdaccio on loopback, which keeps @poll/* to
// itself and proxies everything else to npm), in a copy of the repository so nothing here
// changes. Run after `pnpm build` and `pnpm prebuilds`.
//   1. the gate: release:pack's checks refuse a set with a prebuild missing (negative control),
//      then pass on the full set;
//   2. `changeset version` + `changeset publish` with the changesets in .changeset/;
//   3. a second release from one changeset for @poll/linux alone: the fixed group releases the
//      facade too, pinning the new @poll/linux exactly;
//   4. fresh projects: `npm install @poll/poller` and `pnpm add @poll/poller` get the Linux
//      package and not @poll/bsd, and the smoke program passes with no compiler on PATH; then
//      the epoll package's users' alias (epoll@npm:@poll/epoll@…) and a require('epoll') program;
//      onoff's users' override (epoll → @poll/epoll) and onoff's README program on gpio-sim;
//      Bun's and Deno's users.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PUBLISHED, binDir, freshProject, here, noCompilerEnv, root, run } from './lib.mjs';
import { smoke } from './test-packed.mjs';
import * as runtimes from '@poll/runtimes';
import { runInSim } from '@poll/gpio-sim';

// The onoff the drop-in is tested with (packages/epoll's dev dependency).
const ONOFF = JSON.parse(fs.readFileSync(path.join(root, 'packages', 'epoll', 'package.json'), 'utf8')).devDependencies.onoff;

const changeset = path.join(root, 'node_modules', '.bin', 'changeset');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'poll-rehearse-'));
const step = (text) => console.log(`release:rehearse: ${text}`);

// --- the repository as it would be checked out and built by the release job -----------------
const repo = path.join(work, 'repo');
const skip = new Set(['node_modules', '.git', '.turbo', '.release', 'build', 'coverage']);
fs.cpSync(root, repo, { recursive: true, filter: (src) => !skip.has(path.basename(src)) });
run('git', ['init', '-q'], { cwd: repo });
// pnpm pack resolves workspace: ranges from an installed workspace; the store makes this quick.
run('pnpm', ['install', '--frozen-lockfile', '--offline', '--ignore-scripts'], { cwd: repo, quiet: true });

// --- the registry ------------------------------------------------------------------------------
const port = await freePort();
const registry = `http://127.0.0.1:${port}/`;
const storage = path.join(work, 'registry');
fs.mkdirSync(storage);
fs.copyFileSync(path.join(here, 'verdaccio.yaml'), path.join(storage, 'config.yaml'));
// Its log (and its warning about running as root) is shown only when the rehearsal fails.
const log = fs.openSync(path.join(work, 'verdaccio.log'), 'w');
const verdaccio = spawn(path.join(binDir, 'verdaccio'), ['--config', path.join(storage, 'config.yaml'), '--listen', `127.0.0.1:${port}`], {
  stdio: ['ignore', log, log],
});
let status = 0;
try {
  await waitForRegistry(registry);
  step(`verdaccio is up at ${registry}`);
  // Publishing needs a token for npm (any will do: @poll/* is open to anyone on this registry).
  const npmrc = `registry=${registry}\n//127.0.0.1:${port}/:_authToken=rehearsal\n`;
  fs.writeFileSync(path.join(repo, '.npmrc'), npmrc);
  const env = {
    ...process.env,
    npm_config_registry: registry,
    npm_config_userconfig: path.join(repo, '.npmrc'),
    // A cache of our own: pnpm keeps registry metadata by host:port across runs.
    XDG_CACHE_HOME: path.join(work, 'cache'),
    npm_config_cache: path.join(work, 'cache', 'npm'),
  };

  // 1. the gate, with its negative control
  const arm = path.join(repo, 'packages', 'linux', 'prebuilds', 'linux-arm');
  fs.renameSync(arm, `${arm}.away`);
  const refused = gate(repo, env, { expectFailure: true });
  if (!/linux-arm\/node\.napi\.armv7\.glibc\.node is missing/.test(refused)) throw new Error(`the gate let a set without the armv7 binary through:\n${refused}`);
  fs.renameSync(`${arm}.away`, arm);
  step('the gate refuses a set without the armv7 binary');

  // 2. the first release
  release(repo, env);
  const first = published(registry);
  step(`released ${fmt(first)}`);

  // 3. a release of @poll/linux alone takes the facade along, pinned
  fs.writeFileSync(
    path.join(repo, '.changeset', 'rehearsal-linux-fix.md'),
    "---\n'@poll/linux': patch\n---\n\nA fix in the epoll backend alone.\n",
  );
  release(repo, env);
  const second = published(registry);
  const linux = second['@poll/linux'];
  const facade = JSON.parse(run('npm', ['view', `@poll/poller@${second['@poll/poller']}`, 'optionalDependencies', '--json'], { env, quiet: true }));
  if (facade['@poll/linux'] !== linux) throw new Error(`@poll/poller ${second['@poll/poller']} pins @poll/linux ${facade['@poll/linux']}, not ${linux}`);
  if (second['@poll/poller'] === first['@poll/poller']) throw new Error('a @poll/linux release did not release @poll/poller');
  step(`a changeset for @poll/linux alone released ${fmt(second)}; the facade pins @poll/linux ${facade['@poll/linux']}`);

  // 4. users
  for (const manager of ['npm', 'pnpm']) {
    const project = freshProject(`rehearse-${manager}`);
    const args = manager === 'npm' ? ['install', '--no-audit', '--no-fund', '@poll/poller'] : ['add', '@poll/poller'];
    run(manager, args, { cwd: project, env, quiet: true });
    const installed = listInstalled(project);
    if (installed['@poll/linux'] !== linux) throw new Error(`${manager} installed @poll/linux ${installed['@poll/linux']}, expected ${linux}`);
    if ('@poll/bsd' in installed) throw new Error(`${manager} installed @poll/bsd on Linux`);
    const runtime = { node: process.execPath, binary: `prebuilds/linux-${process.arch}/node.napi.glibc.node` };
    const { out } = smoke(project, runtime);
    step(`${manager}: installed ${fmt(installed)} (no @poll/bsd); the smoke program passed:\n${out.trimEnd().replace(/^/gm, '    ')}`);
    // The epoll package's users: the one-line alias, then a program that knows only require('epoll').
    const alias = `epoll@npm:@poll/epoll@${second['@poll/epoll']}`;
    run(manager, manager === 'npm' ? ['install', '--no-audit', '--no-fund', alias] : ['add', alias], { cwd: project, env, quiet: true });
    const dropIn = smoke(project, runtime, { script: 'smoke-epoll.cjs' }).out;
    step(`${manager}: ${alias}; the epoll package's API passed:\n${dropIn.trimEnd().replace(/^/gm, '    ')}`);
    fs.rmSync(project, { recursive: true, force: true });
    onoffUser(manager, second['@poll/epoll'], env);
  }
  // Bun's and Deno's users, with the commands they type, from the same registry; then the same
  // smoke program, run by that runtime (its Node-API loop). Deno's users come two ways: a
  // package.json project (`deno install`; `deno add npm:@poll/poller` writes the same entry into
  // deno.json) and a bare script that imports `npm:@poll/poller@<version>`, with no manifest and
  // no node_modules (the package lives in Deno's global cache, and so does the binary it loads).
  const users = [
    { name: 'bun', binary: runtimes.bun, how: 'bun add @poll/poller' },
    { name: 'deno', binary: runtimes.deno, how: 'deno install (package.json)' },
    { name: 'deno', binary: runtimes.deno, how: `npm:@poll/poller@${second['@poll/poller']} (no package.json)`, npmSpecifier: true },
  ];
  for (const user of users) {
    const { name, binary } = user;
    if (!binary) {
      step(`${name}: not installed here (tooling/runtimes has its linux-x64 build); not rehearsed`);
      continue;
    }
    const project = freshProject(`rehearse-${name}`);
    // Both read the registry from NPM_CONFIG_REGISTRY; Bun also reads the project's .npmrc.
    fs.writeFileSync(path.join(project, '.npmrc'), `registry=${registry}\n`);
    const userEnv = { ...env, NPM_CONFIG_REGISTRY: registry, DENO_DIR: path.join(work, 'cache', `deno-${users.indexOf(user)}`), BUN_INSTALL_CACHE_DIR: path.join(work, 'cache', 'bun') };
    // Deno 2.9 installs nothing published in the last 24 hours unless told otherwise
    // (https://docs.deno.com/go/minimum-dependency-age); this registry's versions are minutes old.
    const denoFlags = ['-A', '--minimum-dependency-age=0'];
    let script = 'smoke.mjs';
    if (name === 'bun') {
      run(binary, ['add', '@poll/poller'], { cwd: project, env: userEnv, quiet: true });
    } else if (!user.npmSpecifier) {
      const manifest = JSON.parse(fs.readFileSync(path.join(project, 'package.json'), 'utf8'));
      manifest.dependencies = { '@poll/poller': second['@poll/poller'] };
      fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify(manifest, null, 2));
      run(binary, ['install', '--minimum-dependency-age=0'], { cwd: project, env: userEnv, quiet: true });
    } else {
      fs.rmSync(path.join(project, 'package.json'));
      script = 'smoke-npm-specifier.mjs';
      const source = fs.readFileSync(path.join(project, 'smoke.mjs'), 'utf8');
      const rewritten = source.replace(/from '@poll\/poller';/, `from 'npm:@poll/poller@${second['@poll/poller']}';`);
      if (rewritten === source) throw new Error("smoke.mjs no longer imports from '@poll/poller'; the npm: rehearsal cannot rewrite it");
      fs.writeFileSync(path.join(project, script), rewritten);
    }
    const out = run(binary, [...(name === 'deno' ? ['run', ...denoFlags] : []), script, `--expect-binary=@poll/linux`], {
      cwd: project,
      env: { ...userEnv, PATH: noCompilerEnv(binary).PATH }, // no compiler: the prebuilt binary must do
      quiet: true,
    });
    if (/@poll\/bsd/.test(out)) throw new Error(`${name} loaded @poll/bsd on Linux:\n${out}`);
    // Nothing of @poll/bsd installed either: in Bun's flat layout, Deno's node_modules/.deno, or
    // Deno's global cache (where npm: specifiers install).
    const listed = (dir) => (fs.existsSync(dir) ? fs.readdirSync(dir) : []);
    const installedDirs = [
      ...listed(path.join(project, 'node_modules', '@poll')).map((n) => `@poll/${n}`),
      ...listed(path.join(project, 'node_modules', '.deno')),
      // (a package's metadata may be cached there too: only an unpacked package counts)
      ...(user.npmSpecifier ? fs.readdirSync(userEnv.DENO_DIR, { recursive: true }).filter((f) => /@poll\/[^/]+\/[^/]+\/package\.json$/.test(f)) : []),
    ];
    if (!installedDirs.some((d) => /@poll[/+]linux/.test(d))) throw new Error(`${user.how}: no @poll/linux found where ${name} installs: ${installedDirs.join(' ')}`);
    if (installedDirs.some((d) => /@poll[/+]bsd/.test(d))) throw new Error(`${user.how} installed @poll/bsd on Linux: ${installedDirs.join(' ')}`);
    step(`${name}: ${user.how} got @poll/poller ${second['@poll/poller']}; the smoke program passed on ${name}:\n${out.trimEnd().replace(/^/gm, '    ')}`);
    fs.rmSync(project, { recursive: true, force: true });
  }
} catch (err) {
  console.error(`release:rehearse: FAILED: ${err.message}\nverdaccio's log:\n${fs.readFileSync(path.join(work, 'verdaccio.log'), 'utf8')}`);
  status = 1;
} finally {
  verdaccio.kill();
  fs.rmSync(work, { recursive: true, force: true });
}
process.exit(status);

// onoff's users switch with one override and nothing else: onoff from the registry, its epoll
// replaced by @poll/epoll (npm's "overrides" in package.json; pnpm's "overrides" in
// pnpm-workspace.yaml, where pnpm 11 and later read it instead of package.json's "pnpm" field);
// then a program written
// against onoff's README runs on simulated GPIOs (packages/epoll/test/onoff.test.ts checks the
// same program in detail) and must find ours under onoff.
function onoffUser(manager, version, env) {
  const project = freshProject(`rehearse-onoff-${manager}`);
  const manifest = JSON.parse(fs.readFileSync(path.join(project, 'package.json'), 'utf8'));
  manifest.type = 'commonjs';
  manifest.dependencies = { onoff: ONOFF };
  const override = { epoll: `npm:@poll/epoll@${version}` };
  if (manager === 'npm') manifest.overrides = override;
  else fs.writeFileSync(path.join(project, 'pnpm-workspace.yaml'), `overrides:\n  epoll: "${override.epoll}"\n`);
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify(manifest, null, 2));
  run(manager, manager === 'npm' ? ['install', '--no-audit', '--no-fund'] : ['install'], { cwd: project, env, quiet: true });
  fs.copyFileSync(path.join(root, 'packages', 'epoll', 'test', 'fixtures', 'onoff-user.cjs'), path.join(project, 'onoff-user.cjs'));
  const out = run(runInSim, ['--wire', '17:22', '--wire', '27:4', '--', process.execPath, 'onoff-user.cjs', '500'], { cwd: project, env, quiet: true });
  const parts = Object.fromEntries(out.trim().split('\n').map((l) => JSON.parse(l)).map((p) => [p.part, p]));
  if (parts.epoll?.name !== '@poll/epoll') throw new Error(`${manager}: onoff's require('epoll') got ${JSON.stringify(parts.epoll)}, not @poll/epoll`);
  if (parts.edges?.count !== 500 || !parts.edges.inOrder || parts.activeLow?.seen?.[0] !== 1) throw new Error(`${manager}: onoff on @poll/epoll:\n${out}`);
  step(`${manager}: onoff ${ONOFF} with ${JSON.stringify(override)} as ${manager === 'npm' ? "package.json's overrides" : "pnpm-workspace.yaml's overrides"}; onoff's README program passed on simulated GPIOs (${parts.edges.perSecond} edges/s)`);
  fs.rmSync(project, { recursive: true, force: true });
}

function gate(repo, env, { expectFailure = false } = {}) {
  try {
    const out = run(process.execPath, [path.join(here, 'pack.mjs'), `--root=${repo}`, `--out=${path.join(work, 'packs')}`], { cwd: repo, env, quiet: true });
    if (expectFailure) throw new Error(`the gate passed when it should have refused:\n${out}`);
    return out;
  } catch (err) {
    if (!expectFailure) throw err;
    return err.message;
  }
}

function release(repo, env) {
  run(changeset, ['version'], { cwd: repo, env, quiet: true });
  gate(repo, env);
  run(changeset, ['publish'], { cwd: repo, env, quiet: true });
  run('git', ['add', '-A'], { cwd: repo });
  run('git', ['-c', 'user.name=rehearsal', '-c', 'user.email=rehearsal@localhost', 'commit', '-qm', 'release'], { cwd: repo });
}

/** The newest version of each published package on the registry. */
function published(registry) {
  return Object.fromEntries(PUBLISHED.map((dir) => {
    const name = JSON.parse(fs.readFileSync(path.join(repo, 'packages', dir, 'package.json'), 'utf8')).name;
    return [name, run('npm', ['view', name, 'version', `--registry=${registry}`], { quiet: true }).trim()];
  }));
}

/** @poll/* packages installed in a project, by name, whatever the layout (npm's or pnpm's). */
function listInstalled(project) {
  const found = {};
  const visit = (dir) => {
    if (!fs.existsSync(dir)) return;
    for (const entry of fs.readdirSync(dir)) {
      if (entry === '@poll') {
        for (const name of fs.readdirSync(path.join(dir, entry))) {
          const manifest = path.join(dir, entry, name, 'package.json');
          if (fs.existsSync(manifest)) found[`@poll/${name}`] = JSON.parse(fs.readFileSync(manifest, 'utf8')).version;
        }
      } else if (entry === '.pnpm') {
        for (const store of fs.readdirSync(path.join(dir, entry))) visit(path.join(dir, entry, store, 'node_modules'));
      }
    }
  };
  visit(path.join(project, 'node_modules'));
  return found;
}

function fmt(versions) {
  return Object.entries(versions).map(([name, v]) => `${name}@${v}`).join(' ');
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

async function waitForRegistry(url) {
  for (let i = 0; i < 150; i++) {
    try {
      if ((await fetch(`${url}-/ping`)).ok) return;
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`verdaccio did not answer at ${url} within 30 s`);
}
