// Descriptors kqueue refuses (macOS answers EV_ADD with EINVAL for some devices, ttys of some
// serial drivers among them) are watched with select(2) on a thread of the poller's own. Here
// a kqueue that refuses what POLL_KQUEUE_REFUSE names (refuse/refuse.c, read at every change)
// stands in for macOS: the real ttys are ptys, refused as macOS may refuse a serial port.
import { afterEach, describe, expect, it } from 'vitest';
import { PollError, type PollerBase, type PollEvent } from '@poll/core';
import { closeAll, closeFrom, read, runNode, sys, threadsNamed, write } from '@poll/testkit';
import { recorder, settle } from '@poll/behaviour';
// @ts-expect-error: a plain ES module of this harness
import { Poller } from '../refusing.mjs';

const refusing = new URL('../refusing.mjs', import.meta.url).href;
const open: number[] = [];
const pollers: PollerBase[] = [];
const poller = (): PollerBase => {
  const p = new Poller() as PollerBase;
  pollers.push(p);
  return p;
};
const pty = (): [number, number] => {
  const pair = sys.openpty();
  open.push(...pair);
  return pair;
};
const refuse = (rule: string): void => {
  process.env.POLL_KQUEUE_REFUSE = rule;
};
/** This process's threads named poll-select: one per poller that watches a refused descriptor. */
const selectThreads = (): number => threadsNamed('poll-select');

afterEach(() => {
  for (const p of pollers.splice(0)) p.close();
  closeAll(open.splice(0));
  delete process.env.POLL_KQUEUE_REFUSE;
});

