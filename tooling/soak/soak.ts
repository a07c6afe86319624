// A timed soak: for POLL_SOAK_MINUTES (or POLL_SOAK_SECONDS), round after round on each loop
// @poll/linux can run on Node (uv_poll, waiter thread, Node-API): a batch of model-based
// sequences (seeds going on from round to round), a stream pair carrying a megabyte through a
// pipe, and workers that start, watch, and are terminated mid-way. The process's RSS and open
// descriptors are sampled after a full collection: once warmed up, at the start, and at the
// end. Descriptors must be exactly as many; RSS must not have grown by more than an allocator's
// slack. Each round's numbers are printed, so a slow growth shows before it fails.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { expect, it } from 'vitest';
import { pollerClass } from '@poll/core';
import { runSequence } from '@poll/behaviour/model';
import { rawfs, sys } from '@poll/testkit';

const seconds = Number(process.env.POLL_SOAK_MINUTES ?? 0) * 60 || Number(process.env.POLL_SOAK_SECONDS ?? 20);
const { loops } = createRequire(import.meta.url)('@poll/linux/backend');
const pollers = Object.entries(loops as Record<string, Parameters<typeof pollerClass>[0]>).map(([name, backend]) => [name, pollerClass(backend)] as const);
const SEQUENCES_PER_ROUND = 20;
const WORKERS_PER_ROUND = 4;
// What a flat process may still grow by: glibc's arenas and V8's heap settle in steps.
const RSS_SLACK = 24 * 1024 * 1024;

function sample() {
  (globalThis as { gc?: () => void }).gc?.();
  return { rss: process.memoryUsage().rss, fds: fs.readdirSync('/proc/self/fd').length };
}

async function streams(Poller: (typeof pollers)[number][1]) {
  const poller = new Poller();
  const [r, w] = sys.pipe();
  const reader = poller.createReadStream(r);
  const writer = poller.createWriteStream(w);
  const chunk = Buffer.alloc(64 * 1024, 7);
  let got = 0;
  const done = new Promise<void>((resolve, reject) => {
    reader.on('data', (c: Buffer) => (got += c.length));
    reader.on('end', resolve);
    reader.on('error', reject);
    writer.on('error', reject);
  });
  for (let i = 0; i < 16; i++) if (!writer.write(chunk)) await new Promise((resolve) => writer.once('drain', resolve));
  writer.end();
  await done;
  await new Promise((resolve) => reader.once('close', resolve));
  poller.close();
  if (got !== 16 * chunk.length) throw new Error(`stream: ${got} of ${16 * chunk.length} bytes`);
}

async function workerChurn() {
  for (let i = 0; i < WORKERS_PER_ROUND; i++) {
    const [r, w] = sys.pipe();
    const worker = new Worker(new URL('./fixtures-worker.mjs', import.meta.url), { workerData: { r, w } });
    await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await new Promise((resolve) => setTimeout(resolve, 1 + (i % 5)));
    await worker.terminate();
    rawfs.closeSync(r);
    rawfs.closeSync(w);
  }
}

async function round(index: number) {
  for (const [name, Poller] of pollers) {
    for (let s = 0; s < SEQUENCES_PER_ROUND; s++) {
      const seed = 1_000_000 + index * SEQUENCES_PER_ROUND + s;
      const result = await runSequence(() => new Poller(), seed);
      if (result.violations.length) throw new Error(`model on the ${name} loop, seed ${seed}:\n${result.violations.join('\n')}`);
    }
    await streams(Poller);
  }
  await workerChurn();
}

it(`soaks for ${seconds} s: model sequences, streams and worker churn on the ${pollers.map(([n]) => n).join(', ')} loops; RSS and descriptors flat`, { timeout: (seconds + 300) * 1000 }, async () => {
  // Warm-up: the first rounds load code, grow the heap to its working size and the allocator
  // and V8 to their working sizes (measured here: a step of ~20 MiB somewhere in the first 30
  // rounds, then nothing, over 180 rounds). It lasts at least 30 rounds and ends when two
  // samples five rounds apart agree within 4 MiB (at most 80 rounds); the soak's time starts then.
  const mib = (n: number) => (n / 1024 / 1024).toFixed(1);
  let rounds = 0;
  let start = sample();
  for (;;) {
    for (let i = 0; i < 5; i++) await round(rounds++);
    const now = sample();
    const settled = Math.abs(now.rss - start.rss) < 4 * 1024 * 1024;
    start = now;
    if ((settled && rounds >= 30) || rounds >= 80) break;
  }
  console.log(`soak: warmed up in ${rounds} rounds; rss ${mib(start.rss)} MiB, ${start.fds} fds`);
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    await round(rounds++);
    if (rounds % 10 === 0) {
      const now = sample();
      console.log(`soak: round ${rounds}, rss ${mib(now.rss)} MiB, ${now.fds} fds`);
    }
  }
  const end = sample();
  console.log(`soak: ${rounds} rounds, ${seconds} s after the warm-up; rss ${mib(start.rss)} → ${mib(end.rss)} MiB; fds ${start.fds} → ${end.fds}`);
  expect(leaks(start, end)).toEqual([]);
});

function leaks(start: ReturnType<typeof sample>, end: ReturnType<typeof sample>): string[] {
  const found: string[] = [];
  if (end.fds !== start.fds) found.push(`descriptors: ${start.fds} → ${end.fds}`);
  if (end.rss - start.rss >= RSS_SLACK) found.push(`rss grew by ${((end.rss - start.rss) / 1024 / 1024).toFixed(1)} MiB`);
  return found;
}

it('the control: the same sampling and verdict catch a descriptor and a memory leak planted in a round', async () => {
  await round(0);
  const start = sample();
  const kept: unknown[] = [];
  for (let i = 0; i < 2; i++) {
    await round(i + 1);
    kept.push(sys.pipe(), Buffer.alloc(RSS_SLACK, 1)); // a pipe never closed, memory never let go
  }
  const end = sample();
  expect(leaks(start, end)).toEqual([expect.stringMatching(/^descriptors: /), expect.stringMatching(/^rss grew by /)]);
  for (const k of kept) if (Array.isArray(k)) for (const fd of k) rawfs.closeSync(fd);
}, 120_000);
