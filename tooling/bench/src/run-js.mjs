// One measurement in a fresh process: node run-js.mjs <impl> <scenario> <budget-ms> [idle-count]
// Prints one JSON line like raw-epoll: { ops, seconds, rate, delivered, expected } (memory: bytes).
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { adapter, pollerOn } from './adapters.mjs';
import { rawfs, sys } from '@poll/testkit';

const [impl, scenario, budgetArg, idleArg] = process.argv.slice(2);
const budget = Number(budgetArg) / 1000;
const idleCount = Number(idleArg ?? 10000);
const quick = process.argv.includes('quick');
const now = () => performance.now() / 1000;
// 'stream' reads with each implementation's own stream (see stream() below), not an adapter.
const a = scenario === 'stream' ? null : await adapter(impl);

/** Runs `step(done)` repeatedly through a warm-up (a fifth of the budget) and the budget. */
function timed(count) {
  const start = now();
  let warming = true;
  let warm = 0;
  let t0 = start;
  return {
    // Called every so often with the running count; returns the result once time is up.
    check(n) {
      const t = now();
      if (warming && t >= start + budget / 5) {
        warming = false;
        warm = n;
        t0 = t;
      } else if (!warming && t >= t0 + budget) {
        return { ops: n - warm, seconds: t - t0, rate: (n - warm) / (t - t0), ...count() };
      }
      return null;
    },
  };
}

/**
 * `n` descriptors nobody writes: opens of one FIFO, each read-write so it never sees EOF (Linux
 * defines O_RDWR on a FIFO). One descriptor each, each its own open file (the kernel limits
 * wake-up paths per file through nested epoll sets), and a kind net.Socket can take too.
 */
function idlePipes(n) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'poll-bench-'));
  const fifo = path.join(dir, 'idle');
  execFileSync('mkfifo', [fifo]);
  const fds = [];
  for (let i = 0; i < n; i++) fds.push(fs.openSync(fifo, fs.constants.O_RDWR | fs.constants.O_NONBLOCK));
  fs.rmSync(dir, { recursive: true, force: true });
  return fds;
}

// Every byte written and every byte read is counted, independently of the scenario's own loop
// counters, and a readiness event that finds nothing to read is counted as spurious: the
// orchestrator fails a run unless delivered === expected and spurious === 0.
let written = 0;
let received = 0;
let spurious = 0;
function put(fd) {
  const n = sys.writeByte(fd);
  if (n !== 1) throw new Error(`write to fd ${fd} gave ${n}`);
  written++;
}
function take(fd) {
  const n = a.consume(fd);
  if (n === 1) received++;
  else spurious++;
  return n === 1;
}
const counts = () => ({ delivered: received, expected: written, spurious });

function pingpong(idle) {
  return new Promise((resolve, reject) => {
    const [ar, aw] = sys.pipe();
    const [br, bw] = sys.pipe();
    for (const fd of idlePipes(idle)) a.watch(fd, () => reject(new Error('an idle descriptor fired')));
    let trips = 0;
    const clock = timed(counts);
    a.watch(ar, () => {
      if (take(ar)) put(bw);
    });
    a.watch(br, () => {
      if (!take(br)) return;
      trips++;
      if ((trips & 255) === 0 || quick) {
        const result = clock.check(trips);
        if (result) return resolve(result);
      }
      put(aw);
    });
    put(aw);
  });
}

/** One pipe whose callback writes the next byte into the same pipe (see raw-epoll.c, chain). */
function chain() {
  return new Promise((resolve) => {
    const [r, w] = sys.pipe();
    let trips = 0;
    const clock = timed(counts);
    a.watch(r, () => {
      if (!take(r)) return;
      trips++;
      if ((trips & 255) === 0 || quick) {
        const result = clock.check(trips);
        if (result) return resolve(result);
      }
      put(w);
    });
    put(w);
  });
}

function fanin() {
  const N = 256;
  return new Promise((resolve) => {
    const writers = [];
    let handled = 0;
    let left = N;
    const clock = timed(counts);
    const round = () => {
      left = N;
      for (const w of writers) put(w);
    };
    for (let i = 0; i < N; i++) {
      const [r, w] = sys.pipe();
      writers.push(w);
      a.watch(r, () => {
        if (!take(r)) return;
        handled++;
        if (--left === 0) {
          const result = clock.check(handled);
          if (result) return resolve(result);
          round();
        }
      });
    }
    round();
  });
}

async function churn() {
  const [r] = sys.pipe();
  let pairs = 0;
  const clock = timed(() => ({ delivered: pairs, expected: pairs, spurious: 0 }));
  const noop = () => {};
  for (;;) {
    for (let i = 0; i < 256; i++) a.unwatch(a.watch(r, noop));
    pairs += 256;
    const result = clock.check(pairs);
    if (result) return result;
  }
}

