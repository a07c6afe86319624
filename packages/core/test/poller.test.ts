import { afterEach, describe, expect, it, vi } from 'vitest';
import { setImmediate as immediate } from 'node:timers/promises';
import { constants } from 'node:os';
import { Bits, MAX_EVENTS, RESERVED_TOKEN, PollError, PollerBase, kModifyMask, kWatchMask, type BackendIo, type PollEvent } from '../src/index.js';
import { ALL_BITS, E, FakeBackend } from './fake-backend.js';
import { catchUncaught, noop, rejected, rejection, setup, thrown } from './helpers.js';

const { READABLE: R, WRITABLE: W, PRIORITY: P, HANGUP: H, ERROR: ER, EDGE, ONESHOT } = Bits;

function ev(fd: number, fields: Partial<Omit<PollEvent, 'fd'>> = {}): PollEvent {
  return { fd, readable: false, writable: false, priority: false, hangup: false, error: false, ...fields };
}

afterEach(() => {
  vi.restoreAllMocks();
});

/** Ref and pin changes reach the native side in a microtask; let them (staying in microtasks, so
 * a rejection not yet awaited is not reported as unhandled meanwhile). */
const flush = async (): Promise<void> => {
  await null;
  await null;
};

describe('registration table', () => {
  it('add() registers fd with the interest mask and a token, and returns a Watch for it', () => {
    const { fake, poller } = setup();
    const watch = poller.add(7, { readable: true, writable: true }, noop);
    expect(watch.fd).toBe(7);
    expect(poller.size).toBe(1);
    const [call] = fake.callsOf('add');
    expect(call).toEqual({ op: 'add', fd: 7, mask: R | W, token: expect.any(Number) });
    expect(call!.token).toBeGreaterThan(0);
    expect(fake.registered.get(7)).toEqual({ mask: R | W, token: call!.token });
  });

  it('maps each interest key to its bit', () => {
    const { fake, poller } = setup();
    poller.add(1, { readable: true }, noop);
    poller.add(2, { writable: true }, noop);
    poller.add(3, { priority: true }, noop);
    poller.add(4, { readable: true, edge: true }, noop);
    poller.add(5, { readable: true, oneshot: true }, noop);
    poller.add(6, { readable: true, writable: false, priority: undefined, edge: false, oneshot: false }, noop);
    expect(fake.callsOf('add').map((c) => [c.fd, c.mask])).toEqual([
      [1, R],
      [2, W],
      [3, P],
      [4, R | EDGE],
      [5, R | ONESHOT],
      [6, R],
    ]);
  });

  it('gives every registration a distinct token', () => {
    const { fake, poller } = setup();
    poller.add(1, { readable: true }, noop);
    poller.remove(1);
    poller.add(1, { readable: true }, noop);
    poller.add(2, { readable: true }, noop);
    const tokens = fake.callsOf('add').map((c) => c.token);
    expect(new Set(tokens).size).toBe(3);
  });

  it('modify() changes the mask natively under a new token: an event collected before it is dropped', () => {
    const { fake, poller } = setup();
    const cb = vi.fn();
    poller.add(7, { readable: true }, cb);
    const token = fake.tokenOf(7);
    poller.modify(7, { writable: true, edge: true });
    const [call] = fake.callsOf('modify');
    expect(call).toEqual({ op: 'modify', fd: 7, mask: W | EDGE, token: expect.any(Number) });
    expect(call!.token).not.toBe(token);
    expect(poller.size).toBe(1);
    fake.fire([[7, token, R]]); // collected under the old interest (by a waiter thread, say)
    expect(cb).not.toHaveBeenCalled();
    fake.fire([[7, W]]);
    expect(cb).toHaveBeenCalledWith(ev(7, { writable: true }));
  });

  it('a modify() in a callback drops the same batch\'s event already collected for that watch', () => {
    const { fake, poller } = setup();
    const second = vi.fn();
    poller.add(3, { readable: true }, () => poller.modify(4, { writable: true }));
    poller.add(4, { readable: true }, second);
    fake.fire([[3, R], [4, R]]);
    expect(second).not.toHaveBeenCalled();
  });

  it('modify() of an unwatched fd throws ERR_POLL_NOT_WATCHED without asking the kernel', () => {
    const { fake, poller } = setup();
    const err = thrown(() => poller.modify(7, { readable: true }));
    expect(err.code).toBe('ERR_POLL_NOT_WATCHED');
    expect(fake.calls).toEqual([]);
  });

  it('remove() unregisters and returns true', () => {
    const { fake, poller } = setup();
    poller.add(7, { readable: true }, noop);
    expect(poller.remove(7)).toBe(true);
    expect(poller.size).toBe(0);
    expect(fake.callsOf('remove')).toEqual([{ op: 'remove', fd: 7 }]);
    expect(fake.registered.size).toBe(0);
  });

  it('remove() returns false for an unwatched fd and does not call the backend', () => {
    const { fake, poller } = setup();
    expect(poller.remove(7)).toBe(false);
    poller.add(7, { readable: true }, noop);
    poller.remove(7);
    fake.clearCalls();
    expect(poller.remove(7)).toBe(false);
    expect(fake.calls).toEqual([]);
  });

  it('size counts watched descriptors', () => {
    const { poller } = setup();
    expect(poller.size).toBe(0);
    poller.add(1, { readable: true }, noop);
    poller.add(2, { readable: true }, noop);
    poller.add(3, { readable: true }, noop);
    expect(poller.size).toBe(3);
    poller.remove(2);
    expect(poller.size).toBe(2);
  });

  it('adding an fd twice throws ERR_POLL_ALREADY_WATCHED and changes nothing', () => {
    const { fake, poller } = setup();
    const first = vi.fn();
    const second = vi.fn();
    poller.add(7, { readable: true }, first);
    fake.clearCalls();
    const err = thrown(() => poller.add(7, { writable: true }, second));
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe('ERR_POLL_ALREADY_WATCHED');
    expect(fake.calls).toEqual([]);
    expect(poller.size).toBe(1);
    expect(fake.registered.get(7)!.mask).toBe(R);
    fake.fire([[7, R]]);
    expect(first).toHaveBeenCalledTimes(1);
    expect(second).not.toHaveBeenCalled();
  });

  it.each([
    ['EBADF', E.EBADF],
    ['EPERM', E.EPERM],
  ])('a failing native add (%s) throws a PollError and registers nothing', async (code, errno) => {
    const { fake, poller } = setup();
    fake.failNext('add', errno!);
    const err = thrown(() => poller.add(9, { readable: true }, noop));
    expect(err).toBeInstanceOf(PollError);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('PollError');
    expect(err.code).toBe(code);
    expect(err.errno).toBe(-errno); // negative, like Node's own system errors
    expect(err.syscall).toBe('epoll_ctl');
    expect(err.fd).toBe(9);
    expect(err.message).toContain(code);
    expect(err.message).toContain('fd 9');
    expect(poller.size).toBe(0);
    await flush();
    expect(fake.refCalls).toBe(0);
    await flush();
    expect(fake.refed).toBe(false);
    // Nothing was left behind: the same fd can be added afterwards.
    poller.add(9, { readable: true }, noop);
    expect(poller.size).toBe(1);
  });

  it('a native error without a valid fd gives a PollError with no fd property', () => {
    const { fake, poller } = setup();
    fake.failNext('add', E.ENOMEM, -1);
    const err = thrown(() => poller.add(9, { readable: true }, noop));
    expect(err).toBeInstanceOf(PollError);
    expect(err.code).toBe('ENOMEM');
    expect(err.fd).toBeUndefined();
    expect(err.message).not.toContain('(fd');
    // errors.ts only assigns `fd` when there is one: the property should be absent, not undefined.
    expect(Object.hasOwn(err, 'fd')).toBe(false);
  });

  it('a failing create() becomes a PollError from the constructor', () => {
    const fake = new FakeBackend({ createErrno: E.EMFILE });
    const err = thrown(() => new PollerBase(fake));
    expect(err).toBeInstanceOf(PollError);
    expect(err.code).toBe('EMFILE');
    expect(err.syscall).toBe('epoll_create1');
    expect(err.fd).toBeUndefined();
  });

  it('a failing modify keeps the old registration', () => {
    const { fake, poller } = setup();
    const cb = vi.fn();
    const watch = poller.add(7, { readable: true, oneshot: true }, cb);
    const token = fake.tokenOf(7);
    fake.failNext('modify', E.ENOMEM);
    const err = thrown(() => poller.modify(7, { writable: true }));
    expect(err).toBeInstanceOf(PollError);
    expect(err.code).toBe('ENOMEM');
    expect(poller.size).toBe(1);
    // The kernel kept the old registration and token: its events still arrive.
    fake.fire([[7, token, R]]);
    expect(cb).toHaveBeenCalledTimes(1);
    // rearm() re-sends the mask core has: still the old one.
    fake.clearCalls();
    watch.rearm();
    expect(fake.callsOf('modify')).toEqual([{ op: 'modify', fd: 7, mask: R | ONESHOT, token: expect.any(Number) }]);
    fake.fire([[7, R]]);
    expect(cb).toHaveBeenCalledWith(ev(7, { readable: true }));
  });

  it('a failing watch.modify keeps the old registration too', () => {
    const { fake, poller } = setup();
    const watch = poller.add(7, { readable: true, oneshot: true }, noop);
    fake.failNext('modify', E.EBADF);
    expect(thrown(() => watch.modify({ writable: true, oneshot: true })).code).toBe('EBADF');
    fake.clearCalls();
    watch.rearm();
    expect(fake.callsOf('modify')[0]!.mask).toBe(R | ONESHOT);
  });

  it.each([
    ['EBADF', E.EBADF],
    ['ENOENT', E.ENOENT],
  ])('remove() ignores %s from the backend (the kernel already dropped it)', async (_code, errno) => {
    const { fake, poller } = setup();
    poller.add(7, { readable: true }, noop);
    // The descriptor was closed: the kernel forgot the registration by itself.
    fake.registered.delete(7);
    fake.failNext('remove', errno!);
    expect(poller.remove(7)).toBe(true);
    expect(poller.size).toBe(0);
    await flush();
    expect(fake.refed).toBe(false);
    // The fd can be added again.
    poller.add(7, { readable: true }, noop);
    expect(poller.size).toBe(1);
  });

  it('watch.remove() ignores EBADF from the backend', () => {
    const { fake, poller } = setup();
    const watch = poller.add(7, { readable: true }, noop);
    fake.failNext('remove', E.EBADF);
    watch.remove();
    expect(poller.size).toBe(0);
  });

  it.each([
    ['EPERM', E.EPERM],
    ['ENOMEM', E.ENOMEM],
    ['EINVAL', E.EINVAL],
  ])('remove() throws %s from the backend and keeps the registration', async (code, errno) => {
    const { fake, poller } = setup();
    const cb = vi.fn();
    const watch = poller.add(7, { readable: true }, cb);
    fake.failNext('remove', errno!);
    const err = thrown(() => poller.remove(7));
    expect(err).toBeInstanceOf(PollError);
    expect(err.code).toBe(code);
    expect(poller.size).toBe(1);
    await flush();
    expect(fake.refed).toBe(true);
    fake.fire([[7, R]]);
    expect(cb).toHaveBeenCalledTimes(1);
    // The watch is still the current one.
    watch.modify({ writable: true });
    expect(poller.remove(7)).toBe(true);
  });

  it('a non-errno exception from the backend passes through unchanged', () => {
    const { fake, poller } = setup();
    const boom = new Error('boom');
    fake.throwNext('add', boom);
    expect(thrown(() => poller.add(3, { readable: true }, noop))).toBe(boom);
    expect(poller.size).toBe(0);
    poller.add(3, { readable: true }, noop);
    fake.throwNext('remove', boom);
    expect(thrown(() => poller.remove(3))).toBe(boom);
    expect(poller.size).toBe(1);
  });
});

