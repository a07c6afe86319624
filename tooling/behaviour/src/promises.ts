import { afterEach, describe, expect, it } from 'vitest';
import type { PollerBase, PollEvent } from '@poll/core';
import { closeAll, closeFrom, rawfs, read, sys, write } from '@poll/testkit';
import { recorder, reportOnce, settle, type Target } from './target.js';

export function promises(target: Target): void {
  describe('once() and events() on real descriptors', () => {
    const open: number[] = [];
    let poller: PollerBase;
    const pipe = () => {
      const fds = sys.pipe();
      open.push(...fds);
      return fds;
    };
    afterEach(() => {
      poller?.close();
      closeAll(open.splice(0));
    });

    it('once() resolves with the event and ends its watch', async () => {
      poller = new target.Poller();
      const [r, w] = pipe();
      const pending = poller.once(r, { readable: true });
      expect(poller.size).toBe(1);
      write(w, 'x');
      await expect(pending).resolves.toMatchObject({ fd: r, readable: true });
      expect(poller.size).toBe(0);
      // The fd can be watched again right away.
      await expect(poller.once(r, { readable: true })).resolves.toMatchObject({ fd: r });
    });

    it('once() rejects with AbortError on abort and leaves nothing registered', async () => {
      poller = new target.Poller();
      const [r] = pipe();
      const ac = new AbortController();
      const pending = poller.once(r, { readable: true }, { signal: ac.signal });
      ac.abort();
      await expect(pending).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
      expect(poller.size).toBe(0);
      await expect(poller.once(r, { readable: true }, { signal: AbortSignal.abort() })).rejects.toMatchObject({
        name: 'AbortError',
      });
      expect(poller.size).toBe(0);
    });

    it('close() rejects a pending once() with ERR_POLL_CLOSED', async () => {
      poller = new target.Poller();
      const [r] = pipe();
      const pending = poller.once(r, { readable: true });
      poller.close();
      await expect(pending).rejects.toMatchObject({ code: 'ERR_POLL_CLOSED' });
    });

    it('events() yields each readiness as the consumer asks for it, and ends its watch on break', async () => {
      poller = new target.Poller();
      const [r, w] = pipe();
      const got: string[] = [];
      const words = ['one', 'two', 'three'];
      setTimeout(() => write(w, words[0]), 5);
      for await (const event of poller.events(r, { readable: true })) {
        expect(event).toMatchObject({ fd: r, readable: true });
        got.push(read(r)!);
        if (got.length === words.length) break;
        setTimeout(() => write(w, words[got.length]), 5);
      }
      expect(got).toEqual(words);
      expect(poller.size).toBe(0);
    });

    it('events() on a level watch does not pile up events while the consumer is busy', async () => {
      poller = new target.Poller();
      const [r, w] = pipe();
      const it = poller.events(r, { readable: true });
      write(w, 'x');
      const first = await it.next();
      expect(first.value).toMatchObject({ readable: true });
      // Nobody asks for a while: the watch is disarmed, so however long the data sits unread,
      // nothing is queued...
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(read(r)).toBe('x');
      // ...and once it is read, the next next() waits for new data instead of yielding a stale
      // event from the busy period.
      const second = it.next();
      let settled = false;
      void second.then(() => (settled = true));
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(settled).toBe(false);
      write(w, 'y');
      expect((await second).value).toMatchObject({ readable: true });
      expect(read(r)).toBe('y');
      await it.return!();
      expect(poller.size).toBe(0);
    });

    it('events() rejects on abort, then is done', async () => {
      poller = new target.Poller();
      const [r] = pipe();
      const ac = new AbortController();
      const it = poller.events(r, { readable: true }, { signal: ac.signal });
      const next = it.next();
      ac.abort();
      await expect(next).rejects.toMatchObject({ name: 'AbortError' });
      await expect(it.next()).resolves.toEqual({ value: undefined, done: true });
      expect(poller.size).toBe(0);
    });
  });

  describe('events never reach the wrong owner', () => {
    const open: number[] = [];
    let poller: PollerBase;
    afterEach(() => {
      poller?.close();
      closeAll(open.splice(0));
    });

    it('a callback is never called synchronously inside add()', () => {
      poller = new target.Poller();
      const [r, w] = sys.pipe();
      open.push(r, w);
      write(w, 'ready before add');
      let called = false;
      poller.add(r, { readable: true }, () => (called = true));
      expect(called).toBe(false);
    });

    it('an fd number closed and reused inside a batch: the new owner gets none of the old events', async () => {
      poller = new target.Poller();
      const first = sys.pipe();
      const second = sys.pipe();
      open.push(...first, ...second);
      const reused = recorder();
      const old = recorder();
      let reusedFd = -1;
      // Both pipes are ready in the same batch. Whichever callback runs first closes the
      // other pipe's read end, opens a new pipe on the same number and watches it.
      const onEvent = (other: number) => (event: PollEvent) => {
        old.onEvent(event);
        if (reusedFd !== -1) return;
        poller.remove(other);
        closeFrom(open, other);
        // The kernel hands out the lowest free number, which is `other`'s unless another thread
        // has just freed a lower one (libkqueue closes descriptors of its own in the background):
        // take pipes until a read end lands on it.
        let nr = -1;
        for (let tries = 0; tries < 64 && nr !== other; tries++) {
          const [a, b] = sys.pipe();
          if (b === other) {
            rawfs.closeSync(b); // a write end there is no use: give the number back
            open.push(a);
            continue;
          }
          open.push(a, b);
          nr = a;
        }
        expect(nr).toBe(other);
        reusedFd = nr;
        poller.add(nr, { readable: true }, reused.onEvent);
      };
      poller.add(first[0], { readable: true, ...reportOnce(target) }, onEvent(second[0]));
      poller.add(second[0], { readable: true, ...reportOnce(target) }, onEvent(first[0]));
      write(first[1], 'x');
      write(second[1], 'x');
      await old.until(1);
      await settle(old);
      // The new pipe was never written: any event its callback saw would be a stale one.
      expect(reused.events).toEqual([]);
      expect(old.events.length).toBe(1);
    });
  });
}
