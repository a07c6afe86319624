// poll demo: watch real descriptors that libuv does not own, then prove a spawned child
// does not inherit the poller's own descriptor.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Poller } from '@poll/poller';

const t0 = process.hrtime.bigint();
const stamp = () => `[${String(Number((process.hrtime.bigint() - t0) / 1_000_000n)).padStart(5)} ms]`;
const log = (...args) => console.log(stamp(), ...args);
const describeFd = (fd) => {
  try {
    return fs.readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return 'unknown';
  }
};

const poller = new Poller();
log(`poller: backend ${poller.backend}, fd ${poller.fd} (${describeFd(poller.fd)})`);

// 1. A child process's output, through a FIFO we open ourselves (a raw fd libuv never sees).
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'poll-demo-'));
const fifo = path.join(dir, 'child-output');
execFileSync('mkfifo', [fifo]);
const fifoRead = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
const fifoWrite = fs.openSync(fifo, fs.constants.O_WRONLY);
const child = spawn('/bin/sh', ['-c', 'for i in 1 2 3; do echo "tick $i from pid $$"; sleep 0.15; done'], {
  stdio: ['ignore', fifoWrite, 'inherit'],
});
fs.closeSync(fifoWrite); // the child holds the only writer now: its exit is our hangup

const finished = new Promise((resolve) => {
  const buf = Buffer.alloc(4096);
  poller.add(fifoRead, { readable: true }, (event) => {
    if (event.readable) {
      let n;
      while ((n = readSome(fifoRead, buf)) > 0) {
        for (const line of buf.subarray(0, n).toString().trim().split('\n')) log(`fifo fd ${fifoRead} readable: ${line}`);
      }
    }
    if (event.hangup) {
      log(`fifo fd ${fifoRead} hangup: the child closed its end`);
      poller.remove(fifoRead);
      fs.closeSync(fifoRead);
      resolve();
    }
  });
});

function readSome(fd, buf) {
  try {
    return fs.readSync(fd, buf);
  } catch (err) {
    if (err.code === 'EAGAIN') return 0;
    throw err;
  }
}

// 2. The terminal, when there is one: a line typed within a few seconds.
await finished;
await new Promise((resolve) => child.once('exit', resolve));
if (process.stdin.isTTY) {
  const seconds = 8;
  log(`stdin is a terminal: type a line and press Enter (within ${seconds} s)`);
  await new Promise((resolve) => {
    const timer = setTimeout(() => {
      log('no line typed; going on');
      watch.remove();
      resolve();
    }, seconds * 1000);
    const watch = poller.add(0, { readable: true }, () => {
      const n = readSome(0, Buffer.alloc(1024));
      log(`stdin fd 0 readable: ${n} bytes`);
      clearTimeout(timer);
      watch.remove();
      resolve();
    });
  });
}

// 3. The poller's descriptor in a spawned child. The child lists what it inherited; next to it,
// a descriptor handed to it on purpose (fd 3) shows that the listing does see an inherited one.
const control = fs.openSync(os.devNull, 'r');
const listing = spawnSync('/bin/sh', ['-c', 'ls -l /proc/$$/fd'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit', control] }).stdout;
fs.closeSync(control);
const inherited = listing
  .split('\n')
  .map((line) => line.match(/ (\d+) -> (.*)$/))
  .filter(Boolean)
  .map(([, fd, target]) => ({ fd: Number(fd), target }));
const why = (fd) =>
  fd <= 2
    ? 'its stdin, stdout, stderr'
    : fd === 3
      ? 'handed to it on purpose: the control, which the listing must show'
      : fd === poller.fd
        ? 'THE POLLER\'S NUMBER'
        : 'inherited from whatever started this demo (a shell, a terminal), not from poll';
log('descriptors a spawned child inherited:');
for (const { fd, target } of inherited) log(`  child fd ${fd} -> ${target}   (${why(fd)})`);
const controlSeen = inherited.some(({ fd, target }) => fd === 3 && target === os.devNull);
// The child's fd with our number, if any, can only be ours: in this process that number is taken.
const leaked = inherited.some(({ fd }) => fd === poller.fd);
if (!controlSeen) log('the listing did not show the control descriptor: it proves nothing here');
log(
  leaked
    ? `LEAK: the child inherited the poller's descriptor (fd ${poller.fd})`
    : `ok: poller fd ${poller.fd} (${describeFd(poller.fd)}) is not in the child, while fd 3, handed over on purpose, is: the poller's is close-on-exec`,
);

poller.close();
fs.rmSync(dir, { recursive: true, force: true });
process.exitCode = leaked || !controlSeen ? 1 : 0;
