// Helpers for tests that need real descriptors and real child processes.
import { spawn } from 'node:child_process';
import { getSystemErrorName } from 'node:util';
import fs from 'node:fs';
import os from 'node:os';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

/** The test-only native helpers (pipe2, socketpair, eventfd, MSG_OOB, seccomp). */
// By name: node-gyp-build would load whichever addon of build/Release it finds first.
export const sys = require(path.join(here, 'native', 'build', 'Release', 'poll_testkit.node'));

export const fixtures = path.join(here, 'fixtures');

/**
 * The fault injector (native/src/faults.c), for a child process started with
 * `LD_PRELOAD=<faultsLibrary>`: `faults.arm('epoll_ctl', { fd, op: 'add', skip: 1, times: 1, errno: 'ENOMEM' })`
 * makes matching calls fail without reaching the kernel; `faults.count(call)` says how many
 * matched and how many failed. Linux.
 */
export const faultsLibrary = path.join(here, 'native', 'build', 'Release', 'pollfaults.so');
const EPOLL_OPS = { add: 1, delete: 2, modify: 3 };
export const faults = {
  arm(call, { fd = -1, op, skip = 0, times = 1, errno }) {
    const code = os.constants.errno[errno];
    if (code === undefined) throw new TypeError(`faults.arm: unknown errno ${errno}`);
    if (!sys.faultsArm(call, fd, op === undefined ? -1 : EPOLL_OPS[op], skip, times, code)) {
      throw new Error(`faults.arm(${call}): not armed (is ${faultsLibrary} preloaded? read and write need an fd)`);
    }
  },
  count: (call) => {
    const [seen, failed] = sys.faultsCount(call);
    return { seen, failed };
  },
  reset: () => sys.faultsReset(),
};

/** Built beside the addon by the same node-gyp run (a plain executable, not a prebuild). */
export const fdprobe = path.join(here, 'native', 'build', 'Release', 'fdprobe');

function systemError(errno, syscall, fd) {
  const code = getSystemErrorName(-errno);
  return Object.assign(new Error(`${code}: ${syscall} (fd ${fd})`), { code, errno: -errno, syscall, fd });
}

/**
 * writeSync, readSync and closeSync as node:fs has them (the forms the tests use). On Node and
 * Bun they are node:fs's own. Deno's node:fs refuses descriptors it did not open itself (the
 * pipes and sockets the tests make natively), so there they are the system calls, except that
 * a descriptor Deno did open is closed through it (closing it behind Deno's back would leave
 * Deno to close its number again later, when it may name another file).
 */
const onDeno = typeof globalThis.Deno !== 'undefined';
export const rawfs = onDeno
  ? {
      writeSync(fd, data) {
        const n = sys.rawWrite(fd, typeof data === 'string' ? Buffer.from(data) : data);
        if (n < 0) throw systemError(-n, 'write', fd);
        return n;
      },
      readSync(fd, buffer, offset = 0, length = buffer.byteLength - offset) {
        const n = sys.rawRead(fd, buffer, offset, length);
        if (n < 0) throw systemError(-n, 'read', fd);
        return n;
      },
      closeSync(fd) {
        try {
          fs.closeSync(fd);
          return;
        } catch {
          // not Deno's: below
        }
        const r = sys.rawClose(fd);
        if (r < 0) throw systemError(-r, 'close', fd);
      },
    }
  : { writeSync: fs.writeSync, readSync: fs.readSync, closeSync: fs.closeSync };

/** The runtime running this code: 'node', 'bun' or 'deno'. */
export const runtime = typeof globalThis.Bun !== 'undefined' ? 'bun' : onDeno ? 'deno' : 'node';

/**
 * Descriptor numbers open in a freshly spawned child, as the child itself sees them: fdprobe
 * asks fcntl(F_GETFD) of every number before opening anything, so it works wherever there is
 * no /proc. Any number it reports was inherited. On Node the child is spawned the way users
 * spawn one (child_process); Bun's spawn closes every descriptor beyond stdio in the child, so
 * elsewhere the child is forked and exec'd directly (sys.execProbe), where close-on-exec alone
 * decides what it inherits.
 */
export function childFds() {
  if (runtime !== 'node') {
    return new Promise((resolve) => resolve(new Set(sys.execProbe(fdprobe).split('\n').filter(Boolean).map(Number))));
  }
  return new Promise((resolve, reject) => {
    const child = spawn(fdprobe, [], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => (out += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`fdprobe exited with ${code}`));
      resolve(new Set(out.split('\n').filter(Boolean).map(Number)));
    });
  });
}

/** Whether `fd` is open in this process (fstat answers EBADF once it is closed). */
export function isOpen(fd) {
  try {
    sys.fdFlags(fd); // fcntl(F_GETFD): node:fs on Deno knows only the descriptors it opened
    return true;
  } catch (err) {
    if (err.errno === 9 || err.code === 'EBADF') return false;
    throw err;
  }
}

