// Node streams on any descriptor a Poller can watch: reads and writes happen on this thread,
// without blocking, when the kernel says the descriptor is ready, so no libuv threadpool thread
// waits on a FIFO, a tty, a serial port or a device (fs streams hold one per pending read).
/// <reference types="node" preserve="true" />
import { close, closeSync, constants as fsConstants, fstatSync, openSync, readlinkSync } from 'node:fs';
import { fstatAny } from './fstat.js';
import { constants } from 'node:os';
import { Readable, Writable, addAbortSignal } from 'node:stream';
import { isatty } from 'node:tty';
import type { BackendIo, Watch } from './types.js';
import { PollError, libraryError, rangeError, typeError } from './errors.js';

const { EAGAIN, EWOULDBLOCK, EIO } = constants.errno;
const DEFAULT_CHUNK = 64 * 1024;
// A drain stops after this many reads and waits for the next readiness report, so that a writer
// that never pauses cannot keep this thread from everything else.
const READS_PER_TURN = 64;

/** Options of Poller#createReadStream. */
export interface ReadStreamOptions {
  /** Bytes buffered before reading pauses (the stream's backpressure). Default 64 KiB. */
  highWaterMark?: number;
  /** Bytes asked of each read(2). Default 64 KiB; with recordSize, a whole number of records. */
  chunkSize?: number;
  /**
   * Every chunk is a whole number of records of this size: evdev's `struct input_event` (24
   * bytes on 64-bit Linux), eventfd's 8-byte counter. A partial record is held back until the
   * rest arrives.
   */
  recordSize?: number;
  /** Close the descriptor when the stream ends or is destroyed, as fs streams do. Default true. */
  autoClose?: boolean;
  /** Chunks as strings in this encoding (decoded across chunk boundaries), as fs streams take it. */
  encoding?: BufferEncoding;
  signal?: AbortSignal;
}

/** Options of Poller#createWriteStream. */
export interface WriteStreamOptions {
  /** Bytes buffered before write() returns false. Default 16 KiB, as Writable's. */
  highWaterMark?: number;
  /** Close the descriptor when the stream finishes or is destroyed. Default true. */
  autoClose?: boolean;
  /** The encoding of strings written without one, as fs streams take it. Default 'utf8'. */
  encoding?: BufferEncoding;
  signal?: AbortSignal;
}

/** What a stream needs from its poller (core's PollerBase gives it). */
export interface StreamHost {
  /** A oneshot watch for the stream's descriptor (reserved for it when the stream was made). */
  streamWatch(fd: number, writable: boolean, onReady: () => void): Endable;
  /** The stream is done with `fd`: others may watch it again. */
  streamDone(fd: number): void;
}

/** The onEnd hook core's registrations have, for a watch ended by close() of the poller. */
export type Endable = Watch & { onEnd?: (reason: Error, fd: number) => void };

// --- O_NONBLOCK ----------------------------------------------------------------------------------
//
// Reads and writes must not block, so the descriptor must be non-blocking. O_NONBLOCK belongs to
// the open file description, which every process and descriptor sharing it sees: setting it on a
// terminal the shell also reads would make the shell's reads fail with EAGAIN. So, as libuv does
// for its own ttys (src/unix/tty.c, uv_tty_init), a terminal other than a pty master is opened
// again through /proc/self/fd, giving a description of our own that we make non-blocking; the
// caller's descriptor is left as it was. Anything else (a FIFO, a socket, a serial port that
// refuses a second open, a device whose second open would be a second client with its own
// queue, as evdev's is) gets O_NONBLOCK on its own description, and the previous setting back
// when the last stream on that description ends without closing it.

// What the streams of this thread do with each descriptor number given to them: how many use
// it, whether one asked for it to be closed at the end (it is, once the last one ends), how many
// rely on O_NONBLOCK on its shared description, and whether that was set before we set it.
interface FdUse {
  streams: number;
  closeAtEnd: boolean;
  sharing: number;
  wasNonblocking: boolean;
}
const fdUses = new Map<number, FdUse>();

interface Prepared {
  /** The descriptor to read or write: the caller's, or our own reopened terminal. */
  io: number;
  /** The stream ends; true when the caller's descriptor is now to be closed. */
  release(autoClose: boolean): boolean;
}

