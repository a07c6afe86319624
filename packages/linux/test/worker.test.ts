import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { Poller } from '@poll/linux';
import { closeAll, fdTarget, sys, write } from '@poll/testkit';
import { recorder } from './helpers.js';

const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'worker-poller.mjs');

type Message =
  | { type: 'ready'; pollerFd: number; pipe: [number, number] }
  | { type: 'event'; event: { fd: number; readable: boolean }; bytes: number };

function nextMessage(worker: Worker): Promise<Message> {
  return new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

describe('worker threads', () => {
  it('a poller in a worker delivers on the worker\'s own loop, and terminate() closes its descriptor', async () => {
    const worker = new Worker(fixture);
    const ready = (await nextMessage(worker)) as Extract<Message, { type: 'ready' }>;
    expect(ready.type).toBe('ready');
    // Threads share the descriptor table: the worker's epoll fd is visible from here.
    expect(fdTarget(ready.pollerFd)).toBe('anon_inode:[eventpoll]');

    worker.postMessage('write');
    const got = (await nextMessage(worker)) as Extract<Message, { type: 'event' }>;
    expect(got).toMatchObject({ type: 'event', event: { fd: ready.pipe[0], readable: true }, bytes: 4 });

    // Meanwhile a poller on the main thread is unaffected.
    using main = new Poller();
    const [r] = ready.pipe;
    expect(main.fd).not.toBe(ready.pollerFd);

    await worker.terminate();
    // The environment cleanup hook closed the worker's poller (and nothing reused the number).
    expect(fdTarget(ready.pollerFd)).not.toBe('anon_inode:[eventpoll]');
    expect(fdTarget(r)).toMatch(/^pipe:/); // the worker's pipes were the test's to close, not ours
  });

  it('many workers start, poll and terminate without leaking epoll descriptors or crashing', async () => {
    const rounds = 8;
    const fds: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const worker = new Worker(fixture);
      const ready = (await nextMessage(worker)) as Extract<Message, { type: 'ready' }>;
      worker.postMessage('write');
      await nextMessage(worker);
      fds.push(ready.pollerFd);
      await worker.terminate();
      expect(fdTarget(ready.pollerFd)).not.toBe('anon_inode:[eventpoll]');
    }
    expect(fds).toHaveLength(rounds);
    // The main thread still polls.
    using main = new Poller();
    const rec = recorder();
    const [r, w] = sys.pipe();
    main.add(r, { readable: true }, rec.onEvent);
    write(w, 'x');
    await rec.until(1);
    closeAll(r, w);
  });
});