async function memory() {
  const fds = idlePipes(idleCount);
  const noop = () => {};
  const settle = async () => {
    for (let i = 0; i < 4; i++) {
      globalThis.gc();
      await new Promise((resolve) => setImmediate(resolve));
    }
    const m = process.memoryUsage();
    return { rss: m.rss, js: m.heapUsed + m.external };
  };
  const keep = [];
  const before = await settle();
  for (const fd of fds) keep.push(a.watch(fd, noop));
  const after = await settle();
  return {
    ops: idleCount,
    bytesPerWatch: (after.js - before.js) / idleCount,
    rssPerWatch: (after.rss - before.rss) / idleCount,
    delivered: keep.length,
    expected: idleCount,
    spurious: 0,
  };
}

/**
 * Write to callback, for events from outside: another process writes one byte at a time, 1 ms
 * apart, noting the monotonic clock (shared by every process) just before each write; this one
 * notes it in the callback. Medians and the 99th percentile, in microseconds.
 */
async function latency() {
  const samples = quick ? 50 : 2000;
  const [r, w] = sys.pipe();
  const arrived = [];
  // Let go once every sample is in: the writer's exit is a hangup, not a sample.
  const watch = a.watch(r, () => {
    const t = sys.monotonicNs();
    if (take(r)) arrived.push(t);
    if (arrived.length === samples && a.canChurn) a.unwatch(watch); // a net.Socket just ends
  });
  // The writer is always Node (the bench's own), so only the reader's runtime differs.
  const writer = spawn(process.env.POLL_BENCH_NODE ?? process.execPath, [new URL('./latency-writer.mjs', import.meta.url).pathname, String(samples)], {
    stdio: ['ignore', 'pipe', 'inherit', w],
  });
  rawfs.closeSync(w); // (Deno's node:fs refuses a descriptor it did not open)
  let out = '';
  writer.stdout.setEncoding('utf8').on('data', (chunk) => (out += chunk));
  await new Promise((resolve, reject) => writer.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`writer exited ${code}`)))));
  while (arrived.length < samples) await new Promise((resolve) => setTimeout(resolve, 1));
  const sent = JSON.parse(out).map(BigInt);
  const micros = sent.map((t, i) => Number(arrived[i] - t) / 1000).sort((x, y) => x - y);
  const at = (q) => micros[Math.min(micros.length - 1, Math.floor(q * micros.length))];
  return { ops: samples, median: at(0.5), p99: at(0.99), delivered: received, expected: sent.length, spurious };
}

/**
 * Bytes/s through a stream reading a pipe that another process fills as fast as the pipe takes
 * it: poll's createReadStream (on both loops), net.Socket and fs.createReadStream, each with
 * 64 KiB reads.
 */
async function stream() {
  // Blocking, as a pipe is made: fs reads it in the threadpool and fails with EAGAIN otherwise.
  const [r, w] = sys.pipe({ nonblock: false });
  const child = spawn(process.execPath, ['-e', 'const b = Buffer.alloc(65536, 120); const fs = require("fs"); try { for (;;) fs.writeSync(1, b); } catch {}'], {
    stdio: ['ignore', w, 'ignore'],
  });
  fs.closeSync(w);
  let readable;
  const hwm = 64 * 1024;
  if (impl === 'poll') readable = (await import('@poll/poller')).createReadStream(r, { highWaterMark: hwm, chunkSize: hwm });
  else if (impl === 'thread') readable = new (pollerOn('thread'))().createReadStream(r, { highWaterMark: hwm, chunkSize: hwm });
  else if (impl === 'net') readable = new (await import('node:net')).Socket({ fd: r, readable: true, writable: false });
  else if (impl === 'fs') readable = fs.createReadStream(null, { fd: r, highWaterMark: hwm });
  else throw new Error(`${impl} has no stream`);
  let bytes = 0;
  const clock = timed(() => ({ delivered: bytes, expected: bytes, spurious: 0 }));
  const result = await new Promise((resolve) => {
    readable.on('data', (chunk) => {
      bytes += chunk.length;
      const done = clock.check(bytes);
      if (done) resolve(done);
    });
  });
  child.kill();
  return { ...result, rate: result.rate / 1e6 }; // MB/s
}

let result;
if (scenario === 'stream') result = await stream();
else if (scenario === 'latency') result = await latency();
else if (scenario === 'pingpong') result = await pingpong(0);
else if (scenario === 'idle') result = await pingpong(idleCount);
else if (scenario === 'chain') result = await chain();
else if (scenario === 'fanin') result = await fanin();
else if (scenario === 'churn') result = a.canChurn ? await churn() : { skipped: 'cannot detach a descriptor' };
else if (scenario === 'memory') result = await memory();
else throw new Error(`unknown scenario ${scenario}`);
console.log(JSON.stringify(result));
process.exit(0); // watches on never-ready descriptors would keep some implementations alive
