// A stream's one watch on its descriptor, on the fake backend with scripted descriptor I/O: a
// duplex arms one registration for what its two sides wait for, changes it with modify() and
// removes it when neither waits; per-watch ref accounting (add()'s `ref`, a stream's
// ref()/unref()) decides whether the native side keeps the loop alive.
import { once } from 'node:events';
import fs from 'node:fs';
import { constants } from 'node:os';
import { describe, expect, it } from 'vitest';
import { Bits, PollerBase, pollerClass, streamFunctions, type BackendIo } from '../src/index.js';
import { FakeBackend } from './fake-backend.js';
import { setup, noop, thrown } from './helpers.js';
import { setImmediate as immediate } from 'node:timers/promises';

const { EAGAIN } = constants.errno;
const R = Bits.READABLE;
const W = Bits.WRITABLE;
const O = Bits.ONESHOT;
// A number no descriptor of this process has: not a tty, never closed (autoClose: false).
const FD = 1_000_000;

/** Descriptor I/O whose next results a test decides: -EAGAIN unless told otherwise. */
function scriptedIo() {
  const reads: number[] = [];
  const writes: number[] = [];
  const io: BackendIo = {
    read: (_fd, buffer, offset) => {
      const n = reads.shift() ?? -EAGAIN;
      if (n > 0) buffer.fill(120, offset, offset + n);
      return n;
    },
    write: () => writes.shift() ?? -EAGAIN,
    setNonblock: () => 1,
    strerror: () => 'scripted',
  };
  return { io, reads, writes };
}

function duplexSetup() {
  const { fake, poller } = setup();
  const script = scriptedIo();
  (fake as unknown as { io: BackendIo }).io = script.io;
  const ops = () => fake.calls.filter((c) => c.op === 'add' || c.op === 'modify' || c.op === 'remove');
  return { fake, poller, ...script, ops };
}

const flush = () => immediate();

describe("a duplex's one watch", () => {
  it('one registration for both sides: added once, changed with modify as each side starts and stops waiting, removed when neither waits', async () => {
    const { fake, poller, writes, reads, ops } = duplexSetup();
    const d = poller.createDuplex(FD, { autoClose: false, readableHighWaterMark: 4 });
    d.resume(); // the read side reads, finds nothing (EAGAIN) and waits for readable
    await flush();
    expect(ops()).toEqual([{ op: 'add', fd: FD, mask: R | O, token: expect.any(Number) }]);
    d.write('x'); // the kernel takes nothing: the write side waits for writable too
    expect(ops().slice(1)).toEqual([{ op: 'modify', fd: FD, mask: R | W | O, token: expect.any(Number) }]);
    expect(poller.size).toBe(1);
    // Writable: the write goes through; the read side still waits, alone.
    writes.push(1);
    fake.fire([[FD, W]]);
    expect(ops().slice(2)).toEqual([{ op: 'modify', fd: FD, mask: R | O, token: expect.any(Number) }]);
    // Readable: one read, then EAGAIN again: armed for readable once more.
    reads.push(5);
    const data = new Promise((resolve) => d.once('data', resolve));
    fake.fire([[FD, R]]);
    expect(String(await data)).toBe('xxxxx');
    expect(ops().slice(3)).toEqual([{ op: 'modify', fd: FD, mask: R | O, token: expect.any(Number) }]);
    // Paused, its buffer filled by the next report, nothing to write: the watch goes.
    d.pause();
    reads.push(5);
    fake.fire([[FD, R]]);
    expect(d.readableLength).toBe(5);
    expect(ops().slice(4)).toEqual([{ op: 'remove', fd: FD }]);
    expect(poller.size).toBe(0);
    expect(ops().filter((c) => c.op === 'add')).toHaveLength(1);
    d.destroy();
  });

  it('a report for one side leaves the other armed; a hangup wakes both', async () => {
    const { fake, poller, ops, reads, writes } = duplexSetup();
    const d = poller.createDuplex(FD, { autoClose: false });
    d.resume();
    await flush();
    d.write('y');
    const before = ops().length;
    fake.fire([[FD, R]]); // readable only: the writer is not woken, and stays armed
    expect(ops().slice(before)).toEqual([{ op: 'modify', fd: FD, mask: R | W | O, token: expect.any(Number) }]);
    expect(d.writableLength).toBe(1);
    // A hangup wakes both: the reader finds the end, the writer room; neither waits any more.
    reads.push(0);
    writes.push(1);
    const ended = new Promise((resolve) => d.once('end', resolve));
    fake.fire([[FD, Bits.HANGUP]]);
    expect(ops().slice(before + 1)).toEqual([{ op: 'remove', fd: FD }]);
    expect(d.writableLength).toBe(0);
    await ended;
    expect(poller.size).toBe(0);
  });
});

