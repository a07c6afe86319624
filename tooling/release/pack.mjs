// pnpm release:pack [--out=DIR] [--require-all | --allow-missing] [--root=REPO]
// Packs every published package (pnpm pack: workspace pins become exact versions, publishConfig's
// os/cpu are applied) and refuses the set unless each tarball is what a release must be: every
// prebuilt binary of targets.mjs present and built for its CPU (glibc no newer than Node's own
// 2.28), nothing else under prebuilds/, every header the native sources include, README and
// LICENSE, no install script, exact internal pins; then publint and @arethetypeswrong/cli.
// Without --require-all the FreeBSD binary (built by the FreeBSD release job) may be missing;
// --allow-missing lets a platform's own test job pack with only the binaries it has.
// Writes SHA256SUMS next to the tarballs: the SHA-256 of each tarball and of every binary in it,
// named by its path in the repository, so that `sha256sum -c SHA256SUMS --ignore-missing` in a
// checkout of the tag, after `pnpm prebuilds`, compares a rebuild with what was published.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { syncGlue } from '@poll/build-native/lib';
import { describeBinary, glibcAtMost } from '@poll/cross-check/inspect';
import { TARGETS, prebuildPath } from '@poll/cross-check/targets';
import { PUBLISHED, binDir, root, run } from './lib.mjs';

const arg = (name) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const repo = path.resolve(arg('root') ?? root);
const out = path.resolve(arg('out') ?? path.join(repo, '.release', 'packs'));
const requireAll = process.argv.includes('--require-all');
const allowMissing = process.argv.includes('--allow-missing');
const NODE_GLIBC = '2.28';

fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(out, { recursive: true });

const problems = [];
const problem = (pkg, text) => problems.push(`${pkg}: ${text}`);
const packed = {};
const sums = [];
const sha256 = (file) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const versions = Object.fromEntries(PUBLISHED.map((dir) => {
  const manifest = JSON.parse(fs.readFileSync(path.join(repo, 'packages', dir, 'package.json'), 'utf8'));
  return [manifest.name, manifest.version];
}));

