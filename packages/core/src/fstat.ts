import { fstatSync, statSync, type BigIntStats, type Stats } from 'node:fs';

/**
 * fstat() of any descriptor of this process. Deno's node:fs answers EBADF for a descriptor it
 * did not open itself (a pipe from another addon, a socket Node's net never saw); on Linux the
 * file is then reached through /proc/self/fd, whose links stat() follows even to pipes and
 * sockets. Throws as fstatSync does when the descriptor is closed.
 */
export function fstatAny(fd: number, options: { bigint: true }): BigIntStats;
export function fstatAny(fd: number): Stats;
export function fstatAny(fd: number, options?: { bigint: true }): Stats | BigIntStats {
  try {
    return options ? fstatSync(fd, options) : fstatSync(fd);
  } catch (err) {
    if (process.platform !== 'linux') throw err;
    return options ? statSync(`/proc/self/fd/${fd}`, options) : statSync(`/proc/self/fd/${fd}`);
  }
}
