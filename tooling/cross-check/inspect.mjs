// What a built binary is, read from its own bytes: format, CPU, the newest glibc symbol version
// it needs, and (with binutils' readelf, which reads every ELF machine) its shared libraries.
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';

const ELF_MACHINE = { 0x3e: 'x86_64', 0xb7: 'aarch64', 0x28: 'arm' };
const MACHO_CPU = { 0x01000007: 'x86_64-macho', 0x0100000c: 'aarch64-macho' };
const ELFOSABI_FREEBSD = 9;

export function describeBinary(file) {
  const bytes = readFileSync(file);
  const info = { size: statSync(file).size, machine: 'unknown', glibc: null, macos: null, needed: [] };
  if (bytes.readUInt32BE(0) === 0x7f454c46) {
    const little = bytes[5] === 1;
    const machine = little ? bytes.readUInt16LE(18) : bytes.readUInt16BE(18);
    // FreeBSD brands its objects in the header, and its libc's symbol versions are FBSD_1.x.
    const freebsd = bytes[7] === ELFOSABI_FREEBSD || bytes.includes('FBSD_1.');
    info.machine = (ELF_MACHINE[machine] ?? `elf-${machine}`) + (freebsd ? '-freebsd' : '');
    // Version names a binary needs are strings in its .dynstr; the newest GLIBC_x.y is the floor.
    const versions = [...bytes.toString('latin1').matchAll(/GLIBC_(\d+)\.(\d+)(?:\.(\d+))?/g)].map((m) => m.slice(1).map(Number));
    versions.sort((a, b) => a[0] - b[0] || a[1] - b[1] || (a[2] || 0) - (b[2] || 0));
    const top = versions.at(-1);
    if (top) info.glibc = top.filter((n, i) => i < 2 || n).join('.');
    const elf = spawnSync('readelf', ['-d', file], { encoding: 'utf8' });
    if (elf.status === 0) info.needed = [...elf.stdout.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
  } else if (bytes.readUInt32LE(0) === 0xfeedfacf) {
    const cpu = bytes.readUInt32LE(4);
    info.machine = MACHO_CPU[cpu] ?? `macho-${cpu.toString(16)}`;
    // LC_BUILD_VERSION's minos (xxxx.yy.zz in nibbles) is the oldest macOS the binary is for.
    for (let i = 0, at = 32; i < bytes.readUInt32LE(16); i++, at += bytes.readUInt32LE(at + 4)) {
      if (bytes.readUInt32LE(at) === 0x32) {
        const v = bytes.readUInt32LE(at + 12);
        info.macos = `${v >>> 16}.${(v >> 8) & 0xff}`;
      }
    }
  }
  return info;
}

/** Compares "2.17" with "2.28" as versions. */
export function glibcAtMost(version, limit) {
  const [a, b] = [version, limit].map((v) => v.split('.').map(Number));
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) < (b[i] ?? 0);
  }
  return true;
}