function prepare(io: BackendIo, fd: number, mode: 'r' | 'w'): Prepared {
  const use = fdUses.get(fd) ?? { streams: 0, closeAtEnd: false, sharing: 0, wasNonblocking: false };
  const reopened = reopenTerminal(fd, mode);
  if (reopened === null && use.sharing === 0) {
    const before = io.setNonblock(fd, true);
    if (before < 0) throw new PollError('fcntl', -before, fd, io.strerror(-before));
    use.wasNonblocking = before === 1;
  }
  if (reopened === null) use.sharing++;
  use.streams++;
  fdUses.set(fd, use);
  return {
    io: reopened ?? fd,
    release(autoClose) {
      let restore = false;
      if (reopened !== null) closeSync(reopened);
      else restore = --use.sharing === 0 && !use.wasNonblocking;
      use.closeAtEnd ||= autoClose;
      if (--use.streams === 0) {
        fdUses.delete(fd);
        if (use.closeAtEnd) return true;
      }
      if (restore) io.setNonblock(fd, false);
      return false;
    },
  };
}

function reopenTerminal(fd: number, mode: 'r' | 'w'): number | null {
  if (process.platform !== 'linux' || !isatty(fd)) return null;
  let target: string;
  try {
    target = readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return null;
  }
  // Opening /dev/ptmx again would make a new pty pair, not reach this one.
  if (!target.startsWith('/dev/') || target === '/dev/ptmx' || target === '/dev/pts/ptmx') return null;
  let reopened: number;
  try {
    const access = mode === 'r' ? fsConstants.O_RDONLY : fsConstants.O_WRONLY;
    reopened = openSync(target, access | fsConstants.O_NOCTTY | fsConstants.O_NONBLOCK); // libuv adds O_CLOEXEC
  } catch {
    return null; // a serial port held exclusively (TIOCEXCL), a path that is gone: share it
  }
  // The same path may name another terminal in another devpts instance (a container): only
  // the same device will do, as glibc's ttyname() checks.
  let same = false;
  try {
    same = fstatSync(reopened).rdev === fstatAny(fd).rdev;
  } catch {
    // closed meanwhile: not the same
  }
  if (!same) {
    closeSync(reopened);
    return null;
  }
  return reopened;
}

function validateSize(value: unknown, name: string, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw typeError('ERR_INVALID_ARG_TYPE', `The "options.${name}" property must be of type number. Received ${typeof value}`);
  if (!Number.isInteger(value) || value < min || value > 2 ** 30) {
    throw rangeError(`The value of "options.${name}" is out of range. It must be an integer >= ${min} && <= ${2 ** 30}. Received ${value}`);
  }
  return value;
}

function validateOptions(options: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null) {
    throw typeError('ERR_INVALID_ARG_TYPE', 'The "options" argument must be of type object');
  }
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) throw typeError('ERR_INVALID_ARG_VALUE', `The "options" argument has an unknown key ${JSON.stringify(key)}; expected ${allowed.join(', ')}`);
  }
  return options as Record<string, unknown>;
}

function validateEncoding(value: unknown): BufferEncoding | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !Buffer.isEncoding(value)) {
    throw typeError('ERR_INVALID_ARG_VALUE', `The "options.encoding" property must be an encoding Buffer knows, such as 'utf8'. Received ${typeof value === 'string' ? JSON.stringify(value) : typeof value}`);
  }
  return value;
}

function validateAutoClose(value: unknown): boolean {
  if (value === undefined) return true;
  if (typeof value !== 'boolean') throw typeError('ERR_INVALID_ARG_TYPE', 'The "options.autoClose" property must be of type boolean');
  return value;
}

const wouldBlock = (n: number): boolean => n === -EAGAIN || n === -EWOULDBLOCK;

/**
 * A stream's end (its _destroy): the watch goes first, then the stream lets go of the
 * descriptor (its O_NONBLOCK given back, or our reopened terminal closed); the descriptor itself
 * is closed, as fs streams close theirs, once the last stream on it has ended and one of them
 * asked for that (autoClose), before `cb` hears of it.
 */
function finish(host: StreamHost, io: BackendIo, fd: number, watch: Endable | null, prepared: Prepared, autoClose: boolean, err: Error | null, cb: (err: Error | null) => void): void {
  if (watch !== null) {
    watch.onEnd = undefined;
    watch.remove();
  }
  host.streamDone(fd);
  if (prepared.release(autoClose)) closeDescriptor(io, fd, (closeErr) => cb(err ?? closeErr));
  else cb(err);
}

// node:fs closes any descriptor on Node and Bun, off the JS thread as fs streams do (a serial
// port's close can wait for its output to drain). Deno's node:fs knows only the descriptors it
// opened itself and answers EBADF for the rest, which are then closed with the system call.
const onDeno = typeof (globalThis as { Deno?: unknown }).Deno !== 'undefined';
function closeDescriptor(io: BackendIo, fd: number, cb: (err: Error | null) => void): void {
  close(fd, (err: NodeJS.ErrnoException | null) => {
    if (err === null || !onDeno || io.close === undefined) return cb(err);
    const result = io.close(fd);
    cb(result < 0 ? new PollError('close', -result, fd, io.strerror(-result)) : null);
  });
}

