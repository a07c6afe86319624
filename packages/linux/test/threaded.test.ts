// The behaviour suite through the waiter-thread loop integration that @poll/bsd uses, here on
// epoll: the thread hand-off, dispatch-before-rewait and shutdown run on a real kernel.
import { behaviourSuite, targetFor } from '@poll/behaviour';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runNode } from '@poll/testkit';

behaviourSuite(await targetFor('epoll behind a waiter thread (the kqueue loop integration)', './fixtures/thread-poller.mjs', import.meta.url));

const misuse = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'threaded-misuse.mjs');

describe('the waiter thread under misuse', () => {
  it("its wake-up descriptor is refused to the application, so close() can always wake it", async () => {
    const result = await runNode(misuse, ['wake']);
    expect(result.json).toEqual({ found: true, add: 'EBADF', closedWithin: true });
  });

  it('a kernel wait that fails is raised as an uncaught error with code, errno and syscall', async () => {
    const result = await runNode(misuse, ['closed']);
    expect(result.json).toEqual({ code: 'EBADF', errno: -9, syscall: 'epoll_wait' });
  });

  it('after a failed wait, ref() no longer holds the loop open: the thread that would wake it is gone', async () => {
    const result = await runNode(misuse, ['ref-after-fail'], { timeout: 4000 });
    expect(result.signal).toBeNull(); // not killed at the timeout: it exited by itself
    expect(result.json).toEqual({ exitedByItself: true, hasRef: true });
  });
});
