// Node streams on any descriptor a Poller can watch: reads and writes happen on this thread,
// without blocking, when the kernel says the descriptor is ready, so no libuv threadpool thread
// waits on a FIFO, a tty, a serial port or a device (fs streams hold one per pending read).
/// <reference types="node" preserve="true" />
import { close, closeSync, constants as fsConstants, fstatSync, openSync, readlinkSync } from 'node:fs';
import { fstatAny } from './fstat.js';
import { constants } from 'node:os';
import { Duplex, Readable, Writable, addAbortSignal } from 'node:stream';
import { isatty } from 'node:tty';
import { Bits, type BackendIo, type PollEvent, type Watch } from './types.js';
import { PollError, libraryError, streamDestroyed } from './errors.js';
import { validateBoolean, validateEncoding, validateSize, validateStreamOptions, validateStreamSignal } from './validate.js';

const { EAGAIN, EWOULDBLOCK, EIO, ENOTCONN, ENOTSOCK } = constants.errno;
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

/** Options of Poller#createDuplex: the read side's, the write side's, and how the two end. */
export interface DuplexOptions {
  /** Both sides' highWaterMark, as Duplex takes it (it wins over the two below). */
  highWaterMark?: number;
  /** Bytes buffered before reading pauses. Default 64 KiB, as createReadStream's. */
  readableHighWaterMark?: number;
  /** Bytes buffered before write() returns false. Default 16 KiB, as createWriteStream's. */
  writableHighWaterMark?: number;
  /** As createReadStream's. */
  chunkSize?: number;
  /** As createReadStream's. */
  recordSize?: number;
  /** The read side's chunks as strings in this encoding, decoded across chunk boundaries. */
  encoding?: BufferEncoding;
  /** The encoding of strings written without one. Default 'utf8'. */
  defaultEncoding?: BufferEncoding;
  /**
   * Keep the write side open when the read side ends, as net.Socket's option. Default false:
   * the end of what the descriptor gives (end of file, a peer's shutdown) ends the write side too.
   */
  allowHalfOpen?: boolean;
  /** Close the descriptor once the stream has ended or is destroyed. Default true. */
  autoClose?: boolean;
  signal?: AbortSignal;
}

/** What a stream needs from its poller (HostedStreams, in stream-host.ts, gives it). */
export interface StreamHost {
  /**
   * A oneshot watch for the stream's descriptor (reserved for it when the stream was made), for
   * `mask` (readable, writable or both).
   */
  streamWatch(fd: number, mask: number, onReady: (event: PollEvent) => void, ref: boolean, onEnd: (reason: Error) => void): HostedWatch;
  /** Arms the watch again, for `mask`. */
  streamModify(watch: HostedWatch, mask: number): void;
  /** Whether the watch keeps the event loop alive. */
  streamRef(watch: HostedWatch, ref: boolean): void;
  /** The stream is done with `fd`: others may watch it again. */
  streamDone(fd: number): void;
}

/**
 * A stream's watch, as its host made it: `onEnd` (given to streamWatch) hears of an end by the
 * poller (its close()); `release()` removes it without telling `onEnd`.
 */
export type HostedWatch = Watch & { release(): void };

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

type Mode = 'r' | 'w' | 'rw';