/** Options both streams share, validated before the stream exists (the poller checked it is open). */
function setUp(io: BackendIo, fd: number, mode: 'r' | 'w', autoClose: unknown, signal: unknown) {
  const close = validateAutoClose(autoClose);
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw typeError('ERR_INVALID_ARG_TYPE', 'The "options.signal" property must be an instance of AbortSignal');
  }
  return { autoClose: close, signal: signal as AbortSignal | undefined, prepared: prepare(io, fd, mode) };
}

/** A Readable on a descriptor, read when the poller reports it readable. */
export class PollReadStream extends Readable {
  /** The descriptor given to createReadStream(). */
  readonly fd: number;
  /** Bytes read so far. */
  bytesRead = 0;
  readonly #host: StreamHost;
  readonly #io: BackendIo;
  readonly #prepared: Prepared;
  readonly #chunk: number;
  readonly #record: number;
  readonly #autoClose: boolean;
  readonly #terminal: boolean;
  // Armed while the stream waits for the kernel, removed as it fires: an idle stream (paused,
  // or ended but not consumed) keeps nothing watched, and so does not keep the process alive.
  #watch: Endable | null = null;
  #buffer: Buffer | null = null;
  #partial: Buffer | null = null;
  readonly #onReady = (): void => {
    this.#unwatch();
    this.#drain();
  };

  /** @internal Use Poller#createReadStream. */
  constructor(host: StreamHost, io: BackendIo, fd: number, options?: ReadStreamOptions) {
    const o = validateOptions(options, ['highWaterMark', 'chunkSize', 'recordSize', 'autoClose', 'encoding', 'signal']);
    const encoding = validateEncoding(o.encoding);
    const highWaterMark = validateSize(o.highWaterMark, 'highWaterMark', DEFAULT_CHUNK, 0);
    const record = validateSize(o.recordSize, 'recordSize', 1);
    let chunk = validateSize(o.chunkSize, 'chunkSize', DEFAULT_CHUNK);
    chunk = Math.max(record, chunk - (chunk % record));
    const { autoClose, signal, prepared } = setUp(io, fd, 'r', o.autoClose, o.signal);
    super({ highWaterMark, encoding, emitClose: true, autoDestroy: true });
    this.fd = fd;
    this.#host = host;
    this.#io = io;
    this.#prepared = prepared;
    this.#chunk = chunk;
    this.#record = record;
    this.#autoClose = autoClose;
    this.#terminal = isatty(fd);
    // Only now: an aborted signal destroys the stream at once, which needs all of the above.
    if (signal !== undefined) addAbortSignal(signal, this);
  }

  // Read at once even while a watch waits: data often arrives before the kernel's report of it
  // reaches this thread, and taking it now saves a turn of the loop (1.1 against 2 GB/s on a
  // pipe another process fills, `pnpm bench` stream). A report that then finds nothing just
  // waits again.
  override _read(): void {
    this.#drain();
  }

  #drain(): void {
    const fd = this.#prepared.io;
    const want = this.#chunk;
    for (let reads = 0; reads < READS_PER_TURN; reads++) {
      if (this.destroyed) return;
      this.#buffer ??= Buffer.allocUnsafeSlow(want);
      const n = this.#io.read(fd, this.#buffer, 0, want);
      if (n > 0) {
        this.bytesRead += n;
        let data: Buffer;
        if (n >= want / 4) {
          data = this.#buffer.subarray(0, n); // the chunk keeps its buffer: a new one next time
          this.#buffer = null;
        } else {
          data = Buffer.from(this.#buffer.subarray(0, n)); // a short read is copied out, so no chunk holds a buffer four times its size
        }
        if (this.#record > 1) data = this.#whole(data);
        if (data.length > 0 && !this.push(data)) return; // paused: _read() drains again
        continue;
      }
      if (n === 0 || (n === -EIO && this.#terminal)) {
        // End of file (a pipe's writers gone, a socket's peer shut down); a pty whose other
        // side closed says EIO instead.
        if (this.#partial !== null) {
          this.destroy(libraryError('ERR_POLL_PARTIAL_RECORD', `fd ${this.fd} ended ${this.#partial.length} bytes into a ${this.#record}-byte record`));
        } else {
          this.push(null);
        }
        return;
      }
      if (wouldBlock(n)) break;
      this.destroy(new PollError('read', -n, this.fd, this.#io.strerror(-n)));
      return;
    }
    this.#wait();
  }

  // Only whole records go out; a tail waits for the rest of its record.
  #whole(data: Buffer): Buffer {
    if (this.#partial !== null) {
      data = Buffer.concat([this.#partial, data]);
      this.#partial = null;
    }
    const tail = data.length % this.#record;
    if (tail === 0) return data;
    this.#partial = Buffer.from(data.subarray(data.length - tail));
    return data.subarray(0, data.length - tail);
  }

  #wait(): void {
    if (this.#watch !== null || this.destroyed) return;
    try {
      this.#watch = this.#host.streamWatch(this.#prepared.io, false, this.#onReady);
      this.#watch.onEnd = (reason) => this.destroy(reason);
    } catch (err) {
      this.destroy(err as Error);
    }
  }

  #unwatch(): void {
    const watch = this.#watch;
    if (watch === null) return;
    this.#watch = null;
    watch.onEnd = undefined;
    watch.remove();
  }

  override _destroy(err: Error | null, cb: (err: Error | null) => void): void {
    const watch = this.#watch;
    this.#watch = null;
    finish(this.#host, this.#io, this.fd, watch, this.#prepared, this.#autoClose, err, cb);
  }
}

/** A Writable on a descriptor: writes what the kernel takes now, the rest when it is writable. */
export class PollWriteStream extends Writable {
  /** The descriptor given to createWriteStream(). */
  readonly fd: number;
  /** Bytes written so far. */
  bytesWritten = 0;
  readonly #host: StreamHost;
  readonly #io: BackendIo;
  readonly #prepared: Prepared;
  readonly #autoClose: boolean;
  #watch: Endable | null = null;
  #pending: { chunk: Buffer; offset: number; cb: (err?: Error | null) => void } | null = null;
  readonly #onReady = (): void => {
    const watch = this.#watch;
    this.#watch = null;
    if (watch !== null) {
      watch.onEnd = undefined;
      watch.remove();
    }
    this.#flush();
  };

  /** @internal Use Poller#createWriteStream. */
  constructor(host: StreamHost, io: BackendIo, fd: number, options?: WriteStreamOptions) {
    const o = validateOptions(options, ['highWaterMark', 'autoClose', 'encoding', 'signal']);
    const highWaterMark = validateSize(o.highWaterMark, 'highWaterMark', 16 * 1024, 0);
    const defaultEncoding = validateEncoding(o.encoding);
    const { autoClose, signal, prepared } = setUp(io, fd, 'w', o.autoClose, o.signal);
    super({ highWaterMark, emitClose: true, autoDestroy: true, decodeStrings: true, ...(defaultEncoding ? { defaultEncoding } : {}) });
    this.fd = fd;
    this.#host = host;
    this.#io = io;
    this.#prepared = prepared;
    this.#autoClose = autoClose;
    if (signal !== undefined) addAbortSignal(signal, this);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.#pending = { chunk, offset: 0, cb };
    this.#flush();
  }

  #flush(): void {
    const p = this.#pending;
    if (p === null || this.destroyed) return;
    while (p.offset < p.chunk.length) {
      const n = this.#io.write(this.#prepared.io, p.chunk, p.offset, p.chunk.length - p.offset);
      if (n > 0) {
        p.offset += n;
        this.bytesWritten += n;
        continue;
      }
      if (n === 0 || wouldBlock(n)) {
        this.#waitWritable();
        return;
      }
      this.#pending = null;
      p.cb(new PollError('write', -n, this.fd, this.#io.strerror(-n))); // EPIPE when the reader is gone
      return;
    }
    this.#pending = null;
    p.cb();
  }

  #waitWritable(): void {
    try {
      this.#watch = this.#host.streamWatch(this.#prepared.io, true, this.#onReady);
      this.#watch.onEnd = (reason) => this.destroy(reason);
    } catch (err) {
      const p = this.#pending;
      this.#pending = null;
      p?.cb(err as Error);
    }
  }

  override _destroy(err: Error | null, cb: (err: Error | null) => void): void {
    // A write still waiting for room is answered, so that its callback (and those queued behind
    // it) are not left hanging.
    const p = this.#pending;
    this.#pending = null;
    p?.cb(err ?? Object.assign(new Error('Cannot call write after a stream was destroyed'), { code: 'ERR_STREAM_DESTROYED' }));
    const watch = this.#watch;
    this.#watch = null;
    finish(this.#host, this.#io, this.fd, watch, this.#prepared, this.#autoClose, err, cb);
  }
}