describe('argument errors', () => {
  const badFds: Array<[string, unknown, 'TypeError' | 'RangeError', string]> = [
    ['negative', -1, 'RangeError', 'ERR_OUT_OF_RANGE'],
    ['fractional', 1.5, 'RangeError', 'ERR_OUT_OF_RANGE'],
    ['NaN', NaN, 'RangeError', 'ERR_OUT_OF_RANGE'],
    ['Infinity', Infinity, 'RangeError', 'ERR_OUT_OF_RANGE'],
    ['> 2^31-1', 2 ** 31, 'RangeError', 'ERR_OUT_OF_RANGE'],
    ['a string', '3', 'TypeError', 'ERR_INVALID_ARG_TYPE'],
    ['a bigint', 3n, 'TypeError', 'ERR_INVALID_ARG_TYPE'],
    ['null', null, 'TypeError', 'ERR_INVALID_ARG_TYPE'],
    ['undefined', undefined, 'TypeError', 'ERR_INVALID_ARG_TYPE'],
    ['a Number object', new Number(3), 'TypeError', 'ERR_INVALID_ARG_TYPE'],
  ];

  it.each(badFds)('fd %s (%o) is rejected by every method with %s %s, registering nothing', async (_what, fd, type, code) => {
    const { fake, poller } = setup();
    const errors = [
      thrown(() => poller.add(fd as number, { readable: true }, noop)),
      thrown(() => poller.modify(fd as number, { readable: true })),
      thrown(() => poller.remove(fd as number)),
      await rejected(() => poller.once(fd as number, { readable: true })),
      await rejected(() => poller.events(fd as number, { readable: true })),
    ];
    for (const err of errors) {
      expect(err.constructor.name).toBe(type);
      expect(err.code).toBe(code);
      expect(err.message).toContain('"fd"');
    }
    expect(poller.size).toBe(0);
    expect(fake.calls).toEqual([]);
  });

  const received: Array<[unknown, string]> = [
    [null, 'Received null'],
    [undefined, 'Received undefined'],
    [function watchMe() {}, 'Received function watchMe'],
    ['a file descriptor number given as a string', "Received type string ('a file descriptor number ...')"],
    ["it's", `Received type string ("it's")`],
    [3n, 'Received type bigint (3n)'],
    [new Number(3), 'Received an instance of Number'],
  ];
  it.each(received)("a bad fd %o: the message ends as Node's do (%s)", (fd, ending) => {
    const err = thrown(() => setup().poller.add(fd as number, { readable: true }, noop));
    expect(err.message).toMatch(new RegExp(`${ending.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
  });

  it("options that are not an object: a TypeError that says what it received, as Node's messages do", () => {
    const err = thrown(() => new PollerBase(new FakeBackend(), 5 as never));
    expect(err.constructor.name).toBe('TypeError');
    expect(err.code).toBe('ERR_INVALID_ARG_TYPE');
    expect(err.message).toBe('The "options" argument must be of type object. Received type number (5)');
  });

  it('accepts fd 0 and fd 2^31-1', () => {
    const { poller } = setup();
    poller.add(0, { readable: true }, noop);
    poller.add(2 ** 31 - 1, { readable: true }, noop);
    expect(poller.size).toBe(2);
  });

  const badInterests: Array<[string, unknown, 'TypeError', string]> = [
    ['undefined', undefined, 'TypeError', 'ERR_INVALID_ARG_TYPE'],
    ['null', null, 'TypeError', 'ERR_INVALID_ARG_TYPE'],
    ['a string', 'readable', 'TypeError', 'ERR_INVALID_ARG_TYPE'],
    ['a number', 1, 'TypeError', 'ERR_INVALID_ARG_TYPE'],
    ['an array', ['readable'], 'TypeError', 'ERR_INVALID_ARG_TYPE'],
    ['an unknown key', { readable: true, read: true }, 'TypeError', 'ERR_INVALID_ARG_VALUE'],
    ['a misspelt key', { readble: true }, 'TypeError', 'ERR_INVALID_ARG_VALUE'],
    ['a non-boolean value', { readable: 1 }, 'TypeError', 'ERR_INVALID_ARG_TYPE'],
    ['a string value', { readable: 'yes' }, 'TypeError', 'ERR_INVALID_ARG_TYPE'],
    ['a non-boolean edge', { readable: true, edge: 1 }, 'TypeError', 'ERR_INVALID_ARG_TYPE'],
    ['a null value', { readable: true, oneshot: null }, 'TypeError', 'ERR_INVALID_ARG_TYPE'],
    ['no readable/writable/priority', { edge: true, oneshot: true }, 'TypeError', 'ERR_INVALID_ARG_VALUE'],
    ['an empty object', {}, 'TypeError', 'ERR_INVALID_ARG_VALUE'],
    ['all false', { readable: false, writable: false, priority: false }, 'TypeError', 'ERR_INVALID_ARG_VALUE'],
  ];

  it.each(badInterests)('interest %s (%o) is rejected with %s %s, registering nothing', async (_what, interest, type, code) => {
    const { fake, poller } = setup();
    poller.add(5, { readable: true }, noop);
    await immediate(); // its ref and pin reach the native side
    fake.clearCalls();
    const errors = [
      thrown(() => poller.add(7, interest as never, noop)),
      thrown(() => poller.modify(5, interest as never)),
      await rejected(() => poller.once(7, interest as never)),
      await rejected(() => poller.events(7, interest as never)),
    ];
    for (const err of errors) {
      expect(err.constructor.name).toBe(type);
      expect(err.code).toBe(code);
    }
    expect(poller.size).toBe(1);
    expect(fake.calls).toEqual([]);
    expect(fake.registered.get(5)!.mask).toBe(R);
  });

  it('watch.modify() validates the interest too', () => {
    const { fake, poller } = setup();
    const watch = poller.add(5, { readable: true }, noop);
    fake.clearCalls();
    expect(thrown(() => watch.modify({ bogus: true } as never)).code).toBe('ERR_INVALID_ARG_VALUE');
    expect(thrown(() => watch.modify({ writable: 'no' } as never)).code).toBe('ERR_INVALID_ARG_TYPE');
    expect(fake.calls).toEqual([]);
  });

  it('an interest whose readable is inherited is either refused or registered as readable (never with mask 0)', () => {
    // interestToMask reads own keys for the mask (Object.keys) but the inherited value for its
    // "asks for at least one of readable, writable or priority" check.
    const { fake, poller } = setup();
    const interest = Object.create({ readable: true });
    let err: unknown = null;
    try {
      poller.add(7, interest, noop);
    } catch (e) {
      err = e;
    }
    if (err === null) {
      expect(fake.callsOf('add')[0]!.mask & R).toBe(R);
    } else {
      expect(poller.size).toBe(0);
      expect(fake.calls).toEqual([]);
    }
  });

  it.each([
    ['undefined', undefined],
    ['null', null],
    ['an object', {}],
    ['a string', 'cb'],
  ])('onEvent %s (%o) throws ERR_INVALID_ARG_TYPE, registering nothing', (_what, onEvent) => {
    const { fake, poller } = setup();
    const err = thrown(() => poller.add(7, { readable: true }, onEvent as never));
    expect(err).toBeInstanceOf(TypeError);
    expect(err.code).toBe('ERR_INVALID_ARG_TYPE');
    expect(err.message).toContain('"onEvent"');
    expect(poller.size).toBe(0);
    expect(fake.calls).toEqual([]);
  });

  it.each([
    ['0', 0, 'RangeError', 'ERR_OUT_OF_RANGE'],
    ['negative', -1, 'RangeError', 'ERR_OUT_OF_RANGE'],
    ['fractional', 1.5, 'RangeError', 'ERR_OUT_OF_RANGE'],
    ['NaN', NaN, 'RangeError', 'ERR_OUT_OF_RANGE'],
    ['65537', 65537, 'RangeError', 'ERR_OUT_OF_RANGE'],
    ['a string', '16', 'TypeError', 'ERR_INVALID_ARG_TYPE'],
    ['null', null, 'TypeError', 'ERR_INVALID_ARG_TYPE'],
  ] as const)('maxEvents %s (%o) throws %s %s and creates no native poller', (_what, maxEvents, type, code) => {
    const fake = new FakeBackend();
    const err = thrown(() => new PollerBase(fake, { maxEvents: maxEvents as number }));
    expect(err).toBeInstanceOf(type === 'RangeError' ? RangeError : TypeError);
    expect(err.code).toBe(code);
    expect(fake.createCount).toBe(0);
  });

  it('an unknown option (a misspelt maxEvents) is a TypeError, ERR_INVALID_ARG_VALUE, naming it, and creates no native poller', () => {
    const fake = new FakeBackend();
    const err = thrown(() => new PollerBase(fake, { maxEvent: 16 } as never));
    expect(err).toBeInstanceOf(TypeError);
    expect(err.code).toBe('ERR_INVALID_ARG_VALUE');
    expect(err.message).toBe('The "options" argument has an unknown property "maxEvent"');
    expect(fake.createCount).toBe(0);
    new PollerBase(fake, { maxEvents: undefined }).close(); // a known key left undefined is the default
  });

  it.each([
    ['null', null],
    ['a number', 5],
    ['a string', 'x'],
  ])('options %s (%o) throws ERR_INVALID_ARG_TYPE', (_what, options) => {
    const fake = new FakeBackend();
    const err = thrown(() => new PollerBase(fake, options as never));
    expect(err).toBeInstanceOf(TypeError);
    expect(err.code).toBe('ERR_INVALID_ARG_TYPE');
    expect(fake.createCount).toBe(0);
  });

  it('maxEvents sizes the event buffer as [fd, token, mask] triples', () => {
    expect(setup().fake.buffer!.length).toBe(1024 * 3);
    expect(setup({}).fake.buffer!.length).toBe(1024 * 3);
    expect(setup({ maxEvents: 1 }).fake.buffer!.length).toBe(3);
    expect(setup({ maxEvents: 65536 }).fake.buffer!.length).toBe(65536 * 3);
  });

  it.each([
    ['options not an object', 'signal'],
    ['options null', null],
    ['signal not an AbortSignal', { signal: {} }],
    ['signal an AbortController', { signal: new AbortController() }],
  ])('once()/events() with %s (%o) reject with ERR_INVALID_ARG_TYPE, registering nothing', async (_what, options) => {
    const { fake, poller } = setup();
    for (const call of [
      () => poller.once(7, { readable: true }, options as never),
      () => poller.events(7, { readable: true }, options as never),
    ]) {
      const err = await rejected(call);
      expect(err).toBeInstanceOf(TypeError);
      expect(err.code).toBe('ERR_INVALID_ARG_TYPE');
    }
    expect(poller.size).toBe(0);
    expect(fake.calls).toEqual([]);
  });
});

describe('unsupported bits', () => {
  it('interest the backend does not support is refused with ERR_POLL_UNSUPPORTED, registering nothing', async () => {
    const { fake, poller } = setup(undefined, { supported: ALL_BITS & ~P });
    for (const err of [
      thrown(() => poller.add(7, { priority: true }, noop)),
      thrown(() => poller.add(7, { readable: true, priority: true }, noop)),
      await rejected(() => poller.once(7, { priority: true })),
      await rejected(() => poller.events(7, { priority: true })),
    ]) {
      expect(err.code).toBe('ERR_POLL_UNSUPPORTED');
      expect(err.message).toContain('priority');
      expect(err.message).toContain('epoll');
    }
    expect(poller.size).toBe(0);
    expect(fake.calls).toEqual([]);
  });

  it('modify() to unsupported interest throws and keeps the old registration', () => {
    const { fake, poller } = setup(undefined, { supported: ALL_BITS & ~P });
    const watch = poller.add(7, { readable: true }, noop);
    fake.clearCalls();
    expect(thrown(() => poller.modify(7, { priority: true })).code).toBe('ERR_POLL_UNSUPPORTED');
    expect(thrown(() => watch.modify({ priority: true })).code).toBe('ERR_POLL_UNSUPPORTED');
    expect(fake.calls).toEqual([]);
    expect(fake.registered.get(7)!.mask).toBe(R);
  });

  it('names every unsupported option', () => {
    const { poller } = setup(undefined, { name: 'kqueue', supported: R | W });
    const err = thrown(() => poller.add(7, { readable: true, priority: true, edge: true }, noop));
    expect(err.code).toBe('ERR_POLL_UNSUPPORTED');
    expect(err.message).toContain('kqueue');
    expect(err.message).toContain('priority');
    expect(err.message).toContain('edge');
  });

  it('says which interest it knows and what a backend cannot do, in words derived from Bits', () => {
    const { poller } = setup(undefined, { name: 'kqueue', supported: R | W | EDGE | ONESHOT });
    expect(thrown(() => poller.add(7, { readable: true, read: true } as never, noop)).message).toBe(
      'The "interest" argument has an unknown key "read"; expected readable, writable, priority, edge or oneshot',
    );
    expect(thrown(() => poller[kWatchMask](7, R | P | Bits.PEER_SHUTDOWN, noop)).message).toBe(
      'The kqueue backend cannot watch for priority, peer shutdown (EPOLLRDHUP) without readable on this platform',
    );
  });

  it('supported interest still works on such a backend', () => {
    const { poller } = setup(undefined, { supported: ALL_BITS & ~P });
    poller.add(7, { readable: true, writable: true, edge: true }, noop);
    expect(poller.size).toBe(1);
  });
});

describe('backend bit values', () => {
  it('a backend whose bits disagree with core is refused at construction', () => {
    const fake = new FakeBackend({ bits: { ...Bits, PRIORITY: 8, HANGUP: 4 } });
    const err = thrown(() => new PollerBase(fake));
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toMatch(/PRIORITY/);
    expect(err.message).toContain('epoll');
    expect(fake.createCount).toBe(0);
  });

  it('a backend whose MAX_EVENTS disagrees with core is refused at construction; an equal one is taken', () => {
    const fake = new FakeBackend({ maxEvents: MAX_EVENTS / 2 });
    const err = thrown(() => new PollerBase(fake));
    expect(err.message).toMatch(/MAX_EVENTS/);
    expect(fake.createCount).toBe(0);
    new PollerBase(new FakeBackend({ maxEvents: MAX_EVENTS })).close();
  });

  it('a backend whose reserved token disagrees with core is refused at construction; an equal one is taken', () => {
    const fake = new FakeBackend({ reservedToken: 1 });
    expect(thrown(() => new PollerBase(fake)).message).toMatch(/RESERVED_TOKEN/);
    expect(fake.createCount).toBe(0);
    new PollerBase(new FakeBackend({ reservedToken: RESERVED_TOKEN })).close();
  });

  it('a backend missing a bit is refused', () => {
    const bits: Record<string, number> = { ...Bits };
    delete bits.ONESHOT;
    const fake = new FakeBackend({ bits });
    expect(thrown(() => new PollerBase(fake)).message).toMatch(/ONESHOT/);
    expect(fake.createCount).toBe(0);
  });

  it('a backend with the same bits is accepted, and again for a second poller', () => {
    const fake = new FakeBackend();
    new PollerBase(fake);
    new PollerBase(fake);
    expect(fake.createCount).toBe(2);
  });
});

describe('dispatch', () => {
  it('one batch with several fds calls each callback with its PollEvent', () => {
    const { fake, poller } = setup();
    const order: number[] = [];
    const cbs = new Map<number, ReturnType<typeof vi.fn>>();
    for (const fd of [3, 4, 5, 6]) {
      const cb = vi.fn(() => order.push(fd));
      cbs.set(fd, cb);
      poller.add(fd, { readable: true, writable: true, priority: true }, cb);
    }
    fake.fire([
      [5, P | ER],
      [3, R],
      [4, W | H],
      [6, R | W | P | H | ER],
    ]);
    expect(order).toEqual([5, 3, 4, 6]);
    expect(cbs.get(3)).toHaveBeenCalledExactlyOnceWith(ev(3, { readable: true }));
    expect(cbs.get(4)).toHaveBeenCalledExactlyOnceWith(ev(4, { writable: true, hangup: true }));
    expect(cbs.get(5)).toHaveBeenCalledExactlyOnceWith(ev(5, { priority: true, error: true }));
    expect(cbs.get(6)).toHaveBeenCalledExactlyOnceWith(
      ev(6, { readable: true, writable: true, priority: true, hangup: true, error: true }),
    );
  });

  it('an fd that appears twice in a batch gets two calls', () => {
    const { fake, poller } = setup();
    const cb = vi.fn();
    poller.add(3, { readable: true, writable: true }, cb);
    fake.fire([
      [3, R],
      [3, W],
    ]);
    expect(cb.mock.calls).toEqual([[ev(3, { readable: true })], [ev(3, { writable: true })]]);
  });

  it('only the first `count` triples of the buffer are dispatched', () => {
    const { fake, poller } = setup();
    const cb = vi.fn();
    poller.add(3, { readable: true }, cb);
    fake.fire([[3, R]]);
    // Leftovers of a previous batch stay in the buffer; a zero batch dispatches nothing.
    fake.onBatch!(0);
    expect(cb).toHaveBeenCalledTimes(1);
  });

  it('an event for a removed fd is dropped', () => {
    const { fake, poller } = setup();
    const cb = vi.fn();
    poller.add(3, { readable: true }, cb);
    const token = fake.tokenOf(3);
    poller.remove(3);
    fake.fire([[3, token, R]]);
    expect(cb).not.toHaveBeenCalled();
  });

  it('an event for an fd never added is dropped', () => {
    const { fake, poller } = setup();
    const cb = vi.fn();
    poller.add(3, { readable: true }, cb);
    fake.fire([
      [9, 1, R],
      [3, R],
    ]);
    expect(cb).toHaveBeenCalledTimes(1);
  });

  it('an event with a stale token is not delivered to the current registration of that fd', () => {
    const { fake, poller } = setup();
    const cb = vi.fn();
    poller.add(3, { readable: true }, cb);
    fake.fireStale(3, R);
    expect(cb).not.toHaveBeenCalled();
  });

  it('an fd removed and re-added by an earlier callback of the same batch does not get the old event', () => {
    const { fake, poller } = setup();
    const oldCb = vi.fn();
    const newCb = vi.fn();
    poller.add(4, { readable: true }, oldCb);
    const oldToken = fake.tokenOf(4);
    poller.add(3, { readable: true }, () => {
      poller.remove(4);
      poller.add(4, { readable: true }, newCb);
    });
    fake.fire([
      [3, R],
      [4, oldToken, R],
    ]);
    expect(oldCb).not.toHaveBeenCalled();
    expect(newCb).not.toHaveBeenCalled();
    expect(fake.tokenOf(4)).not.toBe(oldToken);
    // The new registration gets its own events.
    fake.fire([[4, W | R]]);
    expect(newCb).toHaveBeenCalledExactlyOnceWith(ev(4, { readable: true, writable: true }));
  });

  it('an fd removed by an earlier callback of the same batch does not get its event', () => {
    const { fake, poller } = setup();
    const cb4 = vi.fn();
    poller.add(4, { readable: true }, cb4);
    poller.add(3, { readable: true }, () => poller.remove(4));
    fake.fire([
      [3, R],
      [4, R],
    ]);
    expect(cb4).not.toHaveBeenCalled();
  });

  it('a callback that throws does not stop the rest of the batch; the error is rethrown on nextTick', () => {
    const { fake, poller } = setup();
    const boom = new Error('boom');
    const cb4 = vi.fn();
    const cb5 = vi.fn();
    poller.add(3, { readable: true }, () => {
      throw boom;
    });
    poller.add(4, { readable: true }, cb4);
    poller.add(5, { readable: true }, cb5);
    const scheduled: Array<[(...args: unknown[]) => unknown, unknown[]]> = [];
    const spy = vi.spyOn(process, 'nextTick').mockImplementation(((fn: (...a: unknown[]) => unknown, ...args: unknown[]) => {
      scheduled.push([fn, args]);
    }) as never);
    try {
      fake.fire([
        [3, R],
        [4, R],
        [5, R],
      ]);
    } finally {
      spy.mockRestore();
    }
    expect(cb4).toHaveBeenCalledTimes(1);
    expect(cb5).toHaveBeenCalledTimes(1);
    expect(scheduled).toHaveLength(1);
    const [fn, args] = scheduled[0]!;
    expect(() => fn(...args)).toThrow(boom);
    // The poller and its watches are intact.
    expect(poller.size).toBe(3);
    expect(poller.closed).toBe(false);
  });

  it('a throwing callback surfaces as an uncaughtException after the batch', async () => {
    const { fake, poller } = setup();
    const boom = new Error('boom from callback');
    const after = vi.fn();
    poller.add(3, { readable: true }, () => {
      throw boom;
    });
    poller.add(4, { readable: true }, after);
    const { caught, restore } = catchUncaught();
    try {
      fake.fire([
        [3, R],
        [4, R],
      ]);
      expect(caught).toEqual([]); // not synchronously inside the batch
      expect(after).toHaveBeenCalledTimes(1);
      await immediate();
    } finally {
      restore();
    }
    expect(caught).toEqual([boom]);
    // A later batch still works.
    fake.fire([[4, R]]);
    expect(after).toHaveBeenCalledTimes(2);
  });

  it('close() inside a callback stops the rest of the batch', () => {
    const { fake, poller } = setup();
    const cb4 = vi.fn();
    poller.add(3, { readable: true }, () => poller.close());
    poller.add(4, { readable: true }, cb4);
    fake.fire([
      [3, R],
      [4, R],
    ]);
    expect(cb4).not.toHaveBeenCalled();
    expect(poller.closed).toBe(true);
  });

  it('a batch that arrives after close() is ignored', () => {
    const { fake, poller } = setup();
    const cb = vi.fn();
    poller.add(3, { readable: true }, cb);
    const token = fake.tokenOf(3);
    poller.close();
    fake.fire([[3, token, R]]);
    expect(cb).not.toHaveBeenCalled();
  });

  it('close() inside a throwing callback still stops the batch', () => {
    const { fake, poller } = setup();
    const cb4 = vi.fn();
    poller.add(3, { readable: true }, () => {
      poller.close();
      throw new Error('after close');
    });
    poller.add(4, { readable: true }, cb4);
    let ticks = 0;
    const spy = vi.spyOn(process, 'nextTick').mockImplementation((() => {
      ticks++;
    }) as never);
    try {
      fake.fire([
        [3, R],
        [4, R],
      ]);
    } finally {
      spy.mockRestore();
    }
    expect(ticks).toBe(1);
    expect(cb4).not.toHaveBeenCalled();
  });
});

describe('Watch objects', () => {
  it('watch.remove() is idempotent', () => {
    const { fake, poller } = setup();
    const watch = poller.add(3, { readable: true }, noop);
    watch.remove();
    watch.remove();
    expect(poller.size).toBe(0);
    expect(fake.callsOf('remove')).toHaveLength(1);
    expect(poller.remove(3)).toBe(false);
  });

  it('watch.modify() changes the registration', () => {
    const { fake, poller } = setup();
    const watch = poller.add(3, { readable: true }, noop);
    watch.modify({ writable: true });
    expect(fake.callsOf('modify')).toEqual([{ op: 'modify', fd: 3, mask: W, token: expect.any(Number) }]);
  });

  it('an old Watch for an fd removed and re-added does not touch the new registration', () => {
    const { fake, poller } = setup();
    const old = poller.add(3, { readable: true, oneshot: true }, noop);
    poller.remove(3);
    const cb = vi.fn();
    const current = poller.add(3, { writable: true, oneshot: true }, cb);
    fake.clearCalls();

    const modifyErr = thrown(() => old.modify({ readable: true }));
    expect(modifyErr.code).toBe('ERR_POLL_NOT_WATCHED');
    expect(thrown(() => old.rearm()).code).toBe('ERR_POLL_NOT_WATCHED');
    old.remove(); // no-op
    expect(fake.calls).toEqual([]);
    expect(poller.size).toBe(1);
    expect(fake.registered.get(3)!.mask).toBe(W | ONESHOT);

    fake.fire([[3, W]]);
    expect(cb).toHaveBeenCalledTimes(1);
    current.remove();
    expect(poller.size).toBe(0);
  });

  it('a Watch whose fd was removed through the poller is dead', () => {
    const { fake, poller } = setup();
    const watch = poller.add(3, { readable: true }, noop);
    poller.remove(3);
    fake.clearCalls();
    expect(thrown(() => watch.modify({ writable: true })).code).toBe('ERR_POLL_NOT_WATCHED');
    watch.remove();
    expect(fake.calls).toEqual([]);
  });

  it('rearm() on a non-oneshot watch throws ERR_POLL_NOT_ONESHOT', () => {
    const { fake, poller } = setup();
    const level = poller.add(3, { readable: true }, noop);
    const edge = poller.add(4, { readable: true, edge: true }, noop);
    fake.clearCalls();
    expect(thrown(() => level.rearm()).code).toBe('ERR_POLL_NOT_ONESHOT');
    expect(thrown(() => edge.rearm()).code).toBe('ERR_POLL_NOT_ONESHOT');
    expect(fake.calls).toEqual([]);
  });

  it('rearm() on a oneshot watch calls native modify with the same mask, each time under a new token', () => {
    const { fake, poller } = setup();
    const watch = poller.add(3, { readable: true, writable: true, oneshot: true }, noop);
    const token = fake.tokenOf(3);
    watch.rearm();
    watch.rearm();
    const calls = fake.callsOf('modify');
    expect(calls).toEqual([
      { op: 'modify', fd: 3, mask: R | W | ONESHOT, token: expect.any(Number) },
      { op: 'modify', fd: 3, mask: R | W | ONESHOT, token: expect.any(Number) },
    ]);
    expect(new Set([token, calls[0]!.token, calls[1]!.token]).size).toBe(3);
  });

  it('rearm() follows a modify() of the watch', () => {
    const { fake, poller } = setup();
    const watch = poller.add(3, { readable: true, oneshot: true }, noop);
    watch.modify({ writable: true, edge: true, oneshot: true });
    fake.clearCalls();
    watch.rearm();
    expect(fake.callsOf('modify')).toEqual([{ op: 'modify', fd: 3, mask: W | EDGE | ONESHOT, token: expect.any(Number) }]);
    // modify() to non-oneshot makes rearm() an error.
    poller.modify(3, { readable: true });
    expect(thrown(() => watch.rearm()).code).toBe('ERR_POLL_NOT_ONESHOT');
  });
});

describe('ref accounting', () => {
  it('a new poller does not ref the native poller but hasRef() is true', async () => {
    const { fake, poller } = setup();
    await flush();
    expect(fake.refed).toBe(false);
    await flush();
    expect(fake.refCalls).toBe(0);
    expect(poller.hasRef()).toBe(true);
  });

  it('native is ref\'d only while something is watched', async () => {
    const { fake, poller } = setup();
    poller.add(3, { readable: true }, noop);
    await flush();
    expect(fake.refed).toBe(true);
    poller.add(4, { readable: true }, noop);
    await flush();
    expect(fake.refCalls).toBe(1);
    poller.remove(3);
    await flush();
    expect(fake.refed).toBe(true);
    const watch = poller.add(5, { readable: true }, noop);
    poller.remove(4);
    watch.remove();
    await flush();
    expect(fake.refed).toBe(false);
    await flush();
    expect(fake.unrefCalls).toBe(1);
    await flush();
    expect(fake.refCalls).toBe(1);
  });

  it('unref() lets go of the native ref; ref() takes it back', async () => {
    const { fake, poller } = setup();
    poller.add(3, { readable: true }, noop);
    expect(poller.unref()).toBe(poller);
    expect(poller.hasRef()).toBe(false);
    await flush();
    expect(fake.refed).toBe(false);
    expect(poller.ref()).toBe(poller);
    expect(poller.hasRef()).toBe(true);
    await flush();
    expect(fake.refed).toBe(true);
  });

  it('unref() before anything is watched keeps adds from ref-ing', async () => {
    const { fake, poller } = setup();
    poller.unref();
    poller.add(3, { readable: true }, noop);
    poller.add(4, { readable: true }, noop);
    await flush();
    expect(fake.refed).toBe(false);
    await flush();
    expect(fake.refCalls).toBe(0);
    poller.ref();
    await flush();
    expect(fake.refed).toBe(true);
    poller.remove(3);
    poller.remove(4);
    await flush();
    expect(fake.refed).toBe(false);
  });

  it('ref() and unref() on an empty poller do not touch native', async () => {
    const { fake, poller } = setup();
    poller.unref().ref().unref().ref();
    await flush();
    expect(fake.refCalls).toBe(0);
    await flush();
    expect(fake.unrefCalls).toBe(0);
    expect(poller.hasRef()).toBe(true);
  });

  it('repeated ref()/unref() do not repeat native calls', async () => {
    const { fake, poller } = setup();
    poller.add(3, { readable: true }, noop);
    poller.ref().ref();
    await flush();
    expect(fake.refCalls).toBe(1);
    poller.unref().unref();
    await flush();
    expect(fake.unrefCalls).toBe(1);
  });

  it('a failing add takes no ref; a failing remove keeps it', async () => {
    const { fake, poller } = setup();
    fake.failNext('add', E.EBADF);
    thrown(() => poller.add(3, { readable: true }, noop));
    await flush();
    expect(fake.refCalls).toBe(0);
    poller.add(3, { readable: true }, noop);
    fake.failNext('remove', E.EPERM);
    thrown(() => poller.remove(3));
    await flush();
    expect(fake.refed).toBe(true);
  });

  it('once() and events() watches count too', async () => {
    const { fake, poller } = setup();
    const p = poller.once(3, { readable: true });
    await flush();
    expect(fake.refed).toBe(true);
    fake.fire([[3, R]]);
    await p;
    await flush();
    expect(fake.refed).toBe(false);
    const it = poller.events(4, { readable: true });
    await flush();
    expect(fake.refed).toBe(true);
    await it.return!();
    await flush();
    expect(fake.refed).toBe(false);
  });
});

describe('close()', () => {
  it('is idempotent and leaves fd -1, closed true, size 0', () => {
    const { fake, poller } = setup();
    poller.add(3, { readable: true }, noop);
    poller.add(4, { readable: true }, noop);
    expect(poller.fd).toBe(42);
    expect(poller.closed).toBe(false);
    poller.close();
    poller.close();
    poller[Symbol.dispose]();
    expect(fake.callsOf('close')).toHaveLength(1);
    expect(poller.fd).toBe(-1);
    expect(poller.closed).toBe(true);
    expect(poller.size).toBe(0);
    expect(poller.backend).toBe('epoll');
  });

  it('[Symbol.dispose]() closes', () => {
    const { fake, poller } = setup();
    poller[Symbol.dispose]();
    expect(poller.closed).toBe(true);
    expect(fake.closed).toBe(true);
  });

  it('every method after close reports ERR_POLL_CLOSED (once() and events() by rejecting)', async () => {
    const { fake, poller } = setup();
    const watch = poller.add(3, { readable: true, oneshot: true }, noop);
    poller.close();
    fake.clearCalls();
    const errors: Array<[string, any]> = [
      ['add', thrown(() => poller.add(4, { readable: true }, noop))],
      ['modify', thrown(() => poller.modify(3, { readable: true }))],
      ['remove', thrown(() => poller.remove(3))],
      ['once', await rejected(() => poller.once(4, { readable: true }))],
      ['events', await rejected(() => poller.events(4, { readable: true }))],
      ['watch.modify', thrown(() => watch.modify({ writable: true }))],
      ['watch.rearm', thrown(() => watch.rearm())],
    ];
    for (const [name, err] of errors) expect(err.code, name).toBe('ERR_POLL_CLOSED');
    // Arguments are checked first, in every method: a bad one is reported as such.
    expect(thrown(() => poller.add(-1, { readable: true }, noop)).code).toBe('ERR_OUT_OF_RANGE');
    expect((await rejected(() => poller.once(-1, { readable: true }))).code).toBe('ERR_OUT_OF_RANGE');
    // watch.remove() stays idempotent.
    watch.remove();
    expect(fake.calls).toEqual([]);
  });

  it('a pending once() rejects with ERR_POLL_CLOSED', async () => {
    const { poller } = setup();
    const p = poller.once(3, { readable: true });
    poller.close();
    const err = await p.then(
      () => null,
      (e) => e,
    );
    expect(err.code).toBe('ERR_POLL_CLOSED');
  });

  it('a pending events() next() rejects with ERR_POLL_CLOSED, then the iterator is done', async () => {
    const { poller } = setup();
    const it = poller.events(3, { readable: true });
    const next = it.next();
    poller.close();
    const err = await next.then(
      () => null,
      (e) => e,
    );
    expect(err.code).toBe('ERR_POLL_CLOSED');
    expect(await it.next()).toEqual({ value: undefined, done: true });
  });

  it('close() with events() idle: the next next() rejects with ERR_POLL_CLOSED, then done', async () => {
    const { poller } = setup();
    const it = poller.events(3, { readable: true });
    poller.close();
    const err = await it.next().then(
      () => null,
      (e) => e,
    );
    expect(err.code).toBe('ERR_POLL_CLOSED');
    expect(await it.next()).toEqual({ value: undefined, done: true });
  });

  it('the native poller is not used after close, even from watch.remove() or once() cleanup', async () => {
    const { fake, poller } = setup();
    const watch = poller.add(3, { readable: true }, noop);
    const p = poller.once(4, { readable: true }).catch((e) => e);
    const it = poller.events(5, { readable: true });
    poller.close();
    watch.remove();
    await p;
    await it.return!();
    expect(fake.calls.at(-1)).toEqual({ op: 'close' });
  });
});

describe('once()', () => {
  // docs/API.md (once() and events()): a promise settles as its event is dispatched; a later
  // callback of the same batch that closes the poller or removes the fd is too late for it, an
  // earlier one ends it first.
  describe('in one batch with a callback that closes the poller or removes its fd', () => {
    const ends = [
      ['closes the poller', 'ERR_POLL_CLOSED', (poller: PollerBase) => poller.close()],
      ['removes the fd', 'ERR_POLL_NOT_WATCHED', (poller: PollerBase) => poller.remove(3)],
    ] as const;
    it.each(ends)('its event first: it resolves, and a callback after it that %s finds it gone', async (_what, _code, end) => {
      const { fake, poller } = setup();
      const p = poller.once(3, { readable: true });
      let ended: boolean | void = undefined;
      poller.add(4, { readable: true }, () => (ended = end(poller)));
      fake.fire([
        [3, R],
        [4, R],
      ]);
      expect(await p).toEqual(ev(3, { readable: true }));
      expect(ended).not.toBe(true); // remove(3): false, nothing of it was left to remove
    });
    it.each(ends)('the callback first: it %s, and the once() rejects with %s, its event not delivered', async (_what, code, end) => {
      const { fake, poller } = setup();
      const p = poller.once(3, { readable: true });
      poller.add(4, { readable: true }, () => end(poller));
      fake.fire([
        [4, R],
        [3, R],
      ]);
      await expect(p).rejects.toMatchObject({ code });
    });
  });

  it('resolves with the first event and removes its watch', async () => {
    const { fake, poller } = setup();
    const p = poller.once(3, { readable: true });
    expect(poller.size).toBe(1);
    fake.fire([[3, R | H]]);
    expect(poller.size).toBe(0);
    expect(fake.callsOf('remove')).toEqual([{ op: 'remove', fd: 3 }]);
    expect(await p).toEqual(ev(3, { readable: true, hangup: true }));
  });

  it('registers with the ONESHOT bit', () => {
    const { fake, poller } = setup();
    void poller.once(3, { writable: true, edge: true });
    void poller.once(4, { readable: true, oneshot: false });
    expect(fake.callsOf('add').map((c) => [c.fd, c.mask])).toEqual([
      [3, W | EDGE | ONESHOT],
      [4, R | ONESHOT],
    ]);
  });

  it('the fd can be used again once it resolved', async () => {
    const { fake, poller } = setup();
    const p = poller.once(3, { readable: true });
    fake.fire([[3, R]]);
    await p;
    const cb = vi.fn();
    poller.add(3, { readable: true }, cb);
    fake.fire([[3, R]]);
    expect(cb).toHaveBeenCalledTimes(1);
  });

  it('a stale event does not resolve it', async () => {
    const { fake, poller } = setup();
    const p = poller.once(3, { readable: true });
    fake.fireStale(3, R);
    expect(poller.size).toBe(1);
    let settled = false;
    void p.then(() => (settled = true));
    await immediate();
    expect(settled).toBe(false);
    fake.fire([[3, R]]);
    await p;
  });

  it('abort rejects with an AbortError and removes the watch', async () => {
    const { fake, poller } = setup();
    const ac = new AbortController();
    const p = poller.once(3, { readable: true }, { signal: ac.signal });
    const reason = new Error('stop');
    ac.abort(reason);
    expect(poller.size).toBe(0);
    expect(fake.callsOf('remove')).toHaveLength(1);
    await flush();
    expect(fake.refed).toBe(false);
    const err = await p.then(
      () => null,
      (e) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('AbortError');
    expect(err.code).toBe('ABORT_ERR');
    expect(err.cause).toBe(reason);
  });

  it('an already-aborted signal rejects without registering', async () => {
    const { fake, poller } = setup();
    const p = poller.once(3, { readable: true }, { signal: AbortSignal.abort() });
    expect(poller.size).toBe(0);
    expect(fake.calls).toEqual([]);
    const err = await p.then(
      () => null,
      (e) => e,
    );
    expect(err.name).toBe('AbortError');
    expect(err.code).toBe('ABORT_ERR');
  });

  it('settling removes the abort listener; a later abort changes nothing', async () => {
    const { getEventListeners } = await import('node:events');
    const { fake, poller } = setup();
    const ac = new AbortController();
    const p = poller.once(3, { readable: true }, { signal: ac.signal });
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(1);
    fake.fire([[3, R]]);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    ac.abort();
    expect(await p).toEqual(ev(3, { readable: true }));
  });

  it('argument errors reject, as Node\'s promise APIs do, and register nothing', async () => {
    const { fake, poller } = setup();
    expect((await rejected(() => poller.once(-1, { readable: true }))).code).toBe('ERR_OUT_OF_RANGE');
    expect((await rejected(() => poller.once(3, { nope: true } as never))).code).toBe('ERR_INVALID_ARG_VALUE');
    expect((await rejected(() => poller.once(3, { readable: true }, { signal: 1 } as never))).code).toBe('ERR_INVALID_ARG_TYPE');
    poller.add(3, { readable: true }, noop);
    expect((await rejected(() => poller.once(3, { readable: true }))).code).toBe('ERR_POLL_ALREADY_WATCHED');
    expect(fake.callsOf('add')).toHaveLength(1);
  });

  it('checks in one order: arguments, closed, already watched, aborted signal, kernel', async () => {
    const { fake, poller } = setup();
    poller.add(3, { readable: true }, noop);
    const aborted = AbortSignal.abort();
    // already watched comes before an aborted signal, which comes before the kernel
    expect((await rejected(() => poller.once(3, { readable: true }, { signal: aborted }))).code).toBe('ERR_POLL_ALREADY_WATCHED');
    expect((await rejected(() => poller.events(3, { readable: true }, { signal: aborted }))).code).toBe('ERR_POLL_ALREADY_WATCHED');
    fake.failNext('add', E.EPERM);
    expect((await rejected(() => poller.once(4, { readable: true }, { signal: aborted }))).name).toBe('AbortError');
    expect(fake.callsOf('add')).toHaveLength(1); // the kernel was not asked
    poller.close();
    // a bad argument comes before a closed poller
    expect((await rejected(() => poller.once(3, {} as never))).code).toBe('ERR_INVALID_ARG_VALUE');
    expect((await rejected(() => poller.once(3, { readable: true }, { signal: aborted }))).code).toBe('ERR_POLL_CLOSED');
  });

  it('a native add failure rejects and leaves nothing behind', async () => {
    const { fake, poller } = setup();
    const ac = new AbortController();
    fake.failNext('add', E.EPERM);
    const err = await rejected(() => poller.once(3, { readable: true }, { signal: ac.signal }));
    expect(err).toBeInstanceOf(PollError);
    expect(err.code).toBe('EPERM');
    expect(poller.size).toBe(0);
    const { getEventListeners } = await import('node:events');
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    fake.failNext('add', E.EPERM);
    expect((await rejected(() => poller.events(3, { readable: true }, { signal: ac.signal }))).code).toBe('EPERM');
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    poller.close(); // must not trip over a half-made once()
  });
});

/** What each of `n` successive next() calls gave: a value, an error, or done. */
async function outcomes(it: AsyncIterator<PollEvent>, n: number): Promise<Array<'error' | 'value' | 'done'>> {
  const results: Array<'error' | 'value' | 'done'> = [];
  for (let i = 0; i < n; i++) {
    try {
      const r = await it.next();
      results.push(r.done ? 'done' : 'value');
    } catch {
      results.push('error');
    }
  }
  return results;
}

describe('events()', () => {
  it('level interest is registered oneshot and rearmed only when next() follows a consumed event', async () => {
    const { fake, poller } = setup();
    const it = poller.events(3, { readable: true });
    expect(fake.callsOf('add')).toEqual([{ op: 'add', fd: 3, mask: R | ONESHOT, token: expect.any(Number) }]);
    const token = fake.tokenOf(3);

    const first = it.next();
    expect(fake.callsOf('modify')).toHaveLength(0); // armed by add()
    fake.fire([[3, R]]);
    expect(await first).toEqual({ value: ev(3, { readable: true }), done: false });
    expect(fake.callsOf('modify')).toHaveLength(0); // not until the consumer asks again

    const second = it.next();
    expect(fake.callsOf('modify')).toEqual([{ op: 'modify', fd: 3, mask: R | ONESHOT, token: expect.any(Number) }]);
    expect(fake.tokenOf(3)).not.toBe(token);
    fake.fire([[3, R | H]]);
    expect(await second).toEqual({ value: ev(3, { readable: true, hangup: true }), done: false });

    void it.next();
    expect(fake.callsOf('modify')).toHaveLength(2);
    await it.return!();
  });

  it('level: an event that arrives before next() is kept and returned without rearming', async () => {
    const { fake, poller } = setup();
    const it = poller.events(3, { writable: true });
    fake.fire([[3, W]]);
    expect(await it.next()).toEqual({ value: ev(3, { writable: true }), done: false });
    expect(fake.callsOf('modify')).toHaveLength(0);
    const pending = it.next();
    expect(fake.callsOf('modify')).toHaveLength(1);
    fake.fire([[3, W]]);
    expect((await pending).value).toEqual(ev(3, { writable: true }));
    await it.return!();
  });

  it('oneshot edge interest is per-pull as well', async () => {
    const { fake, poller } = setup();
    const it = poller.events(3, { readable: true, edge: true, oneshot: true });
    expect(fake.callsOf('add')[0]!.mask).toBe(R | EDGE | ONESHOT);
    fake.fire([[3, R]]);
    await it.next();
    void it.next();
    expect(fake.callsOf('modify')).toHaveLength(1);
    await it.return!();
  });

  it('edge interest is not oneshot, never rearmed, and merges events fired before next()', async () => {
    const { fake, poller } = setup();
    const it = poller.events(3, { readable: true, writable: true, edge: true });
    expect(fake.callsOf('add')[0]!.mask).toBe(R | W | EDGE);
    fake.fire([[3, R]]);
    fake.fire([[3, W | H]]);
    expect(await it.next()).toEqual({
      value: ev(3, { readable: true, writable: true, hangup: true }),
      done: false,
    });
    const next = it.next();
    fake.fire([[3, ER]]);
    expect(await next).toEqual({ value: ev(3, { error: true }), done: false });
    expect(fake.callsOf('modify')).toHaveLength(0);
    await it.return!();
  });

  it('breaking out of for await removes the watch', async () => {
    const { fake, poller } = setup();
    const it = poller.events(3, { readable: true });
    const seen: PollEvent[] = [];
    const loop = (async () => {
      for await (const event of it) {
        seen.push(event);
        if (seen.length === 2) break;
      }
    })();
    await immediate();
    fake.fire([[3, R]]);
    await immediate();
    fake.fire([[3, R]]);
    await loop;
    expect(seen).toHaveLength(2);
    expect(poller.size).toBe(0);
    expect(fake.callsOf('remove')).toEqual([{ op: 'remove', fd: 3 }]);
    await flush();
    expect(fake.refed).toBe(false);
    expect(await it.next()).toEqual({ value: undefined, done: true });
  });

  it('return() resolves a pending next() with done', async () => {
    const { poller } = setup();
    const it = poller.events(3, { readable: true });
    const pending = it.next();
    expect(await it.return!()).toEqual({ value: undefined, done: true });
    expect(await pending).toEqual({ value: undefined, done: true });
    expect(poller.size).toBe(0);
  });

  it('abort rejects the pending next() with an AbortError, then the iterator is done', async () => {
    const { fake, poller } = setup();
    const ac = new AbortController();
    const it = poller.events(3, { readable: true }, { signal: ac.signal });
    const pending = it.next();
    ac.abort();
    expect(poller.size).toBe(0);
    expect(fake.callsOf('remove')).toHaveLength(1);
    const err = await pending.then(
      () => null,
      (e) => e,
    );
    expect(err.name).toBe('AbortError');
    expect(err.code).toBe('ABORT_ERR');
    expect(await it.next()).toEqual({ value: undefined, done: true });
  });

  it('abort while no next() is pending rejects the next next(), then done', async () => {
    const { poller } = setup();
    const ac = new AbortController();
    const it = poller.events(3, { readable: true }, { signal: ac.signal });
    ac.abort();
    const err = await it.next().then(
      () => null,
      (e) => e,
    );
    expect(err.name).toBe('AbortError');
    expect(await it.next()).toEqual({ value: undefined, done: true });
  });

  it('abort makes a for await loop throw AbortError and removes the watch', async () => {
    const { fake, poller } = setup();
    const ac = new AbortController();
    const seen: PollEvent[] = [];
    const loop = (async () => {
      for await (const event of poller.events(3, { readable: true }, { signal: ac.signal })) seen.push(event);
    })();
    await immediate();
    fake.fire([[3, R]]);
    await immediate();
    ac.abort();
    const err = await loop.then(
      () => null,
      (e) => e,
    );
    expect(err.name).toBe('AbortError');
    expect(seen).toHaveLength(1);
    expect(poller.size).toBe(0);
  });

  it('an already-aborted signal registers nothing; next() rejects, then done', async () => {
    const { fake, poller } = setup();
    const it = poller.events(3, { readable: true }, { signal: AbortSignal.abort() });
    expect(fake.calls).toEqual([]);
    expect(poller.size).toBe(0);
    const err = await it.next().then(
      () => null,
      (e) => e,
    );
    expect(err.code).toBe('ABORT_ERR');
    expect(await it.next()).toEqual({ value: undefined, done: true });
  });

  it('after an abort: the event received before it, then the AbortError, then done', async () => {
    const { fake, poller } = setup();
    const ac = new AbortController();
    const it = poller.events(3, { readable: true }, { signal: ac.signal });
    fake.fire([[3, R]]); // buffered: nobody is waiting in next()
    ac.abort();
    // Like events.on(): what was received is still yielded, then the error, then nothing.
    expect(await outcomes(it, 3)).toEqual(['value', 'error', 'done']);
  });

  it('after close(): the event received before it, then ERR_POLL_CLOSED, then done', async () => {
    const { fake, poller } = setup();
    const it = poller.events(3, { readable: true });
    fake.fire([[3, R]]);
    poller.close();
    // Like events.on(): what was received is still yielded, then the error, then nothing.
    expect(await outcomes(it, 3)).toEqual(['value', 'error', 'done']);
  });

  it('after return(), next() is done even if an abort came first', async () => {
    const { poller } = setup();
    const ac = new AbortController();
    const it = poller.events(3, { readable: true }, { signal: ac.signal });
    ac.abort();
    expect(await it.return!()).toEqual({ value: undefined, done: true });
    expect(await it.next().catch((e) => e.name)).toEqual({ value: undefined, done: true });
  });

  it('is its own async iterator', () => {
    const { poller } = setup();
    const it = poller.events(3, { readable: true });
    expect(it[Symbol.asyncIterator]()).toBe(it);
  });

  it('argument errors reject the first next(), then the iterator is done', async () => {
    const { fake, poller } = setup();
    expect((await rejected(() => poller.events(1.5, { readable: true }))).code).toBe('ERR_OUT_OF_RANGE');
    expect((await rejected(() => poller.events(3, {} as never))).code).toBe('ERR_INVALID_ARG_VALUE');
    poller.add(3, { readable: true }, noop);
    expect((await rejected(() => poller.events(3, { readable: true }))).code).toBe('ERR_POLL_ALREADY_WATCHED');
    expect(fake.callsOf('add')).toHaveLength(1);
  });
});

describe('watches ended by another hand', () => {
  it('once() rejects with ERR_POLL_NOT_WATCHED when its fd is removed through the poller', async () => {
    const { poller } = setup();
    const pending = poller.once(3, { readable: true });
    expect(poller.remove(3)).toBe(true);
    await expect(pending).rejects.toMatchObject({ code: 'ERR_POLL_NOT_WATCHED' });
    expect(poller.size).toBe(0);
  });

  it('events() rejects the pending next() with ERR_POLL_NOT_WATCHED when its fd is removed, then is done', async () => {
    const { poller } = setup();
    const it = poller.events(3, { readable: true });
    const next = it.next();
    poller.remove(3);
    await expect(next).rejects.toMatchObject({ code: 'ERR_POLL_NOT_WATCHED' });
    await expect(it.next()).resolves.toEqual({ value: undefined, done: true });
  });

  it('once() settling by its own event does not report itself as removed', async () => {
    const { fake, poller } = setup();
    const pending = poller.once(3, { readable: true });
    fake.fire([[3, R]]);
    await expect(pending).resolves.toMatchObject({ fd: 3, readable: true });
  });
});

describe('pinning the poller while it watches', () => {
  it('holds the batch callback strongly exactly while something is watched, ref\'d or not', async () => {
    const { fake, poller } = setup();
    await flush();
    expect(fake.pinned).toBe(false);
    poller.unref();
    const watch = poller.add(3, { readable: true }, noop);
    await flush();
    expect(fake.pinned).toBe(true); // an unref'd watch still delivers
    poller.add(4, { readable: true }, noop);
    watch.remove();
    await flush();
    expect(fake.pinned).toBe(true);
    poller.remove(4);
    await flush();
    expect(fake.pinned).toBe(false);
    await flush();
    expect(fake.callsOf('pin')).toHaveLength(2);
  });
});

describe('ref and pin reach the native side once per job', () => {
  it('an add() and remove() in the same job (churn) make no native ref or pin calls', async () => {
    const { fake, poller } = setup();
    for (let i = 0; i < 100; i++) poller.remove(poller.add(3, { readable: true }, noop).fd);
    await flush();
    expect(fake.callsOf('ref')).toHaveLength(0);
    expect(fake.callsOf('pin')).toHaveLength(0);
    expect(fake.refed).toBe(false);
  });

  it('a watch added in this job holds the loop once the job is done', async () => {
    const { fake, poller } = setup();
    poller.add(3, { readable: true }, noop);
    await flush();
    expect(fake.refed).toBe(true);
    expect(fake.pinned).toBe(true);
  });
});

describe('mask-level watches (kWatchMask, for @poll/epoll)', () => {
  const { PEER_SHUTDOWN: PS } = Bits;

  it('hands the callback the raw bits, with no event object; PollEvent.hangup is HANGUP or PEER_SHUTDOWN', () => {
    const { fake, poller } = setup();
    const raw = vi.fn();
    const cooked = vi.fn();
    poller[kWatchMask](7, R | PS, raw);
    poller.add(8, { readable: true }, cooked);
    fake.fire([
      [7, R | PS],
      [8, R | PS],
    ]);
    expect(raw).toHaveBeenCalledWith(7, R | PS);
    expect(cooked).toHaveBeenCalledWith(ev(8, { readable: true, hangup: true }));
  });

  it('takes an interest with no readiness bits (the kernel then reports hangup and error only)', () => {
    const { fake, poller } = setup();
    poller[kWatchMask](7, 0, noop);
    poller[kWatchMask](8, EDGE | ONESHOT, noop);
    expect(fake.callsOf('add').map((c) => c.mask)).toEqual([0, EDGE | ONESHOT]);
    // The public add() still asks for at least one of them.
    expect(thrown(() => poller.add(9, {}, noop))).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
  });

  it('refuses bits that are not interest, and bits the backend cannot do, changing nothing', () => {
    const { fake, poller } = setup(undefined, { supported: R | W | EDGE | ONESHOT });
    expect(thrown(() => poller[kWatchMask](7, H, noop))).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    expect(thrown(() => poller[kWatchMask](7, 1.5, noop))).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    expect(thrown(() => poller[kWatchMask](7, R | PS, noop))).toMatchObject({ code: 'ERR_POLL_UNSUPPORTED' });
    expect(fake.callsOf('add')).toEqual([]);
    expect(poller.size).toBe(0);
  });

  it('kModifyMask changes the mask under a new token and rearms a fired oneshot', () => {
    const { fake, poller } = setup();
    const raw = vi.fn();
    poller[kWatchMask](7, R | ONESHOT, raw);
    fake.fire([[7, R]]);
    const token = fake.tokenOf(7);
    poller[kModifyMask](7, R | ONESHOT);
    expect(fake.tokenOf(7)).not.toBe(token);
    fake.fire([[7, token, R]]); // stale
    fake.fire([[7, R]]);
    expect(raw).toHaveBeenCalledTimes(2);
    expect(thrown(() => poller[kModifyMask](8, R))).toMatchObject({ code: 'ERR_POLL_NOT_WATCHED' });
  });

  it("add()'s onEnd: told of close() (ERR_POLL_CLOSED), never of remove() or watch.remove(); bad options are TypeErrors that change nothing", () => {
    const { poller } = setup();
    const ends: string[] = [];
    const onEnd = (e: Error) => ends.push((e as Error & { code: string }).code);
    const watch = poller.add(7, { readable: true }, noop, { onEnd });
    poller.add(8, { readable: true }, noop, { onEnd });
    poller.add(9, { readable: true }, noop, { onEnd });
    watch.remove();
    poller.remove(8);
    expect(ends).toEqual([]);
    expect(thrown(() => poller.add(10, { readable: true }, noop, { onEnd: 1 } as never))).toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    expect(thrown(() => poller.add(10, { readable: true }, noop, { onend: noop } as never))).toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' });
    expect(thrown(() => poller.add(10, { readable: true }, noop, null as never))).toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    expect(poller.size).toBe(1);
    poller.close();
    expect(ends).toEqual(['ERR_POLL_CLOSED']);
  });

  it("an onEnd that throws is an uncaught exception after close(): every other watch, once() and stream still ends", async () => {
    const { fake, poller } = setup();
    (fake as unknown as { io: BackendIo }).io = {
      read: () => -constants.errno.EAGAIN,
      write: () => -constants.errno.EAGAIN,
      setNonblock: () => 1,
      strerror: () => 'scripted',
    };
    const boom = new Error('boom from onEnd');
    const ends: string[] = [];
    poller.add(7, { readable: true }, noop, {
      onEnd: () => {
        throw boom;
      },
    });
    poller.add(8, { readable: true }, noop, { onEnd: (e) => ends.push(`8 ${e.code}`) });
    const pending = rejection(poller.once(9, { readable: true }));
    // A number no descriptor of this process has; autoClose: false, so nothing is closed.
    const stream = poller.createReadStream(1_000_000, { autoClose: false });
    stream.on('error', noop);
    stream.resume();
    await immediate(); // the stream asks for data and waits on its watch
    const { caught, restore } = catchUncaught();
    try {
      poller.close(); // does not throw
      expect(caught).toEqual([]); // not inside close()
      expect(ends).toEqual(['8 ERR_POLL_CLOSED']);
      expect(poller.closed).toBe(true);
      expect(poller.size).toBe(0);
      expect(stream.destroyed).toBe(true);
      await immediate();
    } finally {
      restore();
    }
    expect(caught).toEqual([boom]);
    expect(await pending).toMatchObject({ code: 'ERR_POLL_CLOSED' });
  });

  it('onEnd hears of an end by the poller (close()) with the fd, not of its owner\'s remove()', () => {
    const { poller } = setup();
    const ends: string[] = [];
    const onEnd = (e: Error, fd: number) => ends.push(`${fd} ${(e as Error & { code: string }).code}`);
    poller[kWatchMask](7, R, noop, onEnd);
    poller[kWatchMask](8, R, noop, onEnd);
    poller.remove(7);
    poller.close();
    expect(ends).toEqual(['8 ERR_POLL_CLOSED']);
  });
});