describe('ref accounting per watch', () => {
  it("add() with ref: false does not ref the native side; a ref'd watch beside it does (the control)", async () => {
    const { fake, poller } = setup();
    poller.add(3, { readable: true }, noop, { ref: false });
    await flush();
    expect(fake.refed).toBe(false);
    expect(fake.pinned).toBe(true); // still delivered
    const watch = poller.add(4, { readable: true }, noop);
    await flush();
    expect(fake.refed).toBe(true);
    watch.remove();
    await flush();
    expect(fake.refed).toBe(false);
    poller.remove(3);
    await flush();
    expect(fake.pinned).toBe(false);
  });

  it("poller.unref() still lets go with ref'd watches; modify() keeps a watch's ref", async () => {
    const { fake, poller } = setup();
    poller.add(3, { readable: true }, noop, { ref: false });
    poller.modify(3, { readable: true, writable: true });
    await flush();
    expect(fake.refed).toBe(false);
    poller.add(4, { readable: true }, noop);
    poller.unref();
    await flush();
    expect(fake.refed).toBe(false);
    poller.ref();
    await flush();
    expect(fake.refed).toBe(true);
  });

  it("a removed unref'd watch is forgotten: a ref'd watch on the same fd refs", async () => {
    const { fake, poller } = setup();
    poller.add(3, { readable: true }, noop, { ref: false });
    poller.remove(3);
    poller.add(3, { readable: true }, noop);
    await flush();
    expect(fake.refed).toBe(true);
  });

  it('a bad ref option is a TypeError that changes nothing', () => {
    const { poller } = setup();
    expect(thrown(() => poller.add(3, { readable: true }, noop, { ref: 1 } as never))).toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    expect(poller.size).toBe(0);
  });

  it("a stream's unref() and ref() reach its watch, while it waits and before", async () => {
    const { fake, poller } = duplexSetup();
    const d = poller.createDuplex(FD, { autoClose: false });
    expect(d.unref()).toBe(d);
    d.resume();
    await flush();
    expect(poller.size).toBe(1);
    expect(fake.refed).toBe(false); // unref'd before it waited
    expect(d.ref()).toBe(d);
    await flush();
    expect(fake.refed).toBe(true);
    d.unref();
    await flush();
    expect(fake.refed).toBe(false);
    d.destroy();
    expect(d.ref()).toBe(d); // after its end: nothing to do
  });
});

describe('stream options', () => {
  // Node's own messages end with what they received; so do the streams', for every option
  // checked by type.
  const bad: Array<[string, (p: ReturnType<typeof duplexSetup>['poller']) => unknown, string, string]> = [
    ['options not an object', (p) => p.createReadStream(FD, 42 as never), 'ERR_INVALID_ARG_TYPE', `The "options" argument must be of type object. Received type number (42)`],
    ['a string for a duplex (only read and write streams take it as the encoding)', (p) => p.createDuplex(FD, 'utf8' as never), 'ERR_INVALID_ARG_TYPE', `The "options" argument must be of type object. Received type string ('utf8')`],
    ['a string that is no encoding', (p) => p.createWriteStream(FD, 'klingon' as never), 'ERR_INVALID_ARG_VALUE', `The "options.encoding" property must be an encoding Buffer knows, such as 'utf8'. Received 'klingon'`],
    ['highWaterMark not a number', (p) => p.createReadStream(FD, { highWaterMark: '16' as never }), 'ERR_INVALID_ARG_TYPE', `The "options.highWaterMark" property must be of type number. Received type string ('16')`],
    ['an encoding Buffer does not know', (p) => p.createReadStream(FD, { encoding: 'klingon' as never }), 'ERR_INVALID_ARG_VALUE', `The "options.encoding" property must be an encoding Buffer knows, such as 'utf8'. Received 'klingon'`],
    ['autoClose not a boolean', (p) => p.createWriteStream(FD, { autoClose: 1 as never }), 'ERR_INVALID_ARG_TYPE', 'The "options.autoClose" property must be of type boolean. Received type number (1)'],
    ['signal not an AbortSignal', (p) => p.createDuplex(FD, { signal: {} as never }), 'ERR_INVALID_ARG_TYPE', 'The "options.signal" property must be an instance of AbortSignal. Received an instance of Object'],
  ];
  it.each(bad)('%s: a TypeError that says what it received, and nothing watched', (_what, make, code, message) => {
    const { poller, ops } = duplexSetup();
    const err = thrown(() => make(poller));
    expect(err.constructor.name).toBe('TypeError');
    expect(err.code).toBe(code);
    expect(err.message).toContain(message);
    expect(ops()).toEqual([]);
    expect(poller.size).toBe(0);
  });

  it("the stream functions take a string as the encoding, as fs's do, on the thread's own pollers", async () => {
    const fake = new FakeBackend();
    const script = scriptedIo();
    const written: string[] = [];
    script.io.write = (_fd, buffer, offset, length) => (written.push(Buffer.from(buffer.subarray(offset, offset + length)).toString('hex')), length);
    script.reads.push(2);
    (fake as unknown as { io: BackendIo }).io = script.io;
    // Real descriptors: a string leaves autoClose on, so the streams close them.
    const [rfd, wfd] = [fs.openSync('/dev/null', 'r'), fs.openSync('/dev/null', 'w')];
    const { createReadStream, createWriteStream } = streamFunctions(pollerClass(fake));
    const r = createReadStream(rfd, 'latin1');
    const w = createWriteStream(wfd, 'hex');
    expect(r.readableEncoding).toBe('latin1');
    const chunk = new Promise((resolve) => r.once('data', resolve));
    expect(await chunk).toBe('xx'); // the scripted read fills with 120, 'x'
    await new Promise<void>((resolve, reject) => w.write('c0ffee', (err) => (err ? reject(err) : resolve())));
    expect(written).toEqual(['c0ffee']); // decoded from hex, not written as its six characters
    const closed = Promise.all([once(r, 'close'), once(w, 'close')]);
    r.destroy();
    w.destroy();
    await closed;
    expect(() => fs.fstatSync(rfd)).toThrow(expect.objectContaining({ code: 'EBADF' }));
    expect(() => fs.fstatSync(wfd)).toThrow(expect.objectContaining({ code: 'EBADF' }));
  });

  it("the stream functions' options.poller that is not a Poller: a TypeError that says what it received", () => {
    const { createReadStream } = streamFunctions(pollerClass(new FakeBackend()));
    const err = thrown(() => createReadStream(FD, { poller: {} as PollerBase }));
    expect(err.constructor.name).toBe('TypeError');
    expect(err.code).toBe('ERR_INVALID_ARG_TYPE');
    expect(err.message).toBe('The "options.poller" property must be an instance of Poller. Received an instance of Object');
  });
});
