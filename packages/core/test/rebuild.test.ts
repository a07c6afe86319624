// When the kernel keeps reporting a watch that could not be deleted (its fd was closed first
// while a dup kept the file open), the poller moves to a fresh kernel set.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Bits, PollerBase, type Backend, type NativePoller } from '../src/index.js';
import { E } from './fake-backend.js';

const { READABLE: R, ONESHOT } = Bits;

/** A backend whose every native poller keeps its own set, as separate epoll instances do. */
class Instances implements Backend {
  readonly name = 'epoll' as const;
  readonly supported = Object.values(Bits).reduce((a, b) => a | b, 0);
  readonly bits = { ...Bits };
  readonly natives: Array<{ fd: number; set: Map<number, { mask: number; token: number }>; closed: boolean; pinned: boolean; refed: boolean }> = [];
  /** fds whose add() fails with EBADF (closed by the user without remove()). */
  readonly closedFds = new Set<number>();
  /** fds whose remove() fails with EBADF but whose registration the kernel keeps. */
  readonly ghostly = new Set<number>();
  /** errno that add() fails with on the next native created (a fresh set), for all fds. */
  failFreshAdds: number | undefined;
  buffer!: Int32Array;
  onBatch!: (count: number) => void;
  create(buffer: Int32Array, onBatch: (count: number) => void): NativePoller {
    // No such fd exists here, so there is no /proc record of the set to consult.
    const state = { fd: 1_000_000 + this.natives.length, set: new Map(), closed: false, pinned: false, refed: false };
    this.natives.push(state);
    this.buffer = buffer;
    this.onBatch = onBatch;
    const fail = (errno: number, fd: number) => ({ errno, syscall: 'epoll_ctl', fd, message: 'fake' });
    const backend = this;
    return {
      get fd() {
        return state.fd;
      },
      add(fd, mask, token) {
        if (backend.closedFds.has(fd)) throw fail(E.EBADF, fd);
        if (backend.failFreshAdds !== undefined && backend.natives.length > 1) throw fail(backend.failFreshAdds, fd);
        state.set.set(fd, { mask, token });
      },
      modify(fd, mask, token) {
        if (!state.set.has(fd)) throw fail(E.ENOENT, fd);
        state.set.set(fd, { mask, token });
      },
      remove(fd) {
        if (backend.ghostly.has(fd)) throw fail(E.EBADF, fd); // and it stays in state.set
        state.set.delete(fd);
      },
      ref: () => void (state.refed = true),
      unref: () => void (state.refed = false),
      pin: (on) => void (state.pinned = on),
      close: () => void (state.closed = true),
    };
  }

  get current() {
    return this.natives.at(-1)!;
  }

  /** One batch: whatever the current set holds for these fds (ghosts included). */
  fire(fds: number[]): void {
    fds.forEach((fd, i) => {
      const reg = this.current.set.get(fd)!;
      this.buffer.set([fd, reg.token, R], i * 3);
    });
    this.onBatch(fds.length);
  }
}

afterEach(() => vi.restoreAllMocks());