function prepare(io: BackendIo, fd: number, mode: Mode): Prepared {
  const use = fdUses.get(fd) ?? { streams: 0, closeAtEnd: false, sharing: 0, wasNonblocking: false };
  const reopened = reopenTerminal(fd, mode);
  if (reopened === null && use.sharing === 0) {
    const before = io.setNonblock(fd, true);
    if (before < 0) throw ioError(io, 'fcntl', before, fd);
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

function reopenTerminal(fd: number, mode: Mode): number | null {
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
    const access = mode === 'r' ? fsConstants.O_RDONLY : mode === 'w' ? fsConstants.O_WRONLY : fsConstants.O_RDWR;
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

/** A descriptor call's -errno as a PollError. */
function ioError(io: BackendIo, syscall: string, result: number, fd: number): PollError {
  return new PollError(syscall, -result, fd, io.strerror(-result));
}

const wouldBlock = (n: number): boolean => n === -EAGAIN || n === -EWOULDBLOCK;

// node:fs closes any descriptor on Node and Bun, off the JS thread as fs streams do (a serial
// port's close can wait for its output to drain). Deno's node:fs knows only the descriptors it
// opened itself and answers EBADF for the rest, which are then closed with the system call.
const onDeno = typeof (globalThis as { Deno?: unknown }).Deno !== 'undefined';
function closeDescriptor(io: BackendIo, fd: number, cb: (err: Error | null) => void): void {
  close(fd, (err: NodeJS.ErrnoException | null) => {
    if (err === null || !onDeno || io.close === undefined) return cb(err);
    const result = io.close(fd);
    cb(result < 0 ? ioError(io, 'close', result, fd) : null);
  });
}

/** The read side's options, as createReadStream and createDuplex take them. */
function readOptions(o: Record<string, unknown>) {
  const encoding = validateEncoding(o.encoding);
  const record = validateSize(o.recordSize, 'recordSize', 1);
  const chunk = validateSize(o.chunkSize, 'chunkSize', DEFAULT_CHUNK);
  return { encoding, record, chunk: Math.max(record, chunk - (chunk % record)) };
}

/** Options every stream has, validated before the stream exists (the poller checked it is open). */
function setUp(io: BackendIo, fd: number, mode: Mode, autoClose: unknown, signal: unknown) {
  const close = validateBoolean(autoClose, 'autoClose', true);
  return { autoClose: close, signal: validateStreamSignal(signal), prepared: prepare(io, fd, mode) };
}

interface WatchHandlers {
  readable?(): void;
  writable?(): void;
  /** The watch could not be armed for `sides` (the kernel refused, the poller closed meanwhile). */
  failed(err: Error, sides: number): void;
  /** The poller ended the watch (its close(), a rebuild). */
  ended(reason: Error): void;
}

/**
 * The one watch a stream holds on its descriptor: oneshot, armed for what its sides wait for
 * (readable while the reader waits for data, writable while a write waits for room), changed
 * with modify() as that changes, and removed when neither waits: an idle stream (paused, or
 * ended but not consumed, or with nothing to write) keeps nothing watched, and so does not keep
 * the process alive.
 */
class StreamWatch {
  #watch: HostedWatch | null = null;
  /** Bits the kernel registration is armed for; none once it has fired. */
  #armed = 0;
  /** Bits the sides wait for. */
  #wanted = 0;
  #dispatching = false;
  #ref = true;
  #ended = false;
  readonly #host: StreamHost;
  readonly #fd: number;
  readonly #handlers: WatchHandlers;

  constructor(host: StreamHost, fd: number, handlers: WatchHandlers) {
    this.#host = host;
    this.#fd = fd;
    this.#handlers = handlers;
  }

  /** A side waits for the kernel: Bits.READABLE or Bits.WRITABLE. */
  want(side: number): void {
    if (this.#ended) return;
    this.#wanted |= side;
    // While a report is being handed to the sides, what they want next is armed once, after.
    if (!this.#dispatching) this.#sync();
  }

  ref(on: boolean): void {
    this.#ref = on;
    if (this.#watch !== null && !this.#ended) this.#host.streamRef(this.#watch, on);
  }

  /** The stream ends: the watch goes. */
  end(): void {
    this.#ended = true;
    this.#wanted = this.#armed = 0;
    const watch = this.#watch;
    this.#watch = null;
    watch?.release();
  }

  // Readable wakes the reader, writable the writer; a hangup or an error wakes both, each to find
  // out what it means for itself (the end of file, EPIPE).
  readonly #onReady = (event: PollEvent): void => {
    const armed = this.#armed;
    this.#armed = 0;
    const both = event.hangup || event.error;
    let wake = armed & ((event.readable || both ? Bits.READABLE : 0) | (event.writable || both ? Bits.WRITABLE : 0));
    if (wake === 0) wake = armed; // a report neither side expects: each looks for itself
    this.#wanted &= ~wake;
    this.#dispatching = true;
    try {
      if (wake & Bits.READABLE) this.#handlers.readable?.();
      if (wake & Bits.WRITABLE && !this.#ended) this.#handlers.writable?.();
    } finally {
      this.#dispatching = false;
      this.#sync();
    }
  };

  // The poller ended the watch (its close()).
  readonly #onEnd = (reason: Error): void => {
    this.#watch = null;
    this.#wanted = this.#armed = 0;
    this.#handlers.ended(reason);
  };

  #sync(): void {
    const wanted = this.#wanted;
    // A fired watch is disarmed but still registered: with nothing wanted it goes.
    if (this.#ended || (wanted === this.#armed && (wanted !== 0 || this.#watch === null))) return;
    try {
      if (this.#watch === null) {
        this.#watch = this.#host.streamWatch(this.#fd, wanted, this.#onReady, this.#ref, this.#onEnd);
      } else if (wanted === 0) {
        const watch = this.#watch;
        watch.release();
        this.#watch = null;
      } else {
        this.#host.streamModify(this.#watch, wanted);
      }
      this.#armed = wanted;
    } catch (err) {
      this.#wanted = this.#armed;
      this.#handlers.failed(err as Error, wanted & ~this.#armed);
    }
  }
}

/**
 * A stream's hold on its descriptor, from when it is made to its end (its _destroy): the watch
 * goes first, then the stream lets go of the descriptor (its O_NONBLOCK given back, or our
 * reopened terminal closed); the descriptor itself is closed, as fs streams close theirs, once
 * the last stream on it has ended and one of them asked for that (autoClose), before `cb` hears
 * of it.
 */
class Hold {
  readonly watch: StreamWatch;
  readonly #host: StreamHost;
  readonly #io: BackendIo;
  readonly #fd: number;
  readonly #prepared: Prepared;
  readonly #autoClose: boolean;

  constructor(host: StreamHost, io: BackendIo, fd: number, prepared: Prepared, autoClose: boolean, handlers: WatchHandlers) {
    this.#host = host;
    this.#io = io;
    this.#fd = fd;
    this.#prepared = prepared;
    this.#autoClose = autoClose;
    this.watch = new StreamWatch(host, prepared.io, handlers);
  }

  end(err: Error | null, cb: (err: Error | null) => void): void {
    this.watch.end();
    this.#host.streamDone(this.#fd);
    if (this.#prepared.release(this.#autoClose)) closeDescriptor(this.#io, this.#fd, (closeErr) => cb(err ?? closeErr));
    else cb(err);
  }
}

/** What a Reader pushes into: its Readable. */
interface ReadSide {
  readonly destroyed: boolean;
  push(chunk: Buffer | null): boolean;
  destroy(err: Error): unknown;
}

/** The reading half of a stream: reads until the kernel says EAGAIN, then waits for readable. */
class Reader {
  /** Bytes read so far. */
  bytes = 0;
  #buffer: Buffer | null = null;
  #partial: Buffer | null = null;
  readonly #stream: ReadSide;
  readonly #io: BackendIo;
  /** The caller's descriptor, for errors; #source is the one read (maybe our reopened terminal). */
  readonly #fd: number;
  readonly #source: number;
  readonly #chunk: number;
  readonly #record: number;
  readonly #terminal: boolean;
  readonly #wait: () => void;

  constructor(stream: ReadSide, io: BackendIo, fd: number, source: number, options: { chunk: number; record: number }, wait: () => void) {
    this.#stream = stream;
    this.#io = io;
    this.#fd = fd;
    this.#source = source;
    this.#chunk = options.chunk;
    this.#record = options.record;
    this.#terminal = isatty(fd);
    this.#wait = wait;
  }

  // Called by _read() at once even while a watch waits: data often arrives before the kernel's
  // report of it reaches this thread, and taking it now saves a turn of the loop (1.1 against
  // 2 GB/s on a pipe another process fills, `pnpm bench` stream). A report that then finds
  // nothing just waits again.
  drain(): void {
    const stream = this.#stream;
    const want = this.#chunk;
    for (let reads = 0; reads < READS_PER_TURN; reads++) {
      if (stream.destroyed) return;
      this.#buffer ??= Buffer.allocUnsafeSlow(want);
      const n = this.#io.read(this.#source, this.#buffer, 0, want);
      if (n > 0) {
        this.bytes += n;
        let data: Buffer;
        if (n >= want / 4) {
          data = this.#buffer.subarray(0, n); // the chunk keeps its buffer: a new one next time
          this.#buffer = null;
        } else {
          data = Buffer.from(this.#buffer.subarray(0, n)); // a short read is copied out, so no chunk holds a buffer four times its size
        }
        if (this.#record > 1) data = this.#whole(data);
        if (data.length > 0 && !stream.push(data)) return; // paused: _read() drains again
        continue;
      }
      if (n === 0 || (n === -EIO && this.#terminal)) {
        // End of file (a pipe's writers gone, a socket's peer shut down); a pty whose other
        // side closed says EIO instead.
        if (this.#partial !== null) {
          stream.destroy(libraryError('ERR_POLL_PARTIAL_RECORD', `fd ${this.#fd} ended ${this.#partial.length} bytes into a ${this.#record}-byte record`));
        } else {
          stream.push(null);
        }
        return;
      }
      if (wouldBlock(n)) break;
      stream.destroy(ioError(this.#io, 'read', n, this.#fd));
      return;
    }
    if (!stream.destroyed) this.#wait();
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
}

type WriteCallback = (err?: Error | null) => void;

/** The writing half of a stream: writes what the kernel takes now, the rest when it is writable. */
class Writer {
  /** Bytes written so far. */
  bytes = 0;
  #pending: { chunk: Buffer; offset: number; cb: WriteCallback } | null = null;
  readonly #destroyed: () => boolean;
  readonly #io: BackendIo;
  readonly #fd: number;
  readonly #sink: number;
  readonly #wait: () => void;

  constructor(destroyed: () => boolean, io: BackendIo, fd: number, sink: number, wait: () => void) {
    this.#destroyed = destroyed;
    this.#io = io;
    this.#fd = fd;
    this.#sink = sink;
    this.#wait = wait;
  }

  write(chunk: Buffer, cb: WriteCallback): void {
    this.#pending = { chunk, offset: 0, cb };
    this.flush();
  }

  flush(): void {
    const p = this.#pending;
    if (p === null || this.#destroyed()) return;
    while (p.offset < p.chunk.length) {
      const n = this.#io.write(this.#sink, p.chunk, p.offset, p.chunk.length - p.offset);
      if (n > 0) {
        p.offset += n;
        this.bytes += n;
        continue;
      }
      if (n === 0 || wouldBlock(n)) {
        this.#wait();
        return;
      }
      this.fail(ioError(this.#io, 'write', n, this.#fd)); // EPIPE when the reader is gone
      return;
    }
    this.#pending = null;
    p.cb();
  }

  /** Answers the write waiting for room, if any, with `err`. */
  fail(err: Error): void {
    const p = this.#pending;
    this.#pending = null;
    p?.cb(err);
  }

  // At the stream's end a write still waiting for room is answered, so that its callback (and
  // those queued behind it) are not left hanging.
  end(err: Error | null): void {
    this.fail(err ?? streamDestroyed());
  }
}

// ref() and unref(), the same on each stream class (Readable, Writable and Duplex have no base of
// ours in common): each tells the stream's one watch whether it keeps the event loop alive.
const watches = new WeakMap<object, StreamWatch>();
const refMethods = {
  ref<T extends object>(this: T): T {
    watches.get(this)?.ref(true);
    return this;
  },
  unref<T extends object>(this: T): T {
    watches.get(this)?.ref(false);
    return this;
  },
};

const READ_KEYS = ['highWaterMark', 'chunkSize', 'recordSize', 'autoClose', 'encoding', 'signal'] as const;
const WRITE_KEYS = ['highWaterMark', 'autoClose', 'encoding', 'signal'] as const;
const DUPLEX_KEYS = [
  'highWaterMark',
  'readableHighWaterMark',
  'writableHighWaterMark',
  'chunkSize',
  'recordSize',
  'encoding',
  'defaultEncoding',
  'allowHalfOpen',
  'autoClose',
  'signal',
] as const;
const WRITE_HIGH_WATER_MARK = 16 * 1024;

/** A Readable on a descriptor, read when the poller reports it readable. */
export class PollReadStream extends Readable {
  /** The descriptor given to createReadStream(). */
  readonly fd: number;
  readonly #hold: Hold;
  readonly #reader: Reader;

  /** @internal Use Poller#createReadStream. */
  constructor(host: StreamHost, io: BackendIo, fd: number, options?: ReadStreamOptions | BufferEncoding) {
    const o = validateStreamOptions(options, READ_KEYS, true);
    const { encoding, ...read } = readOptions(o);
    const highWaterMark = validateSize(o.highWaterMark, 'highWaterMark', DEFAULT_CHUNK, 0);
    const { autoClose, signal, prepared } = setUp(io, fd, 'r', o.autoClose, o.signal);
    super({ highWaterMark, encoding, emitClose: true, autoDestroy: true });
    this.fd = fd;
    const destroy = (err: Error): void => void this.destroy(err);
    this.#hold = new Hold(host, io, fd, prepared, autoClose, { readable: () => this.#reader.drain(), failed: destroy, ended: destroy });
    this.#reader = new Reader(this, io, fd, prepared.io, read, () => this.#hold.watch.want(Bits.READABLE));
    watches.set(this, this.#hold.watch);
    // Only now: an aborted signal destroys the stream at once, which needs all of the above.
    if (signal !== undefined) addAbortSignal(signal, this);
  }

  /** Bytes read so far. */
  get bytesRead(): number {
    return this.#reader.bytes;
  }

  /** Keeps the process alive while the stream waits for the kernel (the default), as net.Socket#ref(). */
  declare ref: () => this;
  /** Lets the process exit while the stream waits for the kernel. */
  declare unref: () => this;

  override _read(): void {
    this.#reader.drain();
  }

  override _destroy(err: Error | null, cb: (err: Error | null) => void): void {
    this.#hold.end(err, cb);
  }
}

/** A Writable on a descriptor: writes what the kernel takes now, the rest when it is writable. */
export class PollWriteStream extends Writable {
  /** The descriptor given to createWriteStream(). */
  readonly fd: number;
  readonly #hold: Hold;
  readonly #writer: Writer;

  /** @internal Use Poller#createWriteStream. */
  constructor(host: StreamHost, io: BackendIo, fd: number, options?: WriteStreamOptions | BufferEncoding) {
    const o = validateStreamOptions(options, WRITE_KEYS, true);
    const highWaterMark = validateSize(o.highWaterMark, 'highWaterMark', WRITE_HIGH_WATER_MARK, 0);
    const defaultEncoding = validateEncoding(o.encoding);
    const { autoClose, signal, prepared } = setUp(io, fd, 'w', o.autoClose, o.signal);
    super({ highWaterMark, emitClose: true, autoDestroy: true, decodeStrings: true, ...(defaultEncoding ? { defaultEncoding } : {}) });
    this.fd = fd;
    this.#hold = new Hold(host, io, fd, prepared, autoClose, {
      writable: () => this.#writer.flush(),
      failed: (err) => this.#writer.fail(err),
      ended: (reason) => void this.destroy(reason),
    });
    this.#writer = new Writer(() => this.destroyed, io, fd, prepared.io, () => this.#hold.watch.want(Bits.WRITABLE));
    watches.set(this, this.#hold.watch);
    if (signal !== undefined) addAbortSignal(signal, this);
  }

  /** Bytes written so far. */
  get bytesWritten(): number {
    return this.#writer.bytes;
  }

  /** Keeps the process alive while the stream waits for the kernel (the default), as net.Socket#ref(). */
  declare ref: () => this;
  /** Lets the process exit while the stream waits for the kernel. */
  declare unref: () => this;

  override _write(chunk: Buffer, _encoding: BufferEncoding, cb: WriteCallback): void {
    this.#writer.write(chunk, cb);
  }

  override _destroy(err: Error | null, cb: (err: Error | null) => void): void {
    this.#writer.end(err);
    this.#hold.end(err, cb);
  }
}

/**
 * A Duplex on one descriptor (a socket, a tty, a serial port), both sides on one watch of its
 * poller: it reads as PollReadStream does and writes as PollWriteStream does, and ends as
 * net.Socket does: end() finishes the writes (and shuts a socket's sending side down, so that
 * its peer reads the end), the read side's end ends the write side unless `allowHalfOpen`, and
 * the descriptor is closed once both are done (`autoClose`).
 */
export class PollDuplex extends Duplex {
  /** The descriptor given to createDuplex(). */
  readonly fd: number;
  readonly #io: BackendIo;
  readonly #source: number;
  readonly #hold: Hold;
  readonly #reader: Reader;
  readonly #writer: Writer;

  /** @internal Use Poller#createDuplex. */
  constructor(host: StreamHost, io: BackendIo, fd: number, options?: DuplexOptions) {
    const o = validateStreamOptions(options, DUPLEX_KEYS);
    const { encoding, ...read } = readOptions(o);
    const both = o.highWaterMark;
    const readableHighWaterMark = validateSize(both ?? o.readableHighWaterMark, both === undefined ? 'readableHighWaterMark' : 'highWaterMark', DEFAULT_CHUNK, 0);
    const writableHighWaterMark = validateSize(both ?? o.writableHighWaterMark, both === undefined ? 'writableHighWaterMark' : 'highWaterMark', WRITE_HIGH_WATER_MARK, 0);
    const defaultEncoding = validateEncoding(o.defaultEncoding, 'defaultEncoding');
    const allowHalfOpen = validateBoolean(o.allowHalfOpen, 'allowHalfOpen', false);
    const { autoClose, signal, prepared } = setUp(io, fd, 'rw', o.autoClose, o.signal);
    super({
      readableHighWaterMark,
      writableHighWaterMark,
      encoding,
      allowHalfOpen,
      emitClose: true,
      autoDestroy: true,
      decodeStrings: true,
      ...(defaultEncoding ? { defaultEncoding } : {}),
    });
    this.fd = fd;
    this.#io = io;
    this.#source = prepared.io;
    const destroy = (err: Error): void => void this.destroy(err);
    this.#hold = new Hold(host, io, fd, prepared, autoClose, {
      readable: () => this.#reader.drain(),
      writable: () => this.#writer.flush(),
      failed: destroy,
      ended: destroy,
    });
    const watch = this.#hold.watch;
    this.#reader = new Reader(this, io, fd, prepared.io, read, () => watch.want(Bits.READABLE));
    this.#writer = new Writer(() => this.destroyed, io, fd, prepared.io, () => watch.want(Bits.WRITABLE));
    watches.set(this, watch);
    if (signal !== undefined) addAbortSignal(signal, this);
  }

  /** Bytes read so far. */
  get bytesRead(): number {
    return this.#reader.bytes;
  }

  /** Bytes written so far. */
  get bytesWritten(): number {
    return this.#writer.bytes;
  }

  /** Keeps the process alive while the stream waits for the kernel (the default), as net.Socket#ref(). */
  declare ref: () => this;
  /** Lets the process exit while the stream waits for the kernel. */
  declare unref: () => this;

  override _read(): void {
    this.#reader.drain();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, cb: WriteCallback): void {
    this.#writer.write(chunk, cb);
  }

  // A socket's peer reads the end of file now, while this side may still read (net.Socket's
  // end()); on anything else (ENOTSOCK: a tty, a serial port) there is nothing to shut down, and
  // a peer already gone (ENOTCONN) has nothing to hear.
  override _final(cb: (err?: Error | null) => void): void {
    const n = this.#io.shutdown?.(this.#source) ?? 0;
    cb(n < 0 && n !== -ENOTSOCK && n !== -ENOTCONN ? ioError(this.#io, 'shutdown', n, this.fd) : null);
  }

  override _destroy(err: Error | null, cb: (err: Error | null) => void): void {
    this.#writer.end(err);
    this.#hold.end(err, cb);
  }
}

for (const stream of [PollReadStream, PollWriteStream, PollDuplex]) Object.assign(stream.prototype, refMethods);