for (const dir of PUBLISHED) {
  const pkgDir = path.join(repo, 'packages', dir);
  // The shared headers go into every platform package, built on this machine or not.
  if (fs.existsSync(path.join(pkgDir, 'native', 'binding.gyp'))) syncGlue(path.join(pkgDir, 'native'));
  const before = new Set(fs.readdirSync(out));
  run('pnpm', ['pack', '--pack-destination', out], { cwd: pkgDir, quiet: true });
  const tarball = fs.readdirSync(out).find((f) => f.endsWith('.tgz') && !before.has(f));
  const unpacked = fs.mkdtempSync(path.join(os.tmpdir(), 'poll-pack-'));
  run('tar', ['xzf', path.join(out, tarball), '-C', unpacked], { quiet: true });
  const pkg = path.join(unpacked, 'package');
  const manifest = JSON.parse(fs.readFileSync(path.join(pkg, 'package.json'), 'utf8'));
  packed[manifest.name] = tarball;
  const files = listFiles(pkg);

  // The entry point and its types, as exports["."] names them.
  const entry = Object.values(manifest.exports?.['.'] ?? {}).map((f) => f.replace(/^\.\//, ''));
  if (entry.length < 2) problem(manifest.name, 'exports["."] must name its types and its entry point');
  for (const required of ['package.json', 'README.md', 'LICENSE', ...entry]) {
    if (!files.includes(required)) problem(manifest.name, `${required} is missing from the tarball`);
  }
  if (manifest.scripts && ['preinstall', 'install', 'postinstall'].some((s) => manifest.scripts[s])) {
    problem(manifest.name, 'has an install script (pnpm and npm block them; users must not need one)');
  }
  // npm and pnpm treat a binding.gyp at the package root as an implicit `node-gyp rebuild`.
  if (files.includes('binding.gyp')) problem(manifest.name, 'has binding.gyp at its root, an implicit install script');
  if (!manifest.repository?.url || !manifest.license || !manifest.keywords?.length) problem(manifest.name, 'needs repository, license and keywords');
  for (const field of ['dependencies', 'optionalDependencies', 'peerDependencies']) {
    for (const [dep, spec] of Object.entries(manifest[field] ?? {})) {
      if (spec.startsWith('workspace:')) problem(manifest.name, `${field}.${dep} is still ${spec}`);
      if (dep in versions && spec !== versions[dep]) problem(manifest.name, `${field}.${dep} is ${spec}, not the exact ${versions[dep]}`);
      if (field !== 'peerDependencies' && !(dep in versions) && !/^\d+\.\d+\.\d+$/.test(spec)) problem(manifest.name, `${field}.${dep} is ${spec}, not an exact version`);
    }
  }

  const targets = TARGETS.filter((t) => t.pkg === dir);
  if (targets.length) {
    // os and cpu must admit every target it ships a binary for (the rest build from source).
    for (const t of targets) {
      const [platform, arch] = t.tuple.split('-');
      if (!manifest.os?.includes(platform) || !manifest.cpu?.includes(arch)) problem(manifest.name, `os/cpu (${manifest.os}; ${manifest.cpu}) exclude ${t.tuple}, which it ships`);
    }
    // What the source build needs: the build file and sources (their headers are checked below).
    if (!files.includes('native/binding.gyp') || !files.some((f) => /^native\/src\/[^/]+\.cc$/.test(f))) {
      problem(manifest.name, 'the source build needs native/binding.gyp and native/src/*.cc in the tarball');
    }
    const expected = new Set(targets.map((t) => path.relative(`packages/${dir}`, prebuildPath(t))));
    for (const file of files.filter((f) => f.startsWith('prebuilds/'))) {
      if (!expected.has(file)) problem(manifest.name, `unexpected ${file} (not a release target)`);
    }
    for (const t of targets) {
      const file = path.relative(`packages/${dir}`, prebuildPath(t));
      if (!files.includes(file)) {
        if (!allowMissing && (t.zig || requireAll)) problem(manifest.name, `${file} is missing (${t.zig ? 'run pnpm prebuilds' : 'built by the FreeBSD release job'})`);
        continue;
      }
      sums.push(`${sha256(path.join(pkg, file))}  packages/${dir}/${file}`);
      const info = describeBinary(path.join(pkg, file));
      if (info.machine !== t.machine) problem(manifest.name, `${file} is built for ${info.machine}, expected ${t.machine}`);
      if (info.glibc && !glibcAtMost(info.glibc, NODE_GLIBC)) problem(manifest.name, `${file} needs glibc ${info.glibc}, newer than Node's own ${NODE_GLIBC}`);
      console.log(`  ${manifest.name} ${file}: ${(info.size / 1024).toFixed(0)} KiB, ${info.machine}${info.glibc ? `, glibc ≥ ${info.glibc}` : ''}${info.macos ? `, macOS ≥ ${info.macos}` : ''}${info.needed.length ? `, needs ${info.needed.join(' ')}` : ''}`);
    }
    checkHeaders(manifest.name, pkg, files);
  }
  fs.rmSync(unpacked, { recursive: true, force: true });
}

// publint on each tarball; attw for the resolution modes we support: ESM import under node16/
// nodenext and bundlers. CommonJS callers use require(esm) (Node >= 20.19), which the TypeScript
// inside attw (5.6) does not model, so its node16-cjs and node10 rows are left out (esm-only).
// @poll/epoll is CommonJS itself, for require('epoll'): every row (strict).
for (const [name, tarball] of Object.entries(packed)) {
  const file = path.join(out, tarball);
  const lint = spawnSync(path.join(binDir, 'publint'), ['run', file, '--strict'], { encoding: 'utf8' });
  if (lint.status !== 0) problem(name, `publint:\n${lint.stdout}${lint.stderr}`);
  const profile = name === '@poll/epoll' ? 'strict' : 'esm-only';
  const types = spawnSync(path.join(binDir, 'attw'), [file, '--profile', profile, '--format', 'ascii', '--no-emoji', '--no-color'], { encoding: 'utf8' });
  if (types.status !== 0) problem(name, `@arethetypeswrong/cli:\n${types.stdout}${types.stderr}`);
}

fs.writeFileSync(path.join(out, 'packs.json'), JSON.stringify(packed, null, 2) + '\n');
for (const tarball of Object.values(packed)) sums.push(`${sha256(path.join(out, tarball))}  ${tarball}`);
fs.writeFileSync(path.join(out, 'SHA256SUMS'), sums.join('\n') + '\n');
if (problems.length) {
  console.error(`release:pack: refusing this set (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n- ${problems.join('\n- ')}`);
  process.exit(1);
}
console.log(`release:pack: ${Object.keys(packed).length} tarballs in ${path.relative(process.cwd(), out) || out}, every check passed`);

function listFiles(dir, prefix = '') {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    return entry.isDirectory() ? listFiles(path.join(dir, entry.name), rel) : [rel];
  });
}

// Every `#include "…"` in the shipped native sources resolves inside the tarball: next to the
// including file or under native/include (binding.gyp's include_dirs). <…> headers come from
// the system, Node and node-addon-api (a dependency).
function checkHeaders(name, pkg, files) {
  for (const file of files.filter((f) => f.startsWith('native/') && /\.(cc|c|h)$/.test(f))) {
    const text = fs.readFileSync(path.join(pkg, file), 'utf8');
    for (const [, header] of text.matchAll(/^\s*#\s*include\s+"([^"]+)"/gm)) {
      const candidates = [path.posix.join(path.posix.dirname(file), header), `native/include/${header}`];
      if (!candidates.some((c) => files.includes(c))) problem(name, `${file} includes "${header}", which is not in the tarball`);
    }
  }
}