describe.runIf(process.platform === 'linux')('descriptors kqueue refuses, watched with select(2)', () => {
  it('a refused tty is watched by a select thread; with nothing refused there is none (negative control)', async () => {
    const [master, slave] = pty();
    const p = poller();
    p.add(slave, { readable: true }, () => {});
    expect(selectThreads()).toBe(0); // kqueue took it
    p.remove(slave);
    refuse('tty');
    const before = selectThreads();
    p.add(slave, { readable: true }, () => {});
    expect(selectThreads()).toBe(before + 1);
    p.close();
    expect(selectThreads()).toBe(before); // closing the poller ends and joins its thread
    write(master, 'x');
  });

  it('readable and writable on a refused pty, level-triggered: repeats while unread, stops once read', async () => {
    refuse('tty');
    const [master, slave] = pty();
    const p = poller();
    const rec = recorder();
    p.add(slave, { readable: true }, rec.onEvent);
    expect(await settle(rec)).toBe(0);
    write(master, 'hello');
    await rec.until(3); // unread: reported again at every look
    expect(rec.events[0]).toMatchObject({ fd: slave, readable: true, writable: false });
    expect(read(slave)).toBe('hello');
    const after = await settle(rec);
    expect(await settle(rec, 100)).toBe(after); // drained: quiet
    p.modify(slave, { writable: true });
    const before = rec.events.length;
    await rec.until(before + 1);
    expect(rec.events.at(-1)).toMatchObject({ fd: slave, writable: true, readable: false });
  });

  it('oneshot on a refused pty: one event, quiet until rearm(), then one more', async () => {
    refuse('tty');
    const [master, slave] = pty();
    const p = poller();
    const rec = recorder();
    const watch = p.add(slave, { readable: true, oneshot: true }, rec.onEvent);
    write(master, 'a');
    await rec.until(1);
    expect(await settle(rec, 100)).toBe(1);
    watch.rearm();
    await rec.until(2);
    expect(await settle(rec, 100)).toBe(2);
    expect(read(slave)).toBe('a');
  });

  it('edge-triggered watching of a refused descriptor is refused with the kernel\'s EINVAL; nothing is left watched', () => {
    refuse('tty');
    const [, slave] = pty();
    const p = poller();
    let error: unknown;
    try {
      p.add(slave, { readable: true, edge: true }, () => {});
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PollError);
    expect(error).toMatchObject({ code: 'EINVAL', errno: -22, syscall: 'kevent', fd: slave });
    expect(p.size).toBe(0);
    expect(selectThreads()).toBe(0);
  });

  it('modify() of a select watch to edge is refused, and the watch delivers as before', async () => {
    refuse('tty');
    const [master, slave] = pty();
    const p = poller();
    const rec = recorder();
    p.add(slave, { readable: true, oneshot: true }, rec.onEvent);
    expect(() => p.modify(slave, { readable: true, edge: true })).toThrow(expect.objectContaining({ code: 'EINVAL', syscall: 'kevent' }));
    write(master, 'x');
    await rec.until(1);
    expect(rec.events[0]).toMatchObject({ fd: slave, readable: true });
  });

  it('after remove() nothing more is reported, even with data waiting', async () => {
    refuse('tty');
    const [master, slave] = pty();
    const p = poller();
    const rec = recorder();
    p.add(slave, { readable: true }, rec.onEvent);
    write(master, 'x');
    await rec.until(1);
    p.remove(slave);
    const n = await settle(rec);
    write(master, 'y');
    expect(await settle(rec, 100)).toBe(n);
    expect(p.size).toBe(0);
  });

  it('a descriptor number above FD_SETSIZE (1024) is watched too', async () => {
    const [master, slave] = pty();
    const dups: number[] = [];
    let fd = -1;
    while (fd < 1500) {
      fd = sys.dup(slave);
      dups.push(fd);
    }
    open.push(...dups);
    refuse(String(fd));
    const p = poller();
    const rec = recorder();
    p.add(fd, { readable: true, oneshot: true }, rec.onEvent);
    expect(selectThreads()).toBe(1);
    write(master, 'z');
    await rec.until(1);
    expect(rec.events[0]).toMatchObject({ fd, readable: true });
  });

  it('a refused descriptor closed without remove() stops nothing else: other watches still deliver', async () => {
    refuse('tty');
    const [masterA, slaveA] = pty();
    const [masterB, slaveB] = pty();
    const p = poller();
    const a = recorder();
    const b = recorder();
    p.add(slaveA, { readable: true }, a.onEvent);
    p.add(slaveB, { readable: true }, b.onEvent);
    closeFrom(open, slaveA); // select(2) meets EBADF on its next look
    write(masterB, 'b');
    await b.until(1);
    expect(read(slaveB)).toBe('b');
    expect(a.events).toEqual([]);
    expect(() => p.remove(slaveA)).not.toThrow(); // already gone, as with a kernel filter
    write(masterA, 'a'); // the pty's other side still exists; nobody watches it
  });

  it('a read and a write stream on a refused pty carry every byte both ways', async () => {
    refuse('tty');
    const [master, slave] = pty();
    const reader = poller().createReadStream(slave, { autoClose: false });
    const writer = poller().createWriteStream(slave, { autoClose: false });
    const got: Buffer[] = [];
    reader.on('data', (c: Buffer) => got.push(c));
    const payload = Buffer.alloc(64 * 1024, 'p');
    // The pty's buffer is far smaller than the payload: the writer waits for room (writable
    // through select) while the other side, a read stream of its own, drains the master.
    const written = new Promise<void>((resolve, reject) => writer.end(payload, (err?: Error | null) => (err ? reject(err) : resolve())));
    const device = poller().createReadStream(master, { autoClose: false });
    let drained = 0;
    device.on('data', (c: Buffer) => (drained += c.length));
    while (drained < payload.length) await new Promise((resolve) => setTimeout(resolve, 5));
    device.destroy();
    await written;
    write(master, 'from the device');
    while (Buffer.concat(got).toString() !== 'from the device') await new Promise((resolve) => setTimeout(resolve, 5));
    reader.destroy();
  });

  it('a worker terminated while its poller watches refused descriptors takes the select thread with it', async () => {
    refuse('tty'); // inherited by the child
    const r = await runNode(new URL('fixtures/select-worker.mjs', import.meta.url).pathname, [refusing]);
    expect(r.stderr).toBe('');
    expect(r.json).toEqual({ during: 1, after: 0 });
  });
});
