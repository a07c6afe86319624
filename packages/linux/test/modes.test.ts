import fs from 'node:fs';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Poller } from '@poll/linux';
import { closeAll, fill, read, sys, write } from '@poll/testkit';
import { recorder, turns } from './helpers.js';

describe('trigger modes and event kinds on real descriptors', () => {
  const open: number[] = [];
  const pollers: Poller[] = [];
  const pipe = () => {
    const fds = sys.pipe();
    open.push(...fds);
    return fds;
  };
  const poller = () => {
    const p = new Poller();
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
    await turns(6);
    expect(rec.events.length).toBeGreaterThanOrEqual(3);
    expect(rec.events.every((e) => e.fd === r && e.readable && !e.writable && !e.hangup)).toBe(true);
    expect(read(r)).toBe('abc');
    await turns(2); // an event already taken from the kernel may still be in flight
    const settled = rec.events.length;
    await turns(6);
    expect(rec.events.length).toBe(settled);
  });

  it('edge-triggered: once per change, not while the data sits unread', async () => {
    const p = poller();
    const [r, w] = pipe();
    const rec = recorder();
    p.add(r, { readable: true, edge: true }, rec.onEvent);
    write(w, 'a');
    await rec.until(1);
    await turns(6);
    expect(rec.events.length).toBe(1);
    write(w, 'b'); // a new change: one more event although 'a' is still unread
    await rec.until(2);
    await turns(6);
    expect(rec.events.length).toBe(2);
    expect(read(r)).toBe('ab');
  });

  it('oneshot: one event, then silent until rearm()', async () => {
    const p = poller();
    const [r, w] = pipe();
    const rec = recorder();
    const watch = p.add(r, { readable: true, oneshot: true }, rec.onEvent);
    write(w, 'a');
    await rec.until(1);
    await turns(6);
    expect(rec.events.length).toBe(1);
    write(w, 'b');
    await turns(6);
    expect(rec.events.length).toBe(1);
    watch.rearm(); // still readable, so the kernel reports it again
    await rec.until(2);
    await turns(6);
    expect(rec.events.length).toBe(2);
    expect(p.size).toBe(1);
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
    await turns(6);
    expect(full.events.length).toBe(0);
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
    await turns(4);
    expect(rec.events.length).toBe(0); // nothing to read yet
    p.modify(a, { writable: true });
    await rec.until(1);
    expect(rec.events[0]).toMatchObject({ fd: a, writable: true, readable: false });
  });

  it('hangup: the read end reports hangup when the last writer closes', async () => {
    const p = poller();
    const [r, w] = pipe();
    const rec = recorder();
    p.add(r, { readable: true }, rec.onEvent);
    fs.closeSync(w);
    await rec.until(1);
    expect(rec.events[0]).toMatchObject({ fd: r, hangup: true });
  });

  it('hangup: a socket reports the peer shutting down its side', async () => {
    const p = poller();
    const [a, b] = sys.socketpair();
    open.push(a, b);
    const rec = recorder();
    p.add(a, { readable: true }, rec.onEvent);
    fs.closeSync(b);
    await rec.until(1);
    expect(rec.events[0]).toMatchObject({ fd: a, readable: true, hangup: true });
  });

  it('error: writing end of a pipe whose reader is gone reports error', async () => {
    const p = poller();
    const [r, w] = pipe();
    fs.closeSync(r);
    const rec = recorder();
    p.add(w, { writable: true }, rec.onEvent);
    await rec.until(1);
    expect(rec.events[0]).toMatchObject({ fd: w, error: true });
  });

  it('eventfd: readable after a write, quiet after the counter is read', async () => {
    const p = poller();
    const efd = sys.eventfd(0);
    open.push(efd);
    const rec = recorder();
    p.add(efd, { readable: true }, rec.onEvent);
    await turns(4);
    expect(rec.events.length).toBe(0);
    const one = Buffer.alloc(8);
    one.writeBigUInt64LE(1n);
    fs.writeSync(efd, one);
    await rec.until(1);
    expect(rec.events[0]).toMatchObject({ fd: efd, readable: true });
  });

  it('priority: TCP urgent data is reported as priority', async () => {
    const p = poller();
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
    const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    await new Promise((resolve) => client.once('connect', resolve));
    const peer = await accepted;
    try {
      // Take the receiving socket out of libuv's hands so only our poller watches it.
      peer.pause();
      const fd = (peer as unknown as { _handle: { fd: number } })._handle.fd;
      const clientFd = (client as unknown as { _handle: { fd: number } })._handle.fd;
      const rec = recorder();
      p.add(fd, { priority: true }, rec.onEvent);
      await turns(4);
      expect(rec.events.length).toBe(0);
      sys.sendOob(clientFd);
      await rec.until(1);
      expect(rec.events[0]).toMatchObject({ fd, priority: true });
      p.remove(fd);
    } finally {
      client.destroy();
      peer.destroy();
      server.close();
    }
  });

  it('delivers many ready descriptors in one batch: one JS call per kernel batch', async () => {
    const count = 256;
    for (const [maxEvents, batches] of [[1024, 1], [64, 4]] as const) {
      const p = new Poller({ maxEvents });
      pollers.push(p);
      let seen = 0;
      let batchCount = 0;
      let inBatch = false;
      // Microtasks run after each JS call from the native side, so a new batch starts
      // wherever the previous callback's microtask has run.
      const onEvent = (): void => {
        seen++;
        if (!inBatch) {
          inBatch = true;
          batchCount++;
          queueMicrotask(() => (inBatch = false));
        }
      };
      const writers: number[] = [];
      for (let i = 0; i < count; i++) {
        const [r, w] = pipe();
        p.add(r, { readable: true, edge: true }, onEvent);
        writers.push(w);
      }
      for (const w of writers) write(w, 'x');
      while (seen < count) await turns(1);
      expect(seen).toBe(count);
      expect(batchCount).toBe(batches);
    }
  });
});
