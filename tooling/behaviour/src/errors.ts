import os from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { PollError, type PollerBase } from '@poll/core';
import { closeAll, rawfs, sys, write } from '@poll/testkit';
import { canWatchEdge, recorder, settle, type Target } from './target.js';

export function badInput(target: Target): void {
  describe('bad input gets a typed error and changes nothing', () => {
    const open: number[] = [];
    let poller: PollerBase;
    let canary: ReturnType<typeof recorder>;
    let canaryRead: number;
    let canaryWrite: number;

    // Every test keeps one healthy watch: after each bad call it must still deliver.
    const setup = () => {
      poller = new target.Poller();
      const [r, w] = sys.pipe();
      open.push(r, w);
      canary = recorder();
      poller.add(r, { readable: true, edge: canWatchEdge(target) }, canary.onEvent);
      canaryRead = r;
      canaryWrite = w;
    };
    const canaryStillWorks = async () => {
      expect(poller.size).toBe(1);
      const before = canary.events.length;
      write(canaryWrite, 'x');
      await canary.until(before + 1);
      expect(canary.events.at(-1)).toMatchObject({ fd: canaryRead, readable: true });
    };
    afterEach(() => {
      poller?.close();
      closeAll(open.splice(0));
    });

    it.each([
      ['a negative fd', -1, RangeError, 'ERR_OUT_OF_RANGE'],
      ['a fractional fd', 3.5, RangeError, 'ERR_OUT_OF_RANGE'],
      ['NaN', Number.NaN, RangeError, 'ERR_OUT_OF_RANGE'],
      ['an fd beyond int32', 2 ** 31, RangeError, 'ERR_OUT_OF_RANGE'],
      ['a string fd', '3', TypeError, 'ERR_INVALID_ARG_TYPE'],
      ['an object fd', { fd: 3 }, TypeError, 'ERR_INVALID_ARG_TYPE'],
      ['undefined', undefined, TypeError, 'ERR_INVALID_ARG_TYPE'],
    ])('%s is refused by add(), modify() and remove()', async (_name, fd, type, code) => {
      setup();
      expect(() => poller.add(fd as number, { readable: true }, () => {})).toThrow(type);
      expect(() => poller.add(fd as number, { readable: true }, () => {})).toThrow(expect.objectContaining({ code }));
      expect(() => poller.modify(fd as number, { readable: true })).toThrow(expect.objectContaining({ code }));
      expect(() => poller.remove(fd as number)).toThrow(expect.objectContaining({ code }));
      await canaryStillWorks();
    });

    it.each([
      ['not an object', 'readable', 'ERR_INVALID_ARG_TYPE'],
      ['null', null, 'ERR_INVALID_ARG_TYPE'],
      ['an unknown key', { readable: true, urgent: true }, 'ERR_INVALID_ARG_VALUE'],
      ['a non-boolean value', { readable: 1 }, 'ERR_INVALID_ARG_TYPE'],
      ['nothing to watch for', { edge: true }, 'ERR_INVALID_ARG_VALUE'],
    ])('interest that is %s is refused', async (_name, interest, code) => {
      setup();
      const [r, w] = sys.pipe();
      open.push(r, w);
      expect(() => poller.add(r, interest as never, () => {})).toThrow(expect.objectContaining({ code }));
      expect(poller.size).toBe(1);
      await canaryStillWorks();
    });

    it('a missing callback is refused', async () => {
      setup();
      const [r, w] = sys.pipe();
      open.push(r, w);
      expect(() => poller.add(r, { readable: true }, undefined as never)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
      );
      await canaryStillWorks();
    });

    it('a closed descriptor: PollError EBADF from the kernel, with errno, syscall and fd', async () => {
      setup();
      const [r, w] = sys.pipe();
      rawfs.closeSync(r);
      rawfs.closeSync(w);
      let caught: unknown;
      try {
        poller.add(r, { readable: true }, () => {});
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(PollError);
      const err = caught as PollError;
      expect(err).toMatchObject({ code: 'EBADF', errno: -os.constants.errno.EBADF, fd: r });
      expect(['epoll_ctl', 'kevent']).toContain(err.syscall);
      expect(err.message).toContain('EBADF');
      expect(err.message).toContain(`fd ${r}`);
      await canaryStillWorks();
    });

    it('once() and events() on a closed descriptor reject with PollError EBADF, never throw', async () => {
      setup();
      const [r, w] = sys.pipe();
      rawfs.closeSync(r);
      rawfs.closeSync(w);
      let promise: Promise<unknown> | undefined;
      let iterator: AsyncIterator<unknown> | undefined;
      expect(() => (promise = poller.once(r, { readable: true }))).not.toThrow();
      await expect(promise).rejects.toMatchObject({ name: 'PollError', code: 'EBADF', fd: r });
      expect(() => (iterator = poller.events(r, { readable: true }))).not.toThrow();
      await expect(iterator!.next()).rejects.toMatchObject({ name: 'PollError', code: 'EBADF', fd: r });
      expect(await iterator!.next()).toEqual({ value: undefined, done: true });
      await canaryStillWorks();
    });

    it('an integral fd nobody has open: EBADF, not a crash', async () => {
      setup();
      expect(() => poller.add(2 ** 31 - 1, { readable: true }, () => {})).toThrow(expect.objectContaining({ code: 'EBADF' }));
      await canaryStillWorks();
    });

    it('adding the same fd twice: ERR_POLL_ALREADY_WATCHED, the first watch keeps its callback', async () => {
      setup();
      const second = recorder();
      expect(() => poller.add(canaryRead, { readable: true }, second.onEvent)).toThrow(
        expect.objectContaining({ code: 'ERR_POLL_ALREADY_WATCHED' }),
      );
      await canaryStillWorks();
      expect(second.events.length).toBe(0);
    });

    it('a refused modify() leaves the registration as it was', async () => {
      setup();
      expect(() => poller.modify(canaryRead, { readable: true, bogus: true } as never)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
      );
      expect(() => poller.modify(999, { readable: true })).toThrow(expect.objectContaining({ code: 'ERR_POLL_NOT_WATCHED' }));
      await canaryStillWorks();
    });

    it('remove() of an unwatched fd returns false; removing a closed one still ends its watch', async () => {
      setup();
      expect(poller.remove(12345)).toBe(false);
      const [r, w] = sys.pipe();
      poller.add(r, { readable: true }, () => {});
      expect(poller.size).toBe(2);
      rawfs.closeSync(r); // the kernel drops the registration with the descriptor
      rawfs.closeSync(w);
      expect(poller.remove(r)).toBe(true);
      expect(poller.size).toBe(1);
      await canaryStillWorks();
    });

    it('a Watch is dead once removed: rearm() on a level watch and modify() after remove() are refused', async () => {
      setup();
      const [r, w] = sys.pipe();
      open.push(r, w);
      const watch = poller.add(r, { readable: true }, () => {});
      expect(() => watch.rearm()).toThrow(expect.objectContaining({ code: 'ERR_POLL_NOT_ONESHOT' }));
      watch.remove();
      watch.remove();
      expect(() => watch.modify({ writable: true })).toThrow(expect.objectContaining({ code: 'ERR_POLL_NOT_WATCHED' }));
      await canaryStillWorks();
    });

    it('options: maxEvents must be an integer from 1 to 65536', () => {
      for (const maxEvents of [0, -1, 1.5, 65537]) {
        expect(() => new target.Poller({ maxEvents })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
      }
      expect(() => new target.Poller({ maxEvents: '8' as never })).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
      );
    });

    it('use after close: ERR_POLL_CLOSED everywhere, close() itself idempotent, no more events', async () => {
      setup();
      const [r, w] = sys.pipe();
      open.push(r, w);
      poller.close();
      poller.close();
      expect(poller.closed).toBe(true);
      expect(poller.size).toBe(0);
      expect(poller.fd).toBe(-1);
      const closed = expect.objectContaining({ code: 'ERR_POLL_CLOSED' });
      expect(() => poller.add(r, { readable: true }, () => {})).toThrow(closed);
      expect(() => poller.modify(r, { readable: true })).toThrow(closed);
      expect(() => poller.remove(r)).toThrow(closed);
      await expect(poller.once(r, { readable: true })).rejects.toEqual(closed);
      await expect(poller.events(r, { readable: true }).next()).rejects.toEqual(closed);
      const before = canary.events.length;
      write(canaryWrite, 'x');
      expect(await settle(canary)).toBe(before);
    });
  });
}
