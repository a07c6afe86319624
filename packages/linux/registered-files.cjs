'use strict';
// Which file each registration of an epoll set belongs to, from the kernel's own record:
// /proc/self/fdinfo/<epoll fd> has one line per registration,
//   tfd:        7 events:       19 data:      200000007  pos:0 ino:1a2b sdev:e
// (fs/eventpoll.c, ep_show_fdinfo). `data` is what the addon stored, token << 32 | fd, so the
// token names the registration: after a descriptor is closed and its number reused while a dup
// keeps the old file registered, the number appears twice and only the token tells them apart.
const { readFileSync } = require('node:fs');

const LINE = /^tfd:\s*\d+\s.*?\bdata:\s*([0-9a-f]+)\b.*?\bino:([0-9a-f]+)\s+sdev:([0-9a-f]+)/gm;

/** @returns {Map<number, { dev: bigint, ino: bigint }> | undefined} by token */
module.exports = function registeredFiles(epollFd) {
  let text;
  try {
    text = readFileSync(`/proc/self/fdinfo/${epollFd}`, 'utf8');
  } catch {
    return undefined;
  }
  const files = new Map();
  for (const m of text.matchAll(LINE)) {
    const token = Number(BigInt(`0x${m[1]}`) >> 32n);
    files.set(token, { dev: userDev(BigInt(`0x${m[3]}`)), ino: BigInt(`0x${m[2]}`) });
  }
  return files;
};

// The kernel prints its internal dev_t (major << 20 | minor); fstat() reports glibc's encoding
// (gnu_dev_makedev), which is what core compares with.
function userDev(kdev) {
  const major = kdev >> 20n;
  const minor = kdev & 0xfffffn;
  return ((major & 0xfffff000n) << 32n) | ((major & 0xfffn) << 8n) | ((minor & 0xffffff00n) << 12n) | (minor & 0xffn);
}
