// What valgrind runs (pnpm sanitize valgrind): the native code's paths on both loops, in one
// process, briefly: add/modify/remove/rearm, batches, once/events with abort, a rebuild after a
// close before remove(), close inside a callback, a worker that is terminated while watching.
import fs from 'node:fs';
import { Worker } from 'node:worker_threads';
import { Poller } from '@poll/linux';
import { Poller as Threaded } from './thread-loop.mjs';
import { sys } from '@poll/testkit';

process.on('warning', () => {}); // POLL_REBUILT is expected here
process.removeAllListeners('warning');

const byte = (fd) => fs.writeSync(fd, 'x');
const next = (p, fd, interest) => p.once(fd, interest, { signal: AbortSignal.timeout(20000) });

async function exercise(Make, label) {
  const p = new Make({ maxEvents: 4 });
  const pipes = Array.from({ length: 8 }, () => sys.pipe());
  let seen = 0;
  for (const [r] of pipes) p.add(r, { readable: true, edge: true }, () => seen++);
  for (const [, w] of pipes) byte(w);
  while (seen < pipes.length) await new Promise((resolve) => setTimeout(resolve, 5));
  const [r0] = pipes[0];
  p.modify(r0, { readable: true, oneshot: true });
  p.remove(pipes[1][0]);
  const [a, b] = sys.socketpair();
  byte(b);
  await next(p, a, { readable: true, writable: true });
  const ac = new AbortController();
  const pending = p.once(sys.eventfd(0), { readable: true }, { signal: ac.signal }).catch((e) => e.name);
  ac.abort();
  await pending;
  const it = p.events(a, { readable: true });
  await it.next();
  await it.return();
  // Closed before remove() while a dup keeps the file: the kernel keeps reporting it, and the
  // poller rebuilds its set.
  const [g, gw] = sys.pipe();
  const dup = sys.dup(g);
  p.add(g, { readable: true }, () => {});
  fs.closeSync(g);
  p.remove(g);
  const [k, kw] = sys.pipe();
  const kept = next(p, k, { readable: true });
  byte(gw);
  byte(kw);
  await kept;
  // close() from inside a callback, in the middle of a batch.
  await new Promise((resolve) => {
    for (const [r] of pipes.slice(2)) p.modify(r, { readable: true });
    p.add(a, { readable: true }, () => {
      p.close();
      resolve();
    });
  });
  for (const fd of [...pipes.flat(), a, b, dup, gw, k, kw]) {
    try {
      fs.closeSync(fd);
    } catch {}
  }
  console.log(`workout: ${label} done`);
}

await exercise(Poller, 'uv_poll loop');
await exercise(Threaded, 'waiter-thread loop');

// A worker that watches, then is terminated while its poller is live.
const [wr] = sys.pipe();
const worker = new Worker(
  `const { parentPort, workerData } = require('node:worker_threads');
   import(workerData.linux).then(({ Poller }) => {
     new Poller().add(workerData.fd, { readable: true }, () => {});
     parentPort.postMessage('watching');
   });`,
  { eval: true, workerData: { fd: wr, linux: import.meta.resolve('@poll/linux') } },
);
await new Promise((resolve) => worker.once('message', resolve));
await worker.terminate();
console.log('workout: worker terminated while watching');
