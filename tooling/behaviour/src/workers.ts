import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { closeAll, isOpen, runNode, sys, write } from '@poll/testkit';
import { recorder, type Target } from './target.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const fixture = path.join(fixtures, 'worker-poller.mjs');

type Ready = { type: 'ready'; pollerFd: number; pipe: [number, number] };
type Got = { type: 'event'; event: { fd: number; readable: boolean }; bytes: number };

/**
 * Whether `fd` is closed within a few seconds. Node has torn a worker's environment down (its
 * cleanup hooks run) by the time terminate() resolves; Deno resolves first and tears it down
 * moments later (seen here: up to a second or two under load). Either way the descriptor must
 * be closed, and a number reused meanwhile would show as open, not closed.
 */
async function closedSoon(fd: number): Promise<boolean> {
  for (let i = 0; i < 500 && isOpen(fd); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  return !isOpen(fd);
}

function nextMessage<T>(worker: Worker): Promise<T> {
  return new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

export function workers(target: Target): void {
  describe('worker threads', () => {
    const start = () => new Worker(fixture, { workerData: { module: target.module } });

    it("a poller in a worker delivers on the worker's own loop, and terminate() closes its descriptor", async () => {
      const worker = start();
      const ready = await nextMessage<Ready>(worker);
      // Threads share the descriptor table: the worker's poller fd is visible from here.
      expect(isOpen(ready.pollerFd)).toBe(true);
      worker.postMessage('write');
      const got = await nextMessage<Got>(worker);
      expect(got).toMatchObject({ type: 'event', event: { fd: ready.pipe[0], readable: true }, bytes: 4 });

      using main = new target.Poller();
      expect(main.fd).not.toBe(ready.pollerFd);

      await worker.terminate();
      // The environment's cleanup closed the worker's poller; its pipes were the worker's own
      // descriptors, not the poller's, and stay open.
      expect(await closedSoon(ready.pollerFd)).toBe(true);
      expect(isOpen(ready.pipe[0])).toBe(true);
      closeAll(ready.pipe);
    });

    it('workers start, poll and terminate one after another without leaking or crashing', async () => {
      for (let i = 0; i < 8; i++) {
        const worker = start();
        const ready = await nextMessage<Ready>(worker);
        worker.postMessage('write');
        await nextMessage<Got>(worker);
        await worker.terminate();
        expect(await closedSoon(ready.pollerFd)).toBe(true);
        closeAll(ready.pipe);
      }
      // The main thread still polls.
      using main = new target.Poller();
      const rec = recorder();
      const [r, w] = sys.pipe();
      main.add(r, { readable: true }, rec.onEvent);
      write(w, 'x');
      await rec.until(1);
      closeAll(r, w);
    });

    it(
      'hundreds of workers terminated mid-callback (closing and re-adding) never abort the process',
      { timeout: 120_000 },
      async () => {
        // terminate() forbids JS in the worker while a callback may still be running: every
        // native call made then must fail quietly, not abort (node-addon-api's
        // NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS; without it about half of these runs abort).
        const result = await runNode(path.join(fixtures, 'terminate-stress.mjs'), [target.module, '300'], {
          timeout: 110_000,
        });
        expect(result.stderr).not.toContain('FATAL ERROR');
        expect(result).toMatchObject({ code: 0, signal: null, json: { terminated: 300 } });
      },
    );

    it('a worker terminated while its poller is busy delivering does not crash the process', async () => {
      for (let i = 0; i < 4; i++) {
        const worker = start();
        const ready = await nextMessage<Ready>(worker);
        worker.postMessage('flood');
        expect(await nextMessage<{ type: string }>(worker)).toEqual({ type: 'flooding' });
        await worker.terminate();
        expect(await closedSoon(ready.pollerFd)).toBe(true);
        closeAll(ready.pipe);
      }
    });
  });
}
