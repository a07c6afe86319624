// Streams on descriptors (Poller#createReadStream / #createWriteStream / #createDuplex), on real
// FIFOs, ptys, socketpairs, pipes and eventfds, in this process, in workers and in child processes.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { PollerBase } from '@poll/core';
import { closeAll, isOpen, rawfs, read, runNode, runtime, runtimeArgs, sys } from '@poll/testkit';
import type { Target } from './target.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

/** Resolves once `ready()` holds, checked every few ms: waiting for a state, not timing it. */
async function until(ready: () => boolean, what: string): Promise<void> {
  await within(
    (async () => {
      while (!ready()) await new Promise((resolve) => setTimeout(resolve, 5));
    })(),
    10_000,
    what,
  );
}

/** Resolves with what `stream` emitted once it ends; rejects on 'error'. */
function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return new Promise((resolve, reject) => {
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

/** Fails if `promise` has not settled within `ms`: a hang detector, not a speed check. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

const pattern = (n: number): Buffer => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + (i >> 8)) & 0xff;
  return b;
};

export function streams(target: Target): void {
  describe('streams', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'poll-streams-'));
    // Descriptors the test itself closes after it. Never one a stream closes (autoClose): by
    // then its number may belong to something else in this process (vitest's own channel).
    const open: number[] = [];
    const pollers: PollerBase[] = [];
    const streams: Array<Readable | Writable> = [];
    // Every stream a test makes is destroyed after it, before its poller is closed (which would
    // end a stream still waiting with ERR_POLL_CLOSED).
    const poller = () => {
      const p = new target.Poller();
      pollers.push(p);
      const read = p.createReadStream.bind(p);
      const write = p.createWriteStream.bind(p);
      const duplex = p.createDuplex.bind(p);
      p.createReadStream = (fd, options) => track(read(fd, options));
      p.createWriteStream = (fd, options) => track(write(fd, options));
      p.createDuplex = (fd, options) => track(duplex(fd, options));
      return p;
    };
    const track = <T extends Readable | Writable>(stream: T): T => {
      streams.push(stream);
      return stream;
    };
    afterEach(() => {
      for (const s of streams.splice(0)) {
        s.on('error', () => {});
        s.destroy();
      }
      for (const p of pollers.splice(0)) p.close();
      closeAll(open.splice(0));
    });
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    let fifos = 0;
    /** A FIFO, opened without blocking: [read end, write end]. */
    const fifo = (): [number, number] => {
      const file = path.join(dir, `fifo-${fifos++}`);
      spawnSync('mkfifo', [file]);
      const r = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
      const w = fs.openSync(file, fs.constants.O_WRONLY);
      open.push(r, w);
      return [r, w];
    };

    it('eight FIFOs read at once leave the threadpool free: fs.readFile still completes', async () => {
      const p = poller();
      const ends = Array.from({ length: 8 }, fifo);
      const got = ends.map(([r]) => {
        const s = p.createReadStream(r, { autoClose: false });
        return new Promise<string>((resolve) => s.once('data', (c: Buffer) => resolve(c.toString())));
      });
      // Nothing written yet: every stream waits. A read in the threadpool would now hold four threads.
      const text = await within(fs.promises.readFile(fileURLToPath(import.meta.url), 'utf8'), 10_000, 'fs.readFile');
      expect(text).toContain('eight FIFOs');
      ends.forEach(([, w], i) => rawfs.writeSync(w, `fifo ${i}`));
      expect(await Promise.all(got)).toEqual(ends.map((_, i) => `fifo ${i}`));
    });

    // The control is about Node's fs streams, which block one of libuv's four pool threads per
    // FIFO read; other runtimes' fs streams are built otherwise (Bun's read eight FIFOs at once),
    // so there it has no claim to check and is not registered.
    if (runtime === 'node') it('fs.createReadStream on eight FIFOs does hold the threadpool (the control)', async () => {
      const child = spawn(process.execPath, [...runtimeArgs(), path.join(fixtures, 'fs-fifos.mjs'), dir], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (c) => (out += c));
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const stuck = out.includes('waiting') && !out.includes('readFile done');
      child.kill('SIGKILL');
      await once(child, 'close');
      expect(stuck).toBe(true);
    });

    it('reads a pipe to its end, then closes the descriptor (autoClose)', async () => {
      const [r, w] = sys.pipe(); // both closed by their streams
      const s = poller().createReadStream(r);
      const closed = once(s, 'close');
      const all = collect(s);
      const data = pattern(300_000);
      const writer = poller().createWriteStream(w);
      writer.end(data);
      await once(writer, 'close');
      expect((await all).equals(data)).toBe(true);
      await closed;
      expect(isOpen(r)).toBe(false);
      expect(isOpen(w)).toBe(false);
    });

    it('a socketpair: what one side writes, the other reads; its shutdown is the end', async () => {
      const [a, b] = sys.socketpair();
      const reader = poller().createReadStream(a);
      const all = collect(reader);
      const writer = poller().createWriteStream(b);
      writer.write('hello, ');
      writer.end('world');
      expect((await all).toString()).toBe('hello, world');
    });

    it('a pty: the master reads what the slave writes, and the slave closing ends it', async () => {
      const [master, slave] = sys.openpty(); // the master closed by its stream, the slave below
      const s = poller().createReadStream(master);
      const all = collect(s);
      rawfs.writeSync(slave, 'typed on the terminal');
      await new Promise((resolve) => setTimeout(resolve, 50));
      rawfs.closeSync(slave);
      expect((await all).toString()).toBe('typed on the terminal'); // EIO from the master is its end
    });

    it("a terminal is reopened for itself: the caller's descriptor stays blocking", async () => {
      const [master, slave] = sys.openpty();
      open.push(master, slave);
      expect(sys.fdFlags(slave).nonblock).toBe(false);
      const s = poller().createReadStream(slave, { autoClose: false });
      const first = new Promise<string>((resolve) => s.once('data', (c: Buffer) => resolve(c.toString())));
      rawfs.writeSync(master, 'keys');
      expect(await first).toBe('keys');
      // On Linux the stream has a description of its own; elsewhere it shares and restores.
      if (process.platform === 'linux') expect(sys.fdFlags(slave).nonblock).toBe(false);
      s.destroy();
      await once(s, 'close');
      expect(sys.fdFlags(slave).nonblock).toBe(false);
      expect(isOpen(slave)).toBe(true);
    });

    it('O_NONBLOCK set for a stream is taken back when it ends without closing (autoClose: false)', async () => {
      const [r, w] = sys.pipe({ nonblock: false });
      open.push(r, w);
      expect(sys.fdFlags(r).nonblock).toBe(false);
      const s = poller().createReadStream(r, { autoClose: false });
      s.resume();
      expect(sys.fdFlags(r).nonblock).toBe(true);
      s.destroy();
      await once(s, 'close');
      expect(sys.fdFlags(r).nonblock).toBe(false);
      expect(isOpen(r)).toBe(true);
    });

    it('records: every chunk is whole records, however the bytes arrive', async () => {
      const [r, w] = sys.pipe(); // w closed below, r by its stream
      const s = poller().createReadStream(r, { recordSize: 8 });
      const sizes: number[] = [];
      const chunks: Buffer[] = [];
      s.on('data', (c: Buffer) => {
        sizes.push(c.length);
        chunks.push(c);
      });
      const ended = once(s, 'end');
      const data = pattern(8 * 100);
      // Cut mid-record on purpose: a pipe hands over whatever was written.
      const cuts = [0, 3, 13, 200, 584, 800];
      for (let i = 1; i < cuts.length; i++) {
        rawfs.writeSync(w, data.subarray(cuts[i - 1], cuts[i]));
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      rawfs.closeSync(w);
      await ended;
      expect(sizes.every((n) => n % 8 === 0)).toBe(true);
      expect(Buffer.concat(chunks).equals(data)).toBe(true);
    });

    if (process.platform === 'linux') {
      it("eventfd: 8-byte records, each the counter's value since the last read", async () => {
        const efd = sys.eventfd(0);
        const s = poller().createReadStream(efd, { recordSize: 8 });
        const values: bigint[] = [];
        const three = new Promise<void>((resolve) =>
          s.on('data', (c: Buffer) => {
            for (let i = 0; i < c.length; i += 8) values.push(c.readBigUInt64LE(i));
            if (values.length === 3) resolve();
          }),
        );
        const add = (n: bigint) => {
          const b = Buffer.alloc(8);
          b.writeBigUInt64LE(n);
          rawfs.writeSync(efd, b);
        };
        for (const n of [5n, 7n, 11n]) {
          add(n);
          await new Promise((resolve) => setTimeout(resolve, 30));
        }
        await three;
        expect(values).toEqual([5n, 7n, 11n]);
        s.destroy();
        await once(s, 'close');
        expect(isOpen(efd)).toBe(false);
      });
    }

    it('a slow consumer on a fast pipe: reading stops while its buffer is full, and memory stays bounded', async () => {
      const [r, w] = sys.pipe();
      open.push(r);
      // Another process writes as fast as the pipe takes it, for as long as it is read.
      const writer = "const fs = process.getBuiltinModule('node:fs'); const b = new Uint8Array(65536).fill(97); for (;;) fs.writeSync(1, b);";
      const child = spawn(process.execPath, runtime === 'deno' ? ['eval', writer] : ['-e', writer], {
        stdio: ['ignore', w, 'ignore'],
      });
      rawfs.closeSync(w);
      const s = poller().createReadStream(r, { highWaterMark: 64 * 1024, autoClose: false });
      await once(s, 'readable');
      const settled = async () => {
        let before = -1;
        while (before !== s.bytesRead) {
          before = s.bytesRead;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        return s.bytesRead;
      };
      const paused = await settled();
      // Paused (nobody reads): the stream took what fills its buffer, then stopped asking.
      expect(s.readableLength).toBeLessThanOrEqual(64 * 1024 + 64 * 1024);
      expect(paused).toBeLessThan(1024 * 1024);
      let consumed = 0;
      s.on('data', (c: Buffer) => (consumed += c.length));
      while (consumed < 8 * 1024 * 1024) await new Promise((resolve) => setTimeout(resolve, 20));
      s.pause();
      const again = await settled();
      expect(again - consumed).toBeLessThanOrEqual(2 * 64 * 1024 + 65536);
      child.kill();
      s.destroy();
    });

    it('a writer into a full pipe waits for room, then delivers every byte in order', async () => {
      const [r, w] = sys.pipe(); // each closed by its stream
      const writer = poller().createWriteStream(w);
      const data = pattern(2 * 1024 * 1024);
      const accepted = writer.write(data);
      expect(accepted).toBe(false); // far beyond the pipe and the stream's buffer
      let drained = false;
      const drain = once(writer, 'drain').then(() => (drained = true));
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(drained).toBe(false); // nobody reads: it waits
      expect(writer.bytesWritten).toBeLessThan(data.length);
      const reader = poller().createReadStream(r);
      const all = collect(reader);
      await drain; // room, as the reader empties the pipe
      writer.end();
      expect((await all).equals(data)).toBe(true);
    });

    it('EPIPE: writing when the reader is gone is an error event with a PollError', async () => {
      const [r, w] = sys.pipe();
      rawfs.closeSync(r);
      const writer = poller().createWriteStream(w);
      const closed = new Promise((resolve) => writer.once('close', resolve));
      const failed = once(writer, 'error');
      writer.write('nobody listens');
      const [err] = await failed;
      expect(err).toMatchObject({ name: 'PollError', code: 'EPIPE', syscall: 'write', fd: w });
      await closed;
      expect(isOpen(w)).toBe(false);
    });

    it('a kernel error while reading is an error event with a PollError (a directory)', async () => {
      const d = fs.openSync(dir, 'r');
      const s = poller().createReadStream(d);
      s.resume();
      const [err] = await once(s, 'error');
      expect(err).toMatchObject({ name: 'PollError', code: 'EISDIR', syscall: 'read', fd: d });
    });

    it('destroy() in the middle of a read: the watch goes, the descriptor closes, nothing more arrives', async () => {
      const [r, w] = sys.pipe();
      open.push(w);
      const p = poller();
      const s = p.createReadStream(r);
      let after = 0;
      let destroyed = false;
      s.on('data', () => {
        if (destroyed) after++;
        else {
          destroyed = true;
          s.destroy();
        }
      });
      rawfs.writeSync(w, 'first');
      await once(s, 'close');
      expect(p.size).toBe(0);
      expect(isOpen(r)).toBe(false);
      try {
        rawfs.writeSync(w, 'more');
      } catch {
        // EPIPE: the read end is gone
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(after).toBe(0);
    });

    it("closing the poller ends its streams with ERR_POLL_CLOSED", async () => {
      const [r, w] = sys.pipe();
      open.push(w);
      const p = poller();
      const s = p.createReadStream(r);
      s.resume();
      await new Promise((resolve) => setTimeout(resolve, 20)); // waiting for data
      p.close();
      const [err] = await once(s, 'error');
      expect(err).toMatchObject({ code: 'ERR_POLL_CLOSED' });
    });

    it('closing the poller ends every stream on it, also those not waiting: a paused reader with a full buffer, an idle writer', async () => {
      const [r, w] = sys.pipe();
      const [r2, w2] = sys.pipe();
      open.push(w, r2);
      const p = poller();
      const reader = p.createReadStream(r, { highWaterMark: 4, chunkSize: 4 });
      const writer = p.createWriteStream(w2);
      rawfs.writeSync(w, 'abcdefgh');
      await once(reader, 'readable'); // its buffer is full: it reads no more, and watches nothing
      await new Promise((resolve) => writer.write('x', resolve)); // written: the writer idles
      const errors = Promise.all([once(reader, 'error'), once(writer, 'error')]);
      p.close();
      const [[readErr], [writeErr]] = await within(errors, 5000, 'both streams ending');
      expect(readErr).toMatchObject({ code: 'ERR_POLL_CLOSED' });
      expect(writeErr).toMatchObject({ code: 'ERR_POLL_CLOSED' });
      const late = await new Promise<Error | null | undefined>((resolve) => writer.write('after close', resolve));
      expect(late).toMatchObject({ code: 'ERR_STREAM_DESTROYED' });
      expect(sys.rawRead(r2, Buffer.alloc(64), 0, 64)).toBe(1); // only the 'x' ever reached the pipe
    });

    it('pipeline() from one pipe into another, to the end', async () => {
      const [ar, aw] = sys.pipe(); // every end closed by its stream
      const [br, bw] = sys.pipe();
      const out = collect(poller().createReadStream(br));
      const piped = pipeline(poller().createReadStream(ar), poller().createWriteStream(bw));
      const data = pattern(1024 * 1024);
      const feeder = poller().createWriteStream(aw);
      feeder.end(data);
      await piped;
      expect((await out).equals(data)).toBe(true);
    });

    it('streams in a worker thread read and write on its own loop', async () => {
      const [r, w] = sys.pipe();
      const [r2, w2] = sys.pipe(); // w and r2 closed by their streams here, r and w2 by the worker's
      const worker = new Worker(path.join(fixtures, 'worker-stream.mjs'), { workerData: { module: target.module, r, w: w2 } });
      const back = collect(poller().createReadStream(r2));
      const feed = poller().createWriteStream(w);
      feed.end('through the worker');
      expect((await back).toString()).toBe('THROUGH THE WORKER');
      expect(await new Promise((resolve) => worker.once('exit', resolve))).toBe(0);
    });

    it('a short read is copied out: no chunk holds a 64 KiB buffer for a few bytes', async () => {
      const [r, w] = sys.pipe();
      open.push(w);
      const s = poller().createReadStream(r);
      const got = new Promise<Buffer>((resolve) => s.once('data', resolve));
      rawfs.writeSync(w, 'eight by');
      const chunk = await got;
      expect(chunk.toString()).toBe('eight by');
      expect(chunk.buffer.byteLength).toBeLessThan(64 * 1024);
    });

    it('an idle stream keeps nothing watched: a writer that once waited for room lets the process exit', async () => {
      const result = await runNode(path.join(fixtures, 'stream-idle.mjs'), [target.module, 'writer-done']);
      expect(result.stderr).toBe('');
      expect(result.json).toEqual({ written: 200000, read: 200000 });
      expect(result.code).toBe(0);
    });

    it('a stream waiting for data keeps the process alive (the control)', async () => {
      const result = await runNode(path.join(fixtures, 'stream-idle.mjs'), [target.module, 'reader-waiting'], { aliveFor: 500 });
      expect(result.alive).toBe(true);
    });

    it('destroy() answers a write still waiting for room, and those queued behind it', async () => {
      const [r, w] = sys.pipe();
      open.push(r);
      const writer = poller().createWriteStream(w);
      const answers: Array<string | undefined> = [];
      writer.on('error', () => {});
      writer.write(pattern(1024 * 1024), (err) => answers.push(err?.code));
      writer.write('queued', (err) => answers.push(err?.code));
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(answers).toEqual([]);
      writer.destroy();
      await once(writer, 'close');
      expect(answers).toEqual(['ERR_STREAM_DESTROYED', 'ERR_STREAM_DESTROYED']);
    });

    it('an aborted signal ends the stream with AbortError, and it lets go of the descriptor', async () => {
      const [r, w] = sys.pipe({ nonblock: false });
      open.push(w);
      const s = poller().createReadStream(r, { signal: AbortSignal.abort() });
      const closed = new Promise((resolve) => s.once('close', resolve));
      const [err] = await once(s, 'error');
      expect(err).toMatchObject({ name: 'AbortError' });
      await closed;
      expect(isOpen(r)).toBe(false);
    });

    it("encoding, as fs streams take it: the reader's chunks are strings, a character split across two reads arrives whole; the writer's default encoding for strings", async () => {
      const [r, w] = sys.pipe(); // both closed by their streams
      const p = poller();
      const reader = p.createReadStream(r, { encoding: 'utf8', chunkSize: 3 });
      const writer = new target.Poller();
      pollers.push(writer);
      const out = track(writer.createWriteStream(w, { encoding: 'hex' }));
      const chunks: unknown[] = [];
      reader.on('data', (c) => chunks.push(c));
      const ended = once(reader, 'end');
      // "añb€" in UTF-8, written as hex: ñ and € straddle the 3-byte reads.
      out.end(Buffer.from('añb€').toString('hex'));
      await within(ended, 5000, 'the end');
      expect(chunks.every((c) => typeof c === 'string')).toBe(true);
      expect(chunks.join('')).toBe('añb€');
      for (const bad of ['utf-9', 7]) {
        expect(() => p.createReadStream(0, { encoding: bad } as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
        expect(() => p.createWriteStream(1, { encoding: bad } as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
      }
    });

    it("a string for options is the encoding alone, as fs.createReadStream(path, 'utf8') takes it; a duplex, like net.Socket, takes none", async () => {
      const [r, w] = sys.pipe(); // both closed by their streams
      const p = poller();
      const reader = p.createReadStream(r, 'utf8');
      const writer = new target.Poller();
      pollers.push(writer);
      const out = track(writer.createWriteStream(w, 'hex'));
      const chunks: unknown[] = [];
      reader.on('data', (c) => chunks.push(c));
      const ended = once(reader, 'end');
      out.end(Buffer.from('añb€').toString('hex'));
      await within(ended, 5000, 'the end');
      expect(chunks.length).toBeGreaterThan(0);
      expect(chunks.every((c) => typeof c === 'string')).toBe(true);
      expect(chunks.join('')).toBe('añb€');
      const [r2, w2] = sys.pipe();
      open.push(r2, w2);
      expect(() => p.createReadStream(r2, 'utf-9' as never)).toThrow(
        expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE', message: expect.stringContaining("Received 'utf-9'") }),
      );
      expect(() => p.createWriteStream(w2, 'utf-9' as never)).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' }));
      expect(() => p.createDuplex(r2, 'utf8' as never)).toThrow(
        expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: expect.stringContaining("Received type string ('utf8')") }),
      );
      // Nothing was claimed by a refused stream: both descriptors can be watched now.
      p.add(r2, { readable: true }, () => {}).remove();
      p.add(w2, { writable: true }, () => {}).remove();
    });

    it('a stream made with an aborted signal leaves its fd free on the poller: add() and a new stream on it work', async () => {
      const [r, w] = sys.pipe();
      open.push(r, w);
      const p = poller();
      const s = p.createReadStream(r, { signal: AbortSignal.abort(), autoClose: false });
      const [err] = await once(s, 'error');
      expect(err).toMatchObject({ name: 'AbortError' });
      const watch = p.add(r, { readable: true }, () => {});
      watch.remove();
      const again = p.createReadStream(r, { autoClose: false });
      rawfs.writeSync(w, 'still mine');
      const [chunk] = await within(once(again, 'data'), 5000, 'data on the fd');
      expect(String(chunk)).toBe('still mine');
    });

    it('a read and a write stream on one descriptor: the first to end does not close it under the other', async () => {
      const [a, b] = sys.socketpair(); // b closed below, a by the streams
      const reader = new target.Poller();
      const writerPoller = new target.Poller();
      pollers.push(reader, writerPoller);
      const input = track(reader.createReadStream(a));
      const output = track(writerPoller.createWriteStream(a));
      const ended = collect(input);
      rawfs.writeSync(b, 'ping');
      closeAll(b); // the peer goes: the read side ends
      expect((await ended).toString()).toBe('ping');
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(isOpen(a)).toBe(true); // the write stream still has it
      output.destroy();
      await once(output, 'close');
      expect(isOpen(a)).toBe(false);
    });

    it('a stream that ends inside a record is an error, not a silent loss', async () => {
      const [r, w] = sys.pipe();
      const s = poller().createReadStream(r, { recordSize: 4 });
      s.resume();
      rawfs.writeSync(w, 'seven b');
      rawfs.closeSync(w);
      const [err] = await once(s, 'error');
      expect(err).toMatchObject({ code: 'ERR_POLL_PARTIAL_RECORD' });
    });

    it('a poller watches an fd once: a second stream or add() on a stream\'s fd is refused at once', () => {
      const [r, w] = sys.pipe();
      open.push(w);
      const p = poller();
      p.createReadStream(r, { autoClose: false });
      expect(() => p.createWriteStream(r)).toThrow(expect.objectContaining({ code: 'ERR_POLL_ALREADY_WATCHED' }));
      expect(() => p.add(r, { readable: true }, () => {})).toThrow(expect.objectContaining({ code: 'ERR_POLL_ALREADY_WATCHED' }));
      open.push(r);
    });

    it('bad arguments throw typed errors and change nothing', () => {
      const p = poller();
      expect(() => p.createReadStream(-1)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
      expect(() => p.createReadStream(0, { recordSize: 0 })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
      expect(() => p.createReadStream(0, { chunksize: 8 } as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
      const [gone] = sys.pipe();
      closeAll(gone);
      expect(() => p.createReadStream(gone)).toThrow(expect.objectContaining({ name: 'PollError', code: 'EBADF' }));
      p.close();
      expect(() => p.createWriteStream(1)).toThrow(expect.objectContaining({ code: 'ERR_POLL_CLOSED' }));
      expect(p.size).toBe(0);
    });

    describe('a duplex on one descriptor', () => {
      it('echo through one duplex on a socketpair, both ways, past full socket buffers: it reads while its writes wait for room, on one watch', async () => {
        const [a, b] = sys.socketpair(); // both closed by their duplexes
        const p = poller();
        const client = p.createDuplex(a);
        const echo = p.createDuplex(b);
        // Listened for now: the echo may close (its writes done, its fd closed) before the client
        // has read its end, which on the select path can come a turn of the loop later.
        const closed = Promise.all([new Promise((r) => client.once('close', r)), new Promise((r) => echo.once('close', r))]);
        // The echo keeps reading while its writes wait (it ignores write()'s false on purpose).
        echo.on('data', (chunk: Buffer) => echo.write(chunk));
        const data = pattern(4 * 1024 * 1024);
        expect(client.write(data)).toBe(false); // far beyond the socket buffer: backpressure
        client.end();
        // Nobody reads the client: the echo has read everything, and its writes wait for room.
        await until(() => echo.bytesRead === data.length, 'the echo reading everything');
        expect(echo.writableLength).toBeGreaterThan(0);
        expect(echo.bytesWritten).toBeLessThan(data.length);
        expect(p.size).toBeLessThanOrEqual(2); // one watch per descriptor, however many sides wait
        const back = collect(client);
        expect((await within(back, 20_000, 'the echo')).equals(data)).toBe(true);
        expect(client.bytesWritten).toBe(data.length);
        await within(closed, 5000, 'both duplexes closing');
        expect(isOpen(a)).toBe(false);
        expect(isOpen(b)).toBe(false);
      });

      it("half-open off (the default, as net.Socket): the peer's shutdown ends the read side and the write side with it, and the fd is closed", async () => {
        const [a, b] = sys.socketpair();
        open.push(b);
        const p = poller();
        const d = p.createDuplex(a);
        const peer = p.createDuplex(b, { allowHalfOpen: true, autoClose: false });
        const got = collect(d);
        const peerGot = collect(peer);
        const finished = once(d, 'finish');
        const closed = once(d, 'close');
        peer.end('bye'); // shuts down b's sending side: d reads the end
        expect((await got).toString()).toBe('bye');
        await finished; // ended by itself
        expect((await within(peerGot, 5000, "the peer reading d's end")).toString()).toBe('');
        await closed;
        expect(isOpen(a)).toBe(false);
      });

      it("half-open on: after the peer's shutdown the write side still writes; end() is the peer's end of file, then the fd is closed", async () => {
        const [a, b] = sys.socketpair();
        open.push(b);
        const p = poller();
        const d = p.createDuplex(a, { allowHalfOpen: true });
        const peer = p.createDuplex(b, { allowHalfOpen: true, autoClose: false });
        const peerChunks: string[] = [];
        peer.on('data', (c: Buffer) => peerChunks.push(c.toString()));
        let peerEnded = false;
        const peerEnd = once(peer, 'end').then(() => (peerEnded = true));
        const got = collect(d);
        peer.end('question');
        expect((await got).toString()).toBe('question');
        expect(d.writable).toBe(true); // the control for the test above: still open for writes
        d.write('answer');
        await until(() => peerChunks.join('') === 'answer', 'the answer reaching the peer');
        expect(peerEnded).toBe(false); // no end of file yet: only end() sends it
        expect(isOpen(a)).toBe(true);
        const closed = once(d, 'close');
        d.end();
        await within(peerEnd, 5000, "the peer reading d's end");
        await closed;
        expect(isOpen(a)).toBe(false);
      });

      it('end() finishes the writes, every byte first; with autoClose: false the fd stays open, its O_NONBLOCK given back', async () => {
        const [a, b] = sys.socketpair({ nonblock: false });
        open.push(a);
        const p = poller();
        const d = p.createDuplex(a, { autoClose: false });
        expect(sys.fdFlags(a).nonblock).toBe(true); // while the duplex has it
        const reader = p.createReadStream(b); // closes b at its end, which ends d's read side
        const all = collect(reader);
        const data = pattern(1024 * 1024);
        d.end(data);
        expect((await all).equals(data)).toBe(true); // to the end of file: d shut its side down
        d.resume();
        await once(d, 'close');
        expect(isOpen(a)).toBe(true);
        expect(sys.fdFlags(a).nonblock).toBe(false);
      });

      it('destroy() closes the fd (autoClose) and answers writes waiting for room; autoClose: false leaves it open and usable (the control)', async () => {
        const [a, b] = sys.socketpair();
        const [c, e] = sys.socketpair();
        open.push(b, c, e);
        const p = poller();
        const d = p.createDuplex(a);
        d.on('error', () => {});
        const answers: Array<string | undefined> = [];
        d.write(pattern(4 * 1024 * 1024), (err) => answers.push(err?.code));
        await until(() => d.bytesWritten > 0, 'the first bytes');
        expect(answers).toEqual([]);
        d.destroy();
        await once(d, 'close');
        expect(answers).toEqual(['ERR_STREAM_DESTROYED']);
        expect(isOpen(a)).toBe(false);
        expect(p.size).toBe(0);
        const kept = p.createDuplex(c, { autoClose: false });
        kept.destroy();
        await once(kept, 'close');
        expect(isOpen(c)).toBe(true);
        expect(rawfs.writeSync(c, 'still here')).toBe(10);
        expect(read(e)).toBe('still here');
      });

      it('writing to a socket whose peer is gone: an error event with a PollError (EPIPE), and the fd is closed', async () => {
        const [a, b] = sys.socketpair();
        closeAll(b);
        const d = poller().createDuplex(a);
        const closed = new Promise((resolve) => d.once('close', resolve)); // once() would reject on 'error'
        d.write('nobody listens');
        const [err] = await once(d, 'error');
        expect(err).toMatchObject({ name: 'PollError', code: 'EPIPE', syscall: 'write', fd: a, errno: -os.constants.errno.EPIPE });
        await closed;
        expect(isOpen(a)).toBe(false);
      });

      it('closing the poller ends its duplexes with ERR_POLL_CLOSED: one waiting for data, one idle; a later write fails', async () => {
        const [a, b] = sys.socketpair();
        const [c, e] = sys.socketpair();
        open.push(b, e);
        const p = poller();
        const waiting = p.createDuplex(a);
        waiting.resume();
        const idle = p.createDuplex(c);
        await until(() => p.size === 1, 'the reader waiting');
        const errors = Promise.all([once(waiting, 'error'), once(idle, 'error')]);
        p.close();
        const [[first], [second]] = await within(errors, 5000, 'both duplexes ending');
        expect(first).toMatchObject({ code: 'ERR_POLL_CLOSED' });
        expect(second).toMatchObject({ code: 'ERR_POLL_CLOSED' });
        const late = await new Promise<Error | null | undefined>((resolve) => idle.write('after close', resolve));
        expect(late).toMatchObject({ code: 'ERR_STREAM_DESTROYED' });
        await new Promise((resolve) => setImmediate(resolve));
        expect(isOpen(a)).toBe(false);
        expect(isOpen(c)).toBe(false);
      });

      it('an aborted signal ends it with AbortError and lets go of the descriptor: closed (autoClose), or free on the poller', async () => {
        const [a, b] = sys.socketpair();
        const [c, e] = sys.socketpair();
        open.push(b, c, e);
        const p = poller();
        const gone = p.createDuplex(a, { signal: AbortSignal.abort() });
        const [err] = await once(gone, 'error');
        expect(err).toMatchObject({ name: 'AbortError' });
        if (!gone.closed) await once(gone, 'close');
        expect(isOpen(a)).toBe(false);
        const freed = p.createDuplex(c, { signal: AbortSignal.abort(), autoClose: false });
        const [err2] = await once(freed, 'error');
        expect(err2).toMatchObject({ name: 'AbortError' });
        const watch = p.add(c, { readable: true }, () => {});
        watch.remove();
        const again = p.createDuplex(c, { autoClose: false });
        // The control: a live duplex's fd is refused.
        expect(() => p.add(c, { readable: true }, () => {})).toThrow(expect.objectContaining({ code: 'ERR_POLL_ALREADY_WATCHED' }));
        rawfs.writeSync(e, 'still mine');
        const [chunk] = await within(once(again, 'data'), 5000, 'data on the fd');
        expect(String(chunk)).toBe('still mine');
      });

      it("encoding: the read side's chunks are strings decoded across reads; defaultEncoding for strings written; bad options throw and change nothing", async () => {
        const [a, b] = sys.socketpair();
        open.push(b);
        const p = poller();
        const d = p.createDuplex(a, { encoding: 'utf8', chunkSize: 3, defaultEncoding: 'hex' });
        const chunks: unknown[] = [];
        d.on('data', (c) => chunks.push(c));
        d.write(Buffer.from('pong').toString('hex'));
        await until(() => read(b) === 'pong', 'the hex-encoded string arriving as bytes');
        rawfs.writeSync(b, Buffer.from('añb€'));
        await until(() => chunks.join('') === 'añb€', 'the characters');
        expect(chunks.every((c) => typeof c === 'string')).toBe(true);
        const [x] = sys.socketpair();
        open.push(x);
        for (const bad of [{ encoding: 'utf-9' }, { defaultEncoding: 'utf-9' }, { allowedHalfOpen: true }]) {
          expect(() => p.createDuplex(x, bad as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
        }
        for (const bad of [{ allowHalfOpen: 'yes' }, { autoClose: 1 }, { highWaterMark: '1' }]) {
          expect(() => p.createDuplex(x, bad as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
        }
        expect(p.size).toBe(1);
        const fine = p.createDuplex(x, { autoClose: false }); // x was left free
        fine.destroy();
      });

      it("a pty: a duplex on the slave reads the master's keys and writes back, on a description of its own (the caller's stays blocking)", async () => {
        const [master, slave] = sys.openpty();
        open.push(master, slave);
        const p = poller();
        const d = p.createDuplex(slave, { autoClose: false });
        const screen = p.createReadStream(master, { autoClose: false });
        const shown: string[] = [];
        screen.on('data', (c: Buffer) => shown.push(c.toString()));
        const first = new Promise<string>((resolve) => d.once('data', (c: Buffer) => resolve(c.toString())));
        rawfs.writeSync(master, 'keys');
        expect(await first).toBe('keys');
        d.write('shown');
        await until(() => shown.join('') === 'shown', 'the output on the master');
        if (process.platform === 'linux') expect(sys.fdFlags(slave).nonblock).toBe(false);
        d.destroy();
        await once(d, 'close');
        expect(isOpen(slave)).toBe(true);
        expect(sys.fdFlags(slave).nonblock).toBe(false);
      });

      it("a pty master: the slave's writes arrive, the duplex's reach the slave, and the slave closing ends it (EIO), closing the master", async () => {
        const [master, slave] = sys.openpty(); // the master closed by its duplex, the slave below
        const p = poller();
        const d = p.createDuplex(master);
        const got = collect(d);
        d.write('to the slave');
        const slaveSide = p.createReadStream(slave, { autoClose: false });
        const first = new Promise<string>((resolve) => slaveSide.once('data', (c: Buffer) => resolve(c.toString())));
        expect(await first).toBe('to the slave');
        slaveSide.destroy();
        await once(slaveSide, 'close');
        rawfs.writeSync(slave, 'from the slave');
        await until(() => d.bytesRead === 14, 'the slave\'s bytes read');
        rawfs.closeSync(slave);
        expect((await got).toString()).toBe('from the slave');
        await once(d, 'close');
        expect(isOpen(master)).toBe(false);
      });
    });

    describe("ref() and unref(): whether a stream's wait keeps the process alive", () => {
      const run = (kind: string, ref: string, aliveFor?: number) =>
        runNode(path.join(fixtures, 'stream-ref.mjs'), [target.module, kind, ref], aliveFor === undefined ? {} : { aliveFor });

      it("an unref()'d stream waiting on the kernel lets the process exit: a reader, a writer waiting for room, a duplex waiting for both", async () => {
        const results = await Promise.all(['read', 'write', 'duplex'].map((kind) => run(kind, 'unref')));
        for (const result of results) {
          expect(result.stderr).toBe('');
          expect(result).toMatchObject({ code: 0, signal: null });
          expect(result.json.watching).toBe(1); // it was waiting
        }
        expect(results[1]!.json.pending).toBeGreaterThan(0);
        expect(results[2]!.json.pending).toBeGreaterThan(0);
      });

      it('the same streams ref\'d, as made or ref()\'d again after unref(), keep it alive (the control)', async () => {
        const results = await Promise.all([...['read', 'write', 'duplex'].map((kind) => run(kind, 'ref', 500)), run('duplex', 'again', 500)]);
        for (const result of results) {
          expect(result.json?.watching).toBe(1);
          expect(result.alive).toBe(true);
        }
      });

      it("poller.unref() lets the process exit with a ref'd stream waiting; a ref'd add() watch beside an unref()'d stream keeps it (the control)", async () => {
        const [unrefd, beside] = await Promise.all([run('duplex', 'poller'), run('duplex', 'beside', 500)]);
        expect(unrefd).toMatchObject({ code: 0, signal: null, json: { watching: 1 } });
        expect(beside.json).toMatchObject({ watching: 2 });
        expect(beside.alive).toBe(true);
      });

      it("add() with { ref: false } lets the process exit while watching; without it, it stays (the control)", async () => {
        const [unrefd, refd] = await Promise.all([run('add', 'unref'), run('add', 'ref', 500)]);
        expect(unrefd).toMatchObject({ code: 0, signal: null, json: { watching: 1 } });
        expect(refd.json).toMatchObject({ watching: 1 });
        expect(refd.alive).toBe(true);
      });
    });
  });
}
