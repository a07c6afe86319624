import { afterEach, describe, expect, it } from 'vitest';
import type { PollerBase } from '@poll/core';
import { closeAll, closeFrom, fill, read, sys, write } from '@poll/testkit';
import { canWatchEdge, canWatchPriority, expectEdgeRefused, recorder, reportOnce, settle, type Target } from './target.js';

export function modes(target: Target): void {
  describe('trigger modes and event kinds on real descriptors', () => {
    const open: number[] = [];
    const pollers: PollerBase[] = [];
    const pipe = () => {
      const fds = sys.pipe();
      open.push(...fds);
      return fds;
    };
    const poller = (options?: { maxEvents?: number }) => {
      const p = new target.Poller(options);
      pollers.push(p);
      return p;
    };
    afterEach(() => {
      for (const p of pollers.splice(0)) p.close();
      closeAll(open.splice(0));
    });

    it('level-triggered: repeats while data is unread, stops once drained', async () => {
      const p = poller();
      const [r, w] = pipe();
      const rec = recorder();
      p.add(r, { readable: true }, rec.onEvent);
      write(w, 'abc');
      await rec.until(3); // the same unread data, reported again and again
      expect(rec.events.every((e) => e.fd === r && e.readable && !e.writable && !e.hangup)).toBe(true);
      expect(read(r)).toBe('abc');
      const settled = await settle(rec);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(rec.events.length).toBe(settled);
    });

    it('edge-triggered: once per change, not while the data sits unread', async () => {
      if (!canWatchEdge(target)) return expectEdgeRefused(poller(), pipe()[0]);
      const p = poller();
      const [r, w] = pipe();
      const rec = recorder();
      p.add(r, { readable: true, edge: true }, rec.onEvent);
      write(w, 'a');
      await rec.until(1);
      expect(await settle(rec)).toBe(1);
      write(w, 'b'); // a new change: one more event although 'a' is still unread
      await rec.until(2);
      expect(await settle(rec)).toBe(2);
      expect(read(r)).toBe('ab');
    });

    it('oneshot: one event, then silent until rearm()', async () => {
      const p = poller();
      const [r, w] = pipe();
      const rec = recorder();
      const watch = p.add(r, { readable: true, oneshot: true }, rec.onEvent);
      write(w, 'a');
      await rec.until(1);
      expect(await settle(rec)).toBe(1);
      write(w, 'b');
      expect(await settle(rec)).toBe(1);
      watch.rearm(); // still readable, so the kernel reports it again
      await rec.until(2);
      expect(await settle(rec)).toBe(2);
      expect(p.size).toBe(1);
    });

    it('oneshot disarms the whole watch, readable and writable together, until rearm()', async () => {
      // kqueue registers one filter per kind: had they been added in two kevent() calls, the
      // waiter thread could report the first alone and disarm the second. Several rounds make
      // that race show.
      const p = poller();
      for (let round = 0; round < 10; round++) {
        const [a, b] = sys.socketpair();
        open.push(a, b);
        write(b, 'x'); // a is readable and writable
        const rec = recorder();
        const watch = p.add(a, { readable: true, writable: true, oneshot: true }, rec.onEvent);
        await rec.until(1);
        expect(await settle(rec)).toBe(1);
        expect(rec.events[0]).toMatchObject({ fd: a, readable: true, writable: true });
        watch.rearm();
        await rec.until(2);
        expect(await settle(rec)).toBe(2);
        expect(rec.events[1]).toMatchObject({ fd: a, readable: true, writable: true });
        watch.remove();
      }
    });

    it('modify() changes the trigger mode of a live watch: oneshot to level to edge', async () => {
      if (!canWatchEdge(target)) return expectEdgeRefused(poller(), pipe()[0]);
      const p = poller();
      const [r, w] = pipe();
      const rec = recorder();
      p.add(r, { readable: true, oneshot: true }, rec.onEvent);
      write(w, 'a');
      await rec.until(1);
      expect(await settle(rec)).toBe(1);
      p.modify(r, { readable: true }); // level: the unread data is reported again and again
      await rec.until(4);
      p.modify(r, { readable: true, edge: true }); // edge: quiet while nothing changes
      const quiet = await settle(rec);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(rec.events.length).toBe(quiet);
      write(w, 'b');
      await rec.until(quiet + 1);
      expect(await settle(rec)).toBe(quiet + 1);
      expect(read(r)).toBe('ab');
    });

    it('writable: reported while there is room, not when the pipe is full, again once drained', async () => {
      const p = poller();
      const [r, w] = pipe();
      const rec = recorder();
      const watch = p.add(w, { writable: true }, rec.onEvent);
      await rec.until(1);
      expect(rec.events[0]).toMatchObject({ fd: w, writable: true, readable: false });
      watch.remove();
      fill(w);
      const full = recorder();
      p.add(w, { writable: true }, full.onEvent);
      expect(await settle(full)).toBe(0);
      while (read(r)) {
        // drain
      }
      await full.until(1);
      expect(full.events[0]!.writable).toBe(true);
    });

    it('modify() switches interest from readable to writable on the live registration', async () => {
      const p = poller();
      const [a, b] = sys.socketpair();
      open.push(a, b);
      const rec = recorder();
      p.add(a, { readable: true }, rec.onEvent);
      expect(await settle(rec)).toBe(0); // nothing to read yet
      p.modify(a, { writable: true });
      await rec.until(1);
      expect(rec.events[0]).toMatchObject({ fd: a, writable: true, readable: false });
    });

    it('hangup: the read end reports hangup when the last writer closes', async () => {
      const p = poller();
      const [r, w] = pipe();
      const rec = recorder();
      p.add(r, { readable: true }, rec.onEvent);
      closeFrom(open, w);
      await rec.until(1);
      expect(rec.events[0]).toMatchObject({ fd: r, hangup: true });
    });

    it('hangup is level-triggered: reported every turn until removed; the documented reader loop ends at end of file', async () => {
      const p = poller();
      const [r, w] = pipe();
      write(w, 'abc');
      closeFrom(open, w);
      const rec = recorder();
      const watch = p.add(r, { readable: true }, rec.onEvent);
      await rec.until(3); // nothing read: reported again and again
      expect(rec.events.every((e) => e.fd === r && e.hangup)).toBe(true);
      watch.remove();
      // docs/API.md's loop: read what each event brings, stop at end of file. Had it stopped
      // only on a hangup without data, or never, it would spin here.
      const got: string[] = [];
      let events = 0;
      for await (const _ of p.events(r, { readable: true })) {
        events++;
        const chunk = read(r);
        if (chunk === null) break; // end of file
        got.push(chunk);
      }
      expect(got.join('')).toBe('abc');
      expect(events).toBe(2);
      expect(p.size).toBe(0);
    });

    it('hangup: a socket reports the peer closing', async () => {
      const p = poller();
      const [a, b] = sys.socketpair();
      open.push(a, b);
      const rec = recorder();
      p.add(a, { readable: true }, rec.onEvent);
      closeFrom(open, b);
      await rec.until(1);
      expect(rec.events[0]).toMatchObject({ fd: a, readable: true, hangup: true });
    });

    it('the writing end of a pipe whose reader is gone reports error or hangup', async () => {
      const p = poller();
      const [r, w] = pipe();
      closeFrom(open, r);
      const rec = recorder();
      p.add(w, { writable: true }, rec.onEvent);
      await rec.until(1);
      expect(rec.events[0]!.fd).toBe(w);
      // epoll says EPOLLERR, kqueue says EV_EOF: both tell the writer to stop.
      expect(rec.events[0]!.error || rec.events[0]!.hangup).toBe(true);
    });

    it('priority: TCP urgent data is reported as priority, or refused up front where unsupported', async () => {
      const p = poller();
      // A real TCP connection over loopback, made natively (Deno's net sockets expose no fd).
      const [fd, clientFd] = sys.tcpPair();
      try {
        if (!canWatchPriority(target)) {
          expect(() => p.add(fd, { priority: true }, () => {})).toThrow(
            expect.objectContaining({ code: 'ERR_POLL_UNSUPPORTED' }),
          );
          expect(p.size).toBe(0);
          return;
        }
        const rec = recorder();
        p.add(fd, { priority: true }, rec.onEvent);
        expect(await settle(rec)).toBe(0);
        sys.sendOob(clientFd);
        await rec.until(1);
        expect(rec.events[0]).toMatchObject({ fd, priority: true });
        p.remove(fd);
      } finally {
        closeAll(fd, clientFd);
      }
    });

    it('edge events caused by callbacks, one after another for longer than one wakeup, are all delivered', async () => {
      // Each callback makes the next descriptor ready: one batch each, far more batches than a
      // loop drains per wakeup (16) before it yields. An edge event is reported once only, so a
      // batch taken from the kernel and not dispatched would stop the chain for good.
      const p = poller();
      const links = Array.from({ length: 60 }, () => pipe());
      let reached = 0;
      const done = new Promise<void>((resolve) => {
        links.forEach(([r], i) => {
          p.add(r, { readable: true, ...reportOnce(target) }, () => {
            reached = Math.max(reached, i + 1);
            if (i + 1 < links.length) write(links[i + 1]![1], 'x');
            else resolve();
          });
        });
      });
      write(links[0]![1], 'x');
      await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 5000))]);
      expect(reached).toBe(links.length);
    });

    it('delivers many ready descriptors in few JS calls: one per kernel batch', async () => {
      const count = 256;
      for (const maxEvents of [1024, 64]) {
        const p = poller({ maxEvents });
        let seen = 0;
        let calls = 0;
        let inCall = false;
        // Microtasks run after each call from the native side, so a new call starts wherever
        // the previous callback's microtask has run.
        const onEvent = (): void => {
          seen++;
          if (!inCall) {
            inCall = true;
            calls++;
            queueMicrotask(() => (inCall = false));
          }
        };
        const writers: number[] = [];
        for (let i = 0; i < count; i++) {
          const [r, w] = pipe();
          p.add(r, { readable: true, ...reportOnce(target) }, onEvent);
          writers.push(w);
        }
        for (const w of writers) write(w, 'x');
        while (seen < count) await new Promise((resolve) => setTimeout(resolve, 1));
        expect(seen).toBe(count);
        // Never one call per event: at most as many calls as full batches, plus stragglers
        // the kernel had not yet queued when the first batch was taken.
        expect(calls).toBeGreaterThanOrEqual(Math.ceil(count / maxEvents));
        expect(calls).toBeLessThanOrEqual(Math.ceil(count / maxEvents) + 2);
      }
    });
  });
}