describe('rebuilding the kernel set around a registration nobody can delete', () => {
  it('an event for a watch whose removal failed with EBADF moves every live watch to a fresh set', async () => {
    const backend = new Instances();
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const poller = new PollerBase(backend);
    const got: number[] = [];
    poller.add(3, { readable: true }, (e) => got.push(e.fd));
    poller.add(4, { readable: true, writable: true }, (e) => got.push(e.fd));
    const token3 = backend.current.set.get(3)!.token;
    const token4 = backend.current.set.get(4)!.token;
    backend.ghostly.add(3);
    expect(poller.remove(3)).toBe(true);
    expect(backend.natives).toHaveLength(1);

    backend.fire([3, 4]); // the ghost, and a live watch in the same batch
    expect(got).toEqual([4]);
    expect(backend.natives).toHaveLength(2);
    const [old, fresh] = backend.natives;
    expect(old!.closed).toBe(true);
    expect([...fresh!.set.entries()]).toEqual([[4, { mask: R | Bits.WRITABLE, token: token4 }]]);
    expect(fresh!.set.has(3)).toBe(false);
    expect(token3).not.toBe(token4);
    expect(poller.fd).toBe(fresh!.fd);
    await null; // ref and pin reach the native side in a microtask
    expect(fresh!.pinned).toBe(true);
    expect(fresh!.refed).toBe(true);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('fd 3 was closed before remove()'), { code: 'POLL_REBUILT' });

    backend.fire([4]);
    expect(got).toEqual([4, 4]);
  });

  it("add()'s onEnd hears that the rebuild ended its watch (fd closed without remove()), with ERR_POLL_NOT_WATCHED, once", () => {
    const backend = new Instances();
    vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const poller = new PollerBase(backend);
    const ends: string[] = [];
    poller.add(3, { readable: true }, () => {});
    poller.add(6, { readable: true }, () => {}, { onEnd: (e) => ends.push(`6 ${(e as Error & { code: string }).code}`) });
    poller.add(7, { readable: true }, () => {}, { onEnd: (e) => ends.push(`7 ${(e as Error & { code: string }).code}`) });
    backend.closedFds.add(6); // closed by its owner without remove(): the fresh set refuses it
    backend.ghostly.add(3);
    poller.remove(3);
    backend.fire([3]);
    expect(backend.natives).toHaveLength(2);
    expect(ends).toEqual(['6 ERR_POLL_NOT_WATCHED']); // 7 moved to the new set: not ended
    expect(poller.size).toBe(1);
    poller.close();
    expect(ends).toEqual(['6 ERR_POLL_NOT_WATCHED', '7 ERR_POLL_CLOSED']);
  });

  it('a rebuild tells every ended watch, each by its fd, even when one onEnd throws (an uncaught exception after it)', () => {
    const backend = new Instances();
    vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const poller = new PollerBase(backend);
    const boom = new Error('boom from onEnd');
    const reasons: string[] = [];
    poller.add(3, { readable: true }, () => {});
    poller.add(5, { readable: true }, () => {}, {
      onEnd: () => {
        throw boom;
      },
    });
    poller.add(6, { readable: true }, () => {}, { onEnd: (e) => reasons.push(`${e.code}: ${e.message}`) });
    backend.closedFds.add(5);
    backend.closedFds.add(6);
    backend.ghostly.add(3);
    poller.remove(3);
    const scheduled: Array<[(...args: unknown[]) => unknown, unknown[]]> = [];
    const spy = vi.spyOn(process, 'nextTick').mockImplementation(((fn: (...a: unknown[]) => unknown, ...args: unknown[]) => {
      scheduled.push([fn, args]);
    }) as never);
    try {
      backend.fire([3]);
    } finally {
      spy.mockRestore();
    }
    expect(backend.natives).toHaveLength(2); // the rebuild finished
    expect(reasons).toEqual(['ERR_POLL_NOT_WATCHED: fd 6 was closed without remove() and is no longer watched']);
    expect(poller.size).toBe(0);
    expect(poller.fd).toBe(backend.current.fd);
    expect(scheduled).toHaveLength(1);
    const [fn, args] = scheduled[0]!;
    expect(() => fn(...args)).toThrow(boom);
    poller.close();
  });

  it('a stale event after an ordinary removal does not rebuild', () => {
    const backend = new Instances();
    const poller = new PollerBase(backend);
    poller.add(3, { readable: true }, () => {});
    const token = backend.current.set.get(3)!.token;
    poller.remove(3);
    backend.current.set.set(3, { mask: R, token }); // as if queued before the removal
    backend.fire([3]);
    expect(backend.natives).toHaveLength(1);
  });

  it('a oneshot that fired stays disarmed across the rebuild until rearm() adds it back', () => {
    const backend = new Instances();
    vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const poller = new PollerBase(backend);
    const watch = poller.add(5, { readable: true, oneshot: true }, () => {});
    poller.add(3, { readable: true }, () => {});
    backend.fire([5]); // fired: the kernel has disarmed it
    backend.ghostly.add(3);
    poller.remove(3);
    backend.fire([3]);
    expect(backend.natives).toHaveLength(2);
    expect(backend.current.set.has(5)).toBe(false);
    watch.rearm();
    expect(backend.current.set.get(5)).toMatchObject({ mask: R | ONESHOT });
    expect(poller.size).toBe(1);
  });

  it('watches whose fd was closed without remove() end with the rebuild', async () => {
    const backend = new Instances();
    vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const poller = new PollerBase(backend);
    poller.add(3, { readable: true }, () => {});
    const pending = poller.once(6, { readable: true });
    backend.ghostly.add(3);
    poller.remove(3);
    backend.closedFds.add(6);
    backend.fire([3]);
    await expect(pending).rejects.toMatchObject({ code: 'ERR_POLL_NOT_WATCHED' });
    expect(poller.size).toBe(0);
    await null;
    expect(backend.current.pinned).toBe(false);
  });

  it("an orphan's stale event in the batch that orphaned it is not a ghost", () => {
    const backend = new Instances();
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const poller = new PollerBase(backend);
    poller.add(3, { readable: true }, () => {
      // closed and removed inside the batch: EBADF from the kernel
      backend.ghostly.add(4);
      poller.remove(4);
    });
    poller.add(4, { readable: true }, () => {});
    backend.fire([3, 4]); // 4's event was already in this batch
    expect(backend.natives).toHaveLength(1);
    expect(warn).not.toHaveBeenCalled();
  });

  it('a fresh set that cannot take every watch (ENOSPC) is dropped: the old set stays whole', async () => {
    const backend = new Instances();
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const poller = new PollerBase(backend);
    poller.add(3, { readable: true }, () => {});
    poller.add(5, { readable: true }, () => {});
    backend.ghostly.add(3);
    poller.remove(3);
    backend.failFreshAdds = E.ENOSPC;
    backend.fire([3]);
    expect(backend.natives).toHaveLength(2);
    expect(backend.natives[1]!.closed).toBe(true);
    expect(backend.natives[0]!.closed).toBe(false);
    expect(poller.fd).toBe(backend.natives[0]!.fd);
    expect(poller.size).toBe(1);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('could not rebuild'), { code: 'POLL_REBUILD_FAILED' });
  });
});
