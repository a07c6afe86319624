// A user's first program, run from a fresh project where the packed (or published) packages
// are installed: nothing from the workspace, no test framework, no compiler. It watches real
// descriptors (a FIFO), gets events, checks a typed error, shows the poller's descriptor is not
// inherited next to one that is, and does the same in a worker thread. Prints what it loaded.
//
//   node smoke.mjs [--expect-binary=<path fragment>] [--timeout-ms=N]
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Poller, PollError, createReadStream } from '@poll/poller';

const arg = (name) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const timeoutMs = Number(arg('timeout-ms') ?? 20000);

function withTimeout(promise, what) {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`smoke: no ${what} within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

/** A FIFO opened at both ends, non-blocking read end. */
function fifo(dir, name) {
  const file = path.join(dir, name);
  const made = spawnSync('mkfifo', [file], { env: { PATH: '/usr/bin:/bin' } });
  if (made.status !== 0) throw new Error(`mkfifo failed: ${made.stderr}`);
  const r = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  const w = fs.openSync(file, fs.constants.O_WRONLY);
  return { r, w, close: () => (fs.closeSync(r), fs.closeSync(w)) };
}

/** Watches, gets events, and checks a typed error on this thread; returns the backend's name. */
async function watchSomething(dir) {
  const poller = new Poller();
  const pipe = fifo(dir, `fifo-${isMainThread ? 'main' : 'worker'}`);
  try {
    const got = new Promise((resolve) => {
      poller.add(pipe.r, { readable: true }, (event) => {
        fs.readSync(pipe.r, Buffer.alloc(16));
        resolve(event);
      });
    });
    fs.writeSync(pipe.w, 'x');
    const event = await withTimeout(got, 'event from add()');
    if (!event.readable || event.fd !== pipe.r) throw new Error(`smoke: unexpected event ${JSON.stringify(event)}`);
    poller.remove(pipe.r);

    const once = poller.once(pipe.r, { readable: true });
    fs.writeSync(pipe.w, 'y');
    const second = await withTimeout(once, 'event from once()');
    if (!second.readable) throw new Error(`smoke: unexpected once() event ${JSON.stringify(second)}`);

    // A descriptor number that is certainly closed: the kernel's EBADF as a typed PollError.
    const closed = fs.openSync(os.devNull, 'r');
    fs.closeSync(closed);
    let error;
    try {
      poller.add(closed, { readable: true }, () => {});
    } catch (err) {
      error = err;
    }
    if (!(error instanceof PollError) || error.code !== 'EBADF' || typeof error.errno !== 'number' || !error.syscall) {
      throw new Error(`smoke: add() of a closed fd gave ${error}, expected PollError EBADF`);
    }
    return { backend: poller.backend, fd: poller.fd };
  } finally {
    poller.close();
    pipe.close();
  }
}

/** Descriptor numbers open in a child (its shell's view of /dev/fd, before ls opens anything). */
function childFds(stdio) {
  return new Promise((resolve, reject) => {
    // `echo /dev/fd/*` is expanded by the shell itself, which opens nothing else by then.
    const child = spawn('/bin/sh', ['-c', 'echo /dev/fd/*'], { stdio });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => (out += chunk));
    child.on('error', reject);
    child.on('close', () => resolve(new Set(out.trim().split(/\s+/).map((p) => Number(path.basename(p))))));
  });
}

/** The .node files this process has loaded: Node's report lists them; Bun's report does not, so
 * on Linux /proc/self/maps answers too. */
function loadedAddons() {
  const reported = process.report?.getReport?.().sharedObjects ?? [];
  let mapped = [];
  try {
    mapped = fs.readFileSync('/proc/self/maps', 'utf8').split('\n').map((line) => line.split(/\s+/).slice(5).join(' '));
  } catch {}
  return [...new Set([...reported, ...mapped].filter((file) => file.endsWith('.node')))];
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'poll-smoke-'));
  try {
    const loaded = loadedAddons();
    const expected = arg('expect-binary');
    if (expected && !loaded.some((file) => file.includes(expected))) {
      throw new Error(`smoke: expected a binary matching ${expected}, loaded ${loaded.join(', ') || 'none'}`);
    }
    const here = await watchSomething(dir);
    console.log(`ok - ${here.backend}: add() and once() delivered events on a FIFO; a closed fd gave PollError EBADF`);

    // A stream on a FIFO, to its end: the writer closes, the stream ends and closes its fd.
    const stream = fifo(dir, 'stream');
    const readable = createReadStream(stream.r);
    const chunks = [];
    readable.on('data', (chunk) => chunks.push(chunk));
    const ended = new Promise((resolve, reject) => {
      readable.on('close', resolve);
      readable.on('error', reject);
    });
    fs.writeSync(stream.w, 'through a stream');
    fs.closeSync(stream.w);
    await withTimeout(ended, 'end of the FIFO stream');
    if (Buffer.concat(chunks).toString() !== 'through a stream') throw new Error(`smoke: the stream read ${Buffer.concat(chunks)}`);
    console.log('ok - createReadStream read a FIFO to its end and closed it');

    // Close-on-exec: the poller's number must be absent in a child, while a descriptor handed
    // to the child on purpose (the negative control) is present at the number it was given.
    const poller = new Poller();
    const control = fifo(dir, 'control');
    try {
      const slot = poller.fd === 9 ? 10 : 9;
      const stdio = Array.from({ length: slot + 1 }, (_, i) => (i === 1 ? 'pipe' : i === 2 ? 'inherit' : 'ignore'));
      stdio[slot] = control.w;
      const seen = await withTimeout(childFds(stdio), "child's descriptor list");
      if (!seen.has(slot)) throw new Error(`smoke: the child's listing (${[...seen]}) misses the inherited control fd ${slot}`);
      if (seen.has(poller.fd)) throw new Error(`smoke: the poller fd ${poller.fd} leaked into a child (${[...seen]})`);
      console.log(`ok - the poller fd ${poller.fd} is not in a child; the control fd ${slot} handed to it is (child saw ${[...seen].join(' ')})`);
    } finally {
      poller.close();
      control.close();
    }

    const worker = new Worker(new URL(import.meta.url), { workerData: { dir }, argv: process.argv.slice(2) });
    const fromWorker = await withTimeout(
      new Promise((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      }),
      'answer from the worker',
    );
    await worker.terminate();
    console.log(`ok - a worker thread's own poller delivered events (${fromWorker.backend})`);
    const runtime = process.versions.bun ? `bun ${process.versions.bun}` : process.versions.deno ? `deno ${process.versions.deno}` : `node ${process.version}`;
    console.log(`ok - ${process.platform}-${process.arch} ${runtime}: loaded ${loaded.join(', ')}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (isMainThread) {
  main().catch((err) => {
    console.error(`not ok - ${err.stack ?? err}`);
    process.exitCode = 1;
  });
} else {
  watchSomething(workerData.dir).then((result) => parentPort.postMessage(result));
}