/** Linux: what /proc says descriptor `fd` is ('anon_inode:[eventpoll]', 'pipe:[…]'), or null. */
export function fdTarget(fd, pid = 'self') {
  try {
    return fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
  } catch {
    return null;
  }
}

/** Writes `data` to a (non-blocking) descriptor. */
export function write(fd, data = 'x') {
  return rawfs.writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
}

/** Reads what is there now; '' when the descriptor would block, null at end of file. */
export function read(fd, size = 65536) {
  const buf = Buffer.alloc(size);
  try {
    const n = rawfs.readSync(fd, buf, 0, size, null);
    return n === 0 ? null : buf.subarray(0, n).toString();
  } catch (err) {
    if (err.code === 'EAGAIN') return '';
    throw err;
  }
}

/**
 * Every read(2) a non-blocking `fd` has now, each as its own Buffer, until EAGAIN or end of
 * file: for descriptors whose reads are records (a timerfd's count, a TUN device's packets).
 */
export function drain(fd, size = 65536) {
  const got = [];
  for (;;) {
    const buffer = Buffer.alloc(size);
    try {
      const n = rawfs.readSync(fd, buffer, 0, size, null);
      if (n === 0) return got;
      got.push(buffer.subarray(0, n));
    } catch (err) {
      if (err.code === 'EAGAIN') return got;
      throw err;
    }
  }
}

/** Fills a non-blocking pipe or socket until the kernel says EAGAIN; returns bytes written. */
export function fill(fd) {
  const chunk = Buffer.alloc(65536, 0x61);
  let total = 0;
  for (;;) {
    try {
      total += rawfs.writeSync(fd, chunk);
    } catch (err) {
      if (err.code === 'EAGAIN') return total;
      throw err;
    }
  }
}

/**
 * Closes descriptors a test opened. Each must still be open: closing a number twice is a bug even
 * when it goes unnoticed, since the number may belong to someone else by then (a poller's kqueue
 * or the descriptors libkqueue keeps for it, Node's own). A test that closes one of its
 * descriptors itself takes it off its list: `closeFrom`. All are closed before the error.
 */
export function closeAll(...fds) {
  const closed = [];
  let failure;
  for (const fd of fds.flat()) {
    try {
      rawfs.closeSync(fd);
    } catch (err) {
      if (err?.code === 'EBADF') closed.push(fd);
      else failure ??= err;
    }
  }
  if (closed.length > 0) {
    throw new Error(`closeAll: fd ${closed.join(', ')} already closed: a double close (close it with closeFrom)`);
  }
  if (failure !== undefined) throw failure;
}

/** How many of this process's threads have the name `name` (Linux: /proc/self/task/<tid>/comm). */
export function threadsNamed(name) {
  return fs.readdirSync('/proc/self/task').filter((tid) => {
    try {
      return fs.readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim() === name;
    } catch {
      return false; // a thread that ended while we looked
    }
  }).length;
}

/** Closes a descriptor in the middle of a test and takes it off the list `closeAll` will close. */
export function closeFrom(list, fd) {
  const at = list.indexOf(fd);
  if (at === -1) throw new Error(`closeFrom: fd ${fd} is not on the list`);
  list.splice(at, 1);
  rawfs.closeSync(fd);
}

/**
 * Runs a fixture script in its own Node process and returns what it printed as JSON on its
 * last line. For tests that change the process irreversibly (seccomp) or need a clean exit.
 */
/**
 * The arguments before a script that run it on this runtime with Node's `execArgv` flags: as
 * they are on Node and Bun; on Deno `run -A` (all permissions, as a Node program has) with V8's
 * flags passed through --v8-flags.
 */
export function runtimeArgs(execArgv = []) {
  if (runtime !== 'deno') return execArgv;
  const v8 = execArgv.filter((a) => a === '--expose-gc' || a.startsWith('--max-old-space-size'));
  return ['run', '-A', ...(v8.length ? [`--v8-flags=${v8.join(',')}`] : [])];
}

export function runNode(script, args = [], { timeout = 20000, execArgv = [], aliveFor } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...runtimeArgs(execArgv), script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], timeout });
    let out = '';
    let err = '';
    // aliveFor: once the child has printed its first line, is it still running `aliveFor` ms
    // later? (Counted from the child's own output, so a slow start cannot fake an early exit.)
    let alive = false;
    let watching = null;
    child.stdout.setEncoding('utf8').on('data', (c) => {
      out += c;
      if (aliveFor !== undefined && watching === null && out.includes('\n')) {
        watching = setTimeout(() => {
          alive = true;
          child.kill('SIGTERM');
        }, aliveFor);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (c) => (err += c));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (watching !== null) clearTimeout(watching);
      const last = out.trim().split('\n').pop() ?? '';
      let json;
      try {
        json = JSON.parse(last);
      } catch {
        json = undefined;
      }
      resolve({ code, signal, stdout: out, stderr: err, json, alive });
    });
  });
}
