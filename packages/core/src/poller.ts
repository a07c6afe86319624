// The public types use Node's globals (AbortSignal, Disposable): TypeScript users need @types/node,
// declared as an optional peer dependency; this line makes the published .d.ts ask for it.
/// <reference types="node" preserve="true" />
import { fstatAny } from './fstat.js';
import {
  Bits,
  MAX_EVENTS,
  type AddOptions,
  type Backend,
  type FileIdentity,
  type Interest,
  type NativePoller,
  type PollEvent,
  type PollerOptions,
  type SignalOptions,
  type Watch,
} from './types.js';
import { abortError, alreadyWatched, libraryError, PollError, toPollError, typeError } from './errors.js';
import { bitNames, trace, tracing } from './trace.js';
import { interestToMask, validateAddOptions, validateFd, validateFunction, validateMaxEvents, validateSignal } from './validate.js';
import {
  PollDuplex,
  PollReadStream,
  PollWriteStream,
  type DuplexOptions,
  type Endable,
  type ReadStreamOptions,
  type StreamHost,
  type WriteStreamOptions,
} from './stream.js';

const TRIPLE = 3;
const MAX_TOKEN = 0x7fffffff;
// Orphaned tokens remembered at most; the oldest are forgotten first.
const MAX_ORPHANS = 4096;
const OPTION_NAMES: Array<[number, string]> = [
  [Bits.PRIORITY, 'priority'],
  [Bits.EDGE, 'edge'],
  [Bits.ONESHOT, 'oneshot'],
  [Bits.READABLE, 'readable'],
  [Bits.WRITABLE, 'writable'],
  [Bits.PEER_SHUTDOWN, 'peer shutdown (EPOLLRDHUP) without readable'],
];
// What a mask-level watch (kWatchMask) may ask for.
const INTEREST_MASK = Bits.READABLE | Bits.WRITABLE | Bits.PRIORITY | Bits.PEER_SHUTDOWN | Bits.EDGE | Bits.ONESHOT;

/**
 * For the project's own packages built on a Poller (@poll/epoll), not for applications: no
 * semver promise. `poller[kWatchMask](fd, mask, onMask, onEnd)` watches with core's bit set
 * directly (any interest bits, even none: the kernel then reports only hangup and error) and
 * calls `onMask(fd, mask)` with the event's bits, making no event object; `onEnd(reason, fd)` is
 * called when the poller ends the watch (close(), or a rebuild that finds its fd closed), not on
 * remove(), which only its owner calls. `poller[kModifyMask](fd, mask)`
 * changes such a watch (and rearms a oneshot one).
 */
export const kWatchMask: unique symbol = Symbol('@poll/core watchMask');
export const kModifyMask: unique symbol = Symbol('@poll/core modifyMask');
/**
 * `poller[kDropStale](fd)`: when `fd` is watched but the kernel's record says the registration
 * belongs to another file (its fd was closed without remove() and the number reused), removes
 * it and returns true, so that the number can be added afresh, as epoll itself allows. False
 * when it is the same file, or where the kernel keeps no record (kqueue).
 */
export const kDropStale: unique symbol = Symbol('@poll/core dropStale');

type OnMask = (fd: number, mask: number) => void;

// Core's own state bits, kept in a registration's `mask` above the interest bits (one field less
// per watch than flags of their own: 16 bytes of the 141 each watch cost) and never passed to the
// kernel: a kWatchMask watch (onEvent takes (fd, mask)), a oneshot watch that has fired and
// not been rearmed, and a watch that does not keep the event loop alive (add()'s `ref: false`,
// an unref()'d stream's).
const RAW = 1 << 24;
const DISARMED = 1 << 25;
const UNREF = 1 << 26;
const KERNEL_BITS = ~(RAW | DISARMED | UNREF);

/** What a Registration needs from its poller; one object per poller, not per watch. */
interface Owner {
  isCurrent(reg: Registration): boolean;
  modify(reg: Registration, interest: Interest): void;
  rearm(reg: Registration): void;
  remove(reg: Registration): void;
}

class Registration implements Watch {
  readonly fd: number;
  /**
   * Comes back from the kernel with each event; a stale token means the event is not ours.
   * A new one with every modify() and rearm(), so that an event collected before the change
   * (by the waiter thread, or earlier in the same batch) is never taken for one after it.
   */
  token: number;
  /** Interest bits, and RAW and DISARMED. */
  mask: number;
  /** (event) for add(); (fd, mask) for a kWatchMask watch (RAW). */
  readonly onEvent: ((event: PollEvent) => void) | OnMask;
  /** once()/events(): told when the watch ends by any other hand (remove(fd), close()). */
  onEnd: ((reason: Error, fd: number) => void) | undefined = undefined;
  /** add() with onEnd: only the poller's own endings are told, never a remove(). */
  ownerRemoves = false;
  readonly #owner: Owner;

  constructor(owner: Owner, fd: number, token: number, mask: number, onEvent: ((event: PollEvent) => void) | OnMask) {
    this.#owner = owner;
    this.fd = fd;
    this.token = token;
    this.mask = mask;
    this.onEvent = onEvent;
  }

  modify(interest: Interest): void {
    this.#owner.modify(this, interest);
  }

  rearm(): void {
    this.#owner.rearm(this);
  }

  remove(): void {
    if (this.#owner.isCurrent(this)) this.#owner.remove(this);
  }
}

function rethrow(err: unknown): never {
  throw err;
}

const checkedBackends = new WeakSet<Backend>();

function checkBackend(backend: Backend): void {
  if (checkedBackends.has(backend)) return;
  for (const [name, value] of Object.entries(Bits)) {
    if (backend.bits[name as keyof typeof Bits] !== value) {
      throw new Error(`The ${backend.name} backend disagrees with @poll/core on the value of ${name}; install matching versions`);
    }
  }
  if (backend.maxEvents !== undefined && backend.maxEvents !== MAX_EVENTS) {
    throw new Error(`The ${backend.name} backend disagrees with @poll/core on the value of MAX_EVENTS; install matching versions`);
  }
  checkedBackends.add(backend);
}

/**
 * The Poller every backend shares: registration table, batch dispatch, promises, ref
 * accounting. A platform package subclasses it with its own backend bound.
 */
/** What close() needs of a stream. */
type LiveStream = { destroy(err?: Error): unknown };

export class PollerBase implements Disposable {
  readonly backend: 'epoll' | 'kqueue';
  #native: NativePoller | null;
  readonly #supported: number;
  readonly #backendImpl: Backend;
  readonly #buffer: Int32Array;
  readonly #table = new Map<number, Registration>();
  /**
   * Fired oneshot watches left out of the kernel's set by a rebuild (rearm() adds them back),
   * with the file each belonged to, so that a later rebuild can tell whether its number still
   * names that file.
   */
  readonly #detached = new Map<Registration, FileIdentity | undefined>();
  #fd: number;
  /**
   * Tokens of watches whose kernel registration could not be deleted because their fd was
   * already closed. Usually the kernel dropped it with the fd; but when another descriptor for
   * the same file is still open (a dup, a child process), epoll keeps reporting it and nothing
   * can delete it: an event for one of these tokens makes the poller rebuild its set.
   */
  readonly #orphans = new Map<number, number>(); // token -> #batch when it was orphaned
  /** Counts dispatched batches: an orphan's event in the batch that orphaned it is stale, not a ghost. */
  #batch = 0;
  #nextToken = 1;
  #wantRef = true;
  /** Watches in #table that keep nothing alive (UNREF): the loop is ref'd only while there are more watches than these. */
  #unrefd = 0;
  #nativeRef = false;
  #pinned = false;
  #syncQueued = false;
  readonly #owner: Owner;
  // Kept here because the native side holds it weakly while nothing is watched (see #syncRef).
  readonly #onBatch = (count: number): void => this.#dispatch(count);

  constructor(backend: Backend, options?: PollerOptions) {
    if (options !== undefined && (typeof options !== 'object' || options === null)) {
      throw Object.assign(new TypeError('The "options" argument must be of type object'), { code: 'ERR_INVALID_ARG_TYPE' });
    }
    checkBackend(backend);
    const maxEvents = validateMaxEvents(options?.maxEvents);
    this.backend = backend.name;
    this.#backendImpl = backend;
    this.#supported = backend.supported;
    this.#buffer = new Int32Array(maxEvents * TRIPLE);
    try {
      this.#native = backend.create(this.#buffer, this.#onBatch);
    } catch (e) {
      throw toPollError(e);
    }
    this.#fd = this.#native.fd;
    if (tracing) trace(`poller ${this.#fd}: made (${backend.name}, loop ${backend.loop ?? 'unknown'}, ${maxEvents} events per wait)`);
    this.#owner = {
      isCurrent: (reg) => this.#table.get(reg.fd) === reg,
      modify: (reg, interest) => {
        this.#assertCurrent(reg);
        this.#modify(reg, this.#mask(interest));
      },
      rearm: (reg) => {
        this.#assertCurrent(reg);
        if (!(reg.mask & Bits.ONESHOT)) {
          throw libraryError('ERR_POLL_NOT_ONESHOT', `fd ${reg.fd} is not a oneshot watch; rearm() is for oneshot watches`);
        }
        this.#modify(reg, reg.mask & KERNEL_BITS);
      },
      remove: (reg) => this.#remove(reg),
    };
  }

  /** The epoll / kqueue descriptor (close-on-exec); -1 once closed. */
  get fd(): number {
    return this.#native === null ? -1 : this.#fd;
  }

  get closed(): boolean {
    return this.#native === null;
  }

  /** Descriptors being watched. */
  get size(): number {
    return this.#table.size;
  }

  // Every method checks in one order: its arguments, then that the poller is open, then that
  // the fd is (or is not) watched, then (once/events) the abort signal, then the kernel.

  add(fd: number, interest: Interest, onEvent: (event: PollEvent) => void, options?: AddOptions): Watch {
    validateFd(fd);
    const mask = this.#mask(interest);
    validateFunction(onEvent, 'onEvent');
    const { onEnd, ref } = validateAddOptions(options);
    this.#open();
    this.#assertNotWatched(fd);
    const reg = this.#register(fd, mask, onEvent, ref ? 0 : UNREF);
    if (onEnd !== undefined) {
      reg.ownerRemoves = true;
      reg.onEnd = (reason) => onEnd(reason);
    }
    return reg;
  }

  modify(fd: number, interest: Interest): void {
    validateFd(fd);
    const mask = this.#mask(interest);
    this.#open();
    const reg = this.#table.get(fd);
    if (reg === undefined) throw notWatched(fd);
    this.#modify(reg, mask);
  }

  /** Stops watching `fd`; false when it was not watched. */
  remove(fd: number): boolean {
    validateFd(fd);
    this.#open();
    const reg = this.#table.get(fd);
    if (reg === undefined) return false;
    this.#remove(reg);
    return true;
  }

  /**
   * Resolves with the first event on `fd`, then stops watching it. Rejects with AbortError on
   * abort, ERR_POLL_CLOSED on close(), ERR_POLL_NOT_WATCHED if someone else removes the fd.
   * Like Node's promise APIs it never throws: bad arguments and kernel errors reject too.
   */
  once(fd: number, interest: Interest, options?: SignalOptions): Promise<PollEvent> {
    let signal: AbortSignal | undefined;
    let mask: number;
    try {
      signal = validateSignal(options);
      validateFd(fd);
      // oneshot: the kernel stops reporting after the first event even before remove() runs.
      mask = this.#mask(interest) | Bits.ONESHOT;
      this.#open();
      this.#assertNotWatched(fd);
    } catch (err) {
      return Promise.reject(err);
    }
    if (signal?.aborted) return Promise.reject(abortError(signal));

    let resolve!: (event: PollEvent) => void;
    let reject!: (err: unknown) => void;
    const promise = new Promise<PollEvent>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    let reg: Registration;
    try {
      reg = this.#register(fd, mask, (event: PollEvent) => {
        settle();
        resolve(event);
      });
    } catch (err) {
      return Promise.reject(err);
    }
    const settle = (): void => {
      reg.onEnd = undefined;
      reg.remove();
      signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = (): void => {
      settle();
      reject(abortError(signal!));
    };
    reg.onEnd = (reason) => {
      signal?.removeEventListener('abort', onAbort);
      reject(reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    return promise;
  }

  /**
   * Events on `fd` as an async iterator. Level-triggered and oneshot interest is armed once per
   * `next()` (the kernel reports again if the descriptor is still ready), so a slow consumer
   * never queues more than one event; edge-triggered events that arrive between two `next()`
   * calls are merged into one. It never throws: any failure to start watching (arguments,
   * closed poller, already watched, aborted signal, kernel) is the rejection of the first
   * `next()`, after which the iterator is done.
   */
  events(fd: number, interest: Interest, options?: SignalOptions): AsyncIterableIterator<PollEvent> {
    let signal: AbortSignal | undefined;
    let mask = 0;
    let failure: unknown = null;
    try {
      signal = validateSignal(options);
      validateFd(fd);
      mask = this.#mask(interest);
      this.#open();
      this.#assertNotWatched(fd);
    } catch (err) {
      failure = err;
    }
    const perPull = !(mask & Bits.EDGE) || (mask & Bits.ONESHOT) !== 0;
    if (perPull) mask |= Bits.ONESHOT;

    let pending: PollEvent | null = null;
    let waiter: { resolve: (r: IteratorResult<PollEvent>) => void; reject: (e: unknown) => void } | null = null;
    let finished = failure !== null;
    let armed = true;
    let reg: Registration | null = null;

    const finish = (): void => {
      if (finished) return;
      finished = true;
      if (reg !== null) {
        reg.onEnd = undefined;
        reg.remove();
      }
      signal?.removeEventListener('abort', onAbort);
    };
    // Like events.on(): events already received are still yielded, then the error, then done.
    const fail = (err: unknown): void => {
      if (finished) return;
      finish();
      if (waiter !== null) {
        waiter.reject(err);
        waiter = null;
      } else {
        failure = err;
      }
    };
    const onAbort = (): void => fail(abortError(signal!));
    const onEvent = (event: PollEvent): void => {
      if (perPull) armed = false;
      if (waiter !== null) {
        waiter.resolve({ value: event, done: false });
        waiter = null;
      } else {
        pending = pending === null ? event : mergeEvents(pending, event);
      }
    };

    if (!finished) {
      try {
        if (signal?.aborted) throw abortError(signal);
        reg = this.#register(fd, mask, onEvent);
        reg.onEnd = fail;
        signal?.addEventListener('abort', onAbort, { once: true });
      } catch (err) {
        failure = err;
        finished = true;
      }
    }

    const iterator: AsyncIterableIterator<PollEvent> = {
      next: (): Promise<IteratorResult<PollEvent>> => {
        if (pending !== null) {
          const value = pending;
          pending = null;
          return Promise.resolve({ value, done: false });
        }
        if (failure !== null) {
          const err = failure;
          failure = null;
          return Promise.reject(err);
        }
        if (finished) return Promise.resolve({ value: undefined, done: true });
        if (waiter !== null) {
          return Promise.reject(
            libraryError('ERR_POLL_UNSUPPORTED', 'events(): wait for the previous next() to settle before calling next() again'),
          );
        }
        if (!armed) {
          try {
            reg!.rearm();
          } catch (err) {
            finish();
            return Promise.reject(err);
          }
          armed = true;
        }
        return new Promise((resolve, reject) => {
          waiter = { resolve, reject };
        });
      },
      return: (): Promise<IteratorResult<PollEvent>> => {
        finish();
        pending = null;
        failure = null;
        if (waiter !== null) {
          waiter.resolve({ value: undefined, done: true });
          waiter = null;
        }
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }

  /** See kWatchMask. Argument and kernel errors throw, as add() does. */
  [kWatchMask](fd: number, mask: number, onMask: OnMask, onEnd?: (reason: Error, fd: number) => void): Watch {
    validateFd(fd);
    this.#rawMask(mask);
    validateFunction(onMask, 'onMask');
    this.#open();
    this.#assertNotWatched(fd);
    const reg = this.#register(fd, mask, onMask, RAW);
    reg.onEnd = onEnd;
    return reg;
  }

  /** See kDropStale. */
  [kDropStale](fd: number): boolean {
    const reg = this.#table.get(fd);
    if (reg === undefined || this.#native === null) return false;
    const files = this.#backendImpl.registeredFiles?.(this.#native.fd);
    if (files === undefined) return false;
    const file = this.#detached.has(reg) ? this.#detached.get(reg) : files.get(reg.token);
    if (sameFile(file, fd)) return false;
    this.#remove(reg);
    return true;
  }

  /** See kWatchMask. */
  [kModifyMask](fd: number, mask: number): void {
    validateFd(fd);
    this.#rawMask(mask);
    this.#open();
    const reg = this.#table.get(fd);
    if (reg === undefined) throw notWatched(fd);
    this.#modify(reg, mask);
  }

  /**
   * A Readable on `fd`, read without blocking whenever it is readable; no threadpool thread is
   * held while it waits. See docs/API.md (Streams) for O_NONBLOCK, EOF and autoClose.
   */
  createReadStream(fd: number, options?: ReadStreamOptions): PollReadStream {
    return this.#stream(fd, (host, io) => new PollReadStream(host, io, fd, options));
  }

  /** A Writable on `fd`: writes what the kernel takes now, the rest when it is writable. */
  createWriteStream(fd: number, options?: WriteStreamOptions): PollWriteStream {
    return this.#stream(fd, (host, io) => new PollWriteStream(host, io, fd, options));
  }

  /**
   * A Duplex on `fd` (a socket, a tty, a serial port): both sides on one watch of this poller,
   * armed for what they wait for. Ends as net.Socket does: see docs/API.md (Streams).
   */
  createDuplex(fd: number, options?: DuplexOptions): PollDuplex {
    return this.#stream(fd, (host, io) => new PollDuplex(host, io, fd, options));
  }

  // A stream watches its fd only while it waits, but the fd is its own on this poller from the
  // start: a second stream, add(), once() or events() on it is refused at once, not under load.
  // The fd is marked before the stream is made: a stream can end inside its own constructor (an
  // aborted `signal`), and its end unmarks the fd, which must then stay unmarked.
  #stream<T extends LiveStream>(fd: number, make: (host: StreamHost, io: NonNullable<Backend['io']>) => T): T {
    validateFd(fd);
    this.#open();
    this.#assertNotWatched(fd);
    const io = this.#io();
    this.#streams.set(fd, null);
    let stream: T;
    try {
      stream = make(this.#streamHost, io);
    } catch (err) {
      this.#streams.delete(fd);
      throw err;
    }
    if (this.#streams.has(fd)) this.#streams.set(fd, stream);
    return stream;
  }

  // The streams on this poller, by fd, until each ends (null while one is being made). close()
  // ends them all, whether they wait for the kernel or not (paused, idle, buffered).
  readonly #streams = new Map<number, LiveStream | null>();
  readonly #streamHost: StreamHost = {
    streamWatch: (fd, mask, onReady, ref) => {
      this.#open();
      // A stream holds at most one watch at a time; a second would replace the first in the table.
      if (this.#table.has(fd)) throw alreadyWatched(fd);
      return this.#register(fd, mask | Bits.ONESHOT, onReady, ref ? 0 : UNREF) as Endable;
    },
    streamModify: (watch, mask) => {
      const reg = watch as Registration;
      this.#assertCurrent(reg);
      this.#modify(reg, mask | Bits.ONESHOT);
    },
    streamRef: (watch, ref) => {
      const reg = watch as Registration;
      if (this.#table.get(reg.fd) !== reg || ((reg.mask & UNREF) === 0) === ref) return;
      reg.mask ^= UNREF;
      this.#unrefd += ref ? -1 : 1;
      this.#syncRef();
    },
    streamDone: (fd) => {
      this.#streams.delete(fd);
    },
  };

  #io() {
    const io = this.#backendImpl.io;
    if (io === undefined) throw libraryError('ERR_POLL_UNSUPPORTED', `This ${this.backend} backend has no descriptor I/O for streams; install matching versions of the @poll packages`);
    return io;
  }

  /**
   * Keep the process alive while something is watched (the default), like net.Socket#ref: while
   * at least one watch is ref'd (add()'s `ref`, a stream's ref()/unref()).
   */
  ref(): this {
    this.#wantRef = true;
    this.#syncRef();
    return this;
  }

  /** Let the process exit even while descriptors are watched. */
  unref(): this {
    this.#wantRef = false;
    this.#syncRef();
    return this;
  }

  hasRef(): boolean {
    return this.#wantRef;
  }

  /** Idempotent: ends every watch, rejects pending once() and events(), closes the descriptor. */
  close(): void {
    const native = this.#native;
    if (native === null) return;
    this.#native = null;
    if (tracing) trace(`poller ${this.#fd}: closed, ending ${this.#table.size} watch(es) and ${this.#streams.size} stream(s)`);
    const ended = [...this.#table.values()];
    this.#table.clear();
    this.#unrefd = 0;
    this.#detached.clear();
    native.close();
    const err = closedError();
    for (const reg of ended) reg.onEnd?.(err, reg.fd);
    // Streams not waiting for the kernel just now had no registration to end.
    for (const stream of [...this.#streams.values()]) stream?.destroy(err);
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #dispatch(count: number): void {
    const buffer = this.#buffer;
    const table = this.#table;
    const batch = ++this.#batch;
    if (tracing) trace(`poller ${this.#fd}: batch ${batch}, ${count} event(s)`);
    let ghost = -1;
    for (let i = 0; i < count * TRIPLE; i += TRIPLE) {
      const fd = buffer[i]!;
      const reg = table.get(fd);
      // Removed, or removed and added again since the kernel queued this event.
      if (reg === undefined || reg.token !== buffer[i + 1]) {
        const orphaned = this.#orphans.get(buffer[i + 1]!);
        if (orphaned !== undefined && orphaned < batch) ghost = fd;
        continue;
      }
      const mask = buffer[i + 2]!;
      if (reg.mask & Bits.ONESHOT) reg.mask |= DISARMED;
      try {
        if (reg.mask & RAW) {
          (reg.onEvent as OnMask)(fd, mask);
        } else {
          (reg.onEvent as (event: PollEvent) => void)({
            fd,
            readable: (mask & Bits.READABLE) !== 0,
            writable: (mask & Bits.WRITABLE) !== 0,
            priority: (mask & Bits.PRIORITY) !== 0,
            hangup: (mask & (Bits.HANGUP | Bits.PEER_SHUTDOWN)) !== 0,
            error: (mask & Bits.ERROR) !== 0,
          });
        }
      } catch (err) {
        // Surface it as an uncaught exception once this batch is done; the rest of the
        // batch still belongs to its owners.
        process.nextTick(rethrow, err);
      }
      if (this.#native === null) return;
    }
    if (ghost !== -1) this.#rebuild(ghost);
  }

  /**
   * A fresh kernel set holding exactly the current watches, replacing one that keeps a
   * registration nobody can delete (see #orphans). The poller's fd changes.
   *
   * A watch whose descriptor was closed without remove() ends here: the backend's record of
   * which file each registration (by token) belongs to is compared with the file its number
   * names now, so a number that was closed and reused is never moved to the fresh set.
   *
   * Adding an edge-triggered watch to a fresh set reports its current readiness once, as a
   * first EPOLL_CTL_ADD does; after a rebuild an edge watch on a ready descriptor may see one
   * event with no new readiness. A rebuild only follows a misuse (close before remove) and an
   * edge consumer reads until EAGAIN anyway, so this is accepted rather than guessed away.
   */
  #rebuild(ghostFd: number): void {
    const old = this.#native!;
    const files = this.#backendImpl.registeredFiles?.(old.fd);
    let fresh: NativePoller;
    try {
      fresh = this.#backendImpl.create(this.#buffer, this.#onBatch);
    } catch (e) {
      this.#orphans.clear(); // no retry storm; the ghost keeps firing on the old set
      process.emitWarning(`poll: could not rebuild the ${this.backend} set: ${String(toPollError(e))}`, { code: 'POLL_REBUILD_FAILED' });
      return;
    }
    const ended: Registration[] = [];
    const detach: Array<[Registration, FileIdentity | undefined]> = [];
    for (const reg of this.#table.values()) {
      const detached = this.#detached.has(reg);
      // Where the kernel keeps a record: the file this registration belongs to (a detached one
      // is not in the set, so the file noted when it was detached), against the file its number
      // names now. A registration the kernel dropped, or a number that changed hands, ends.
      const file = files === undefined ? undefined : detached ? this.#detached.get(reg) : files.get(reg.token);
      if (files !== undefined && !sameFile(file, reg.fd)) {
        ended.push(reg);
        continue;
      }
      // A fired oneshot stays out until rearm() puts it back, as the kernel would keep it.
      if (detached || reg.mask & DISARMED) {
        detach.push([reg, file]);
        continue;
      }
      try {
        fresh.add(reg.fd, reg.mask & KERNEL_BITS, reg.token);
      } catch (e) {
        const err = toPollError(e);
        if (err instanceof PollError && err.code === 'EBADF') {
          ended.push(reg); // its fd was closed without remove()
          continue;
        }
        // Out of watches or memory: keep the old set whole rather than lose a watch.
        fresh.close();
        this.#orphans.clear();
        process.emitWarning(`poll: could not rebuild the ${this.backend} set: ${String(err)}`, { code: 'POLL_REBUILD_FAILED' });
        return;
      }
    }
    for (const reg of ended) {
      this.#table.delete(reg.fd);
      if (reg.mask & UNREF) this.#unrefd--;
      this.#detached.delete(reg);
    }
    for (const [reg, file] of detach) this.#detached.set(reg, file);
    this.#orphans.clear();
    if (tracing) trace(`poller ${old.fd}: rebuilt as ${fresh.fd} (fd ${ghostFd} was closed before remove(): the kernel kept reporting it)`);
    this.#native = fresh;
    this.#fd = fresh.fd;
    this.#pinned = false;
    this.#nativeRef = false;
    this.#syncRef();
    old.close();
    process.emitWarning(
      `poll: fd ${ghostFd} was closed before remove() while another descriptor for the same file stayed open ` +
        `(a dup, or a child process), so the kernel kept reporting it. The poller rebuilt its ${this.backend} set ` +
        `(its fd is now ${fresh.fd}). Call remove() before closing a watched descriptor.`,
      { code: 'POLL_REBUILT' },
    );
    const err = libraryError('ERR_POLL_NOT_WATCHED', 'the watched fd was closed without remove()');
    for (const reg of ended) reg.onEnd?.(err, reg.fd);
  }

  #assertNotWatched(fd: number): void {
    if (this.#table.has(fd) || this.#streams.has(fd)) {
      throw alreadyWatched(fd);
    }
  }

  /** `state` is RAW for a kWatchMask watch, UNREF for one that keeps nothing alive; the kernel gets `mask` alone. */
  #register(fd: number, mask: number, onEvent: ((event: PollEvent) => void) | OnMask, state = 0): Registration {
    const token = this.#newToken();
    try {
      this.#native!.add(fd, mask, token);
    } catch (e) {
      throw toPollError(e);
    }
    const reg = new Registration(this.#owner, fd, token, mask | state, onEvent);
    this.#table.set(fd, reg);
    if (state & UNREF) this.#unrefd++;
    if (tracing) trace(`poller ${this.#fd}: fd ${fd} added (${bitNames(mask, Bits)}, token ${token})`);
    this.#syncRef();
    return reg;
  }

  #newToken(): number {
    const token = this.#nextToken;
    this.#nextToken = token === MAX_TOKEN ? 1 : token + 1;
    return token;
  }

  #open(): NativePoller {
    if (this.#native === null) throw closedError();
    return this.#native;
  }

  #mask(interest: unknown): number {
    const mask = interestToMask(interest);
    const unsupported = mask & ~this.#supported;
    if (unsupported !== 0) throw this.#unsupported(unsupported);
    return mask;
  }

  #rawMask(mask: unknown): asserts mask is number {
    if (typeof mask !== 'number' || !Number.isInteger(mask) || (mask & ~INTEREST_MASK) !== 0) {
      throw typeError('ERR_INVALID_ARG_VALUE', `The "mask" argument must be a combination of interest bits. Received ${String(mask)}`);
    }
    const unsupported = mask & ~this.#supported;
    if (unsupported !== 0) throw this.#unsupported(unsupported);
  }

  #unsupported(bits: number): Error {
    const names = OPTION_NAMES.filter(([bit]) => bits & bit).map(([, name]) => name);
    return libraryError('ERR_POLL_UNSUPPORTED', `The ${this.backend} backend cannot watch for ${names.join(', ')} on this platform`);
  }

  #assertCurrent(reg: Registration): void {
    this.#open();
    if (this.#table.get(reg.fd) !== reg) throw notWatched(reg.fd);
  }

  #modify(reg: Registration, mask: number): void {
    const detached = this.#detached.has(reg);
    // The kernel reports the descriptor's state afresh under the new interest (EPOLL_CTL_MOD and
    // EV_ADD both look at it again), with the new token; whatever it reported before is stale.
    const token = this.#newToken();
    try {
      if (detached) this.#native!.add(reg.fd, mask, token);
      else this.#native!.modify(reg.fd, mask, token);
    } catch (e) {
      throw toPollError(e);
    }
    reg.token = token;
    reg.mask = mask | (reg.mask & (RAW | UNREF));
    if (detached) this.#detached.delete(reg);
    if (tracing) trace(`poller ${this.#fd}: fd ${reg.fd} ${detached ? 'added back' : 'modified'} (${bitNames(mask, Bits)}, token ${token})`);
  }

  #remove(reg: Registration): void {
    if (!this.#detached.delete(reg)) {
      try {
        this.#native!.remove(reg.fd);
      } catch (e) {
        const err = toPollError(e);
        // The kernel forgets a registration by itself when its descriptor is closed.
        if (!(err instanceof PollError) || (err.code !== 'EBADF' && err.code !== 'ENOENT')) throw err;
        this.#orphans.set(reg.token, this.#batch);
        if (this.#orphans.size > MAX_ORPHANS) this.#orphans.delete(this.#orphans.keys().next().value!);
      }
    }
    this.#table.delete(reg.fd);
    if (reg.mask & UNREF) this.#unrefd--;
    if (tracing) trace(`poller ${this.#fd}: fd ${reg.fd} removed`);
    this.#syncRef();
    // A mask-level watch is removed only by its owner, who needs no telling (and no Error made
    // on every remove: @poll/epoll's churn).
    if (!(reg.mask & RAW) && !reg.ownerRemoves) reg.onEnd?.(libraryError('ERR_POLL_NOT_WATCHED', `fd ${reg.fd} was removed from the poller`), reg.fd);
  }

  // While something is watched the native side holds this poller strongly (events must reach
  // it even if the application dropped its reference) and, while one of those watches is ref'd
  // and the poller is not unref()'d, keeps the loop alive. While nothing is watched an abandoned
  // poller can be collected and its fd closed.
  // Applied in a microtask: both only matter once this job has returned to the event loop, and
  // an add() and remove() in the same job (churn) then cost no native calls for them at all.
  #syncRef(): void {
    if (this.#syncQueued || this.#native === null) return;
    this.#syncQueued = true;
    queueMicrotask(this.#applyRef);
  }

  readonly #applyRef = (): void => {
    this.#syncQueued = false;
    const native = this.#native;
    if (native === null) return;
    const watching = this.#table.size > 0;
    if (watching !== this.#pinned) {
      this.#pinned = watching;
      native.pin(watching);
    }
    const want = this.#wantRef && this.#table.size > this.#unrefd;
    if (want !== this.#nativeRef) {
      this.#nativeRef = want;
      if (want) native.ref();
      else native.unref();
    }
  };
}

/** Whether `fd` names `file` now (false when it is closed, or when there is no record). */
function sameFile(file: FileIdentity | undefined, fd: number): boolean {
  if (file === undefined) return false;
  try {
    const now = fstatAny(fd, { bigint: true });
    return now.dev === file.dev && now.ino === file.ino;
  } catch {
    return false;
  }
}

function mergeEvents(a: PollEvent, b: PollEvent): PollEvent {
  return {
    fd: a.fd,
    readable: a.readable || b.readable,
    writable: a.writable || b.writable,
    priority: a.priority || b.priority,
    hangup: a.hangup || b.hangup,
    error: a.error || b.error,
  };
}

function notWatched(fd: number): Error {
  return libraryError('ERR_POLL_NOT_WATCHED', `fd ${fd} is not watched by this poller`);
}

function closedError(): Error {
  return libraryError('ERR_POLL_CLOSED', 'The poller is closed');
}

/**
 * createReadStream(fd, options), createWriteStream(fd, options) and createDuplex(fd, options)
 * without a poller of your own: `options.poller` if given, else one made on first use for this
 * thread for each kind, so that a descriptor can have a read and a write stream at once (a
 * poller watches an fd once).
 */
export function streamFunctions(Poller: PollerClass) {
  const pollers: Record<'r' | 'w' | 'd', PollerBase | null> = { r: null, w: null, d: null };
  const pick = (options: { poller?: PollerBase } | undefined, which: 'r' | 'w' | 'd'): [PollerBase, object | undefined] => {
    if (options !== undefined && options !== null && typeof options === 'object' && 'poller' in options) {
      const { poller, ...rest } = options;
      if (poller !== undefined) {
        if (!(poller instanceof PollerBase)) throw Object.assign(new TypeError('The "options.poller" property must be a Poller'), { code: 'ERR_INVALID_ARG_TYPE' });
        return [poller, rest];
      }
      options = rest;
    }
    const own = pollers[which];
    return [own === null || own.closed ? (pollers[which] = new Poller()) : own, options];
  };
  return {
    createReadStream(fd: number, options?: ReadStreamOptions & { poller?: PollerBase }): PollReadStream {
      const [poller, rest] = pick(options, 'r');
      return poller.createReadStream(fd, rest as ReadStreamOptions | undefined);
    },
    createWriteStream(fd: number, options?: WriteStreamOptions & { poller?: PollerBase }): PollWriteStream {
      const [poller, rest] = pick(options, 'w');
      return poller.createWriteStream(fd, rest as WriteStreamOptions | undefined);
    },
    createDuplex(fd: number, options?: DuplexOptions & { poller?: PollerBase }): PollDuplex {
      const [poller, rest] = pick(options, 'd');
      return poller.createDuplex(fd, rest as DuplexOptions | undefined);
    },
  };
}

/** The Poller class applications construct, for one backend: `new Poller(options)`. */
export type PollerClass = new (options?: PollerOptions) => PollerBase;

/** How a platform package (and the facade) makes its `Poller` from its backend. */
export function pollerClass(backend: Backend): PollerClass {
  return class Poller extends PollerBase {
    constructor(options?: PollerOptions) {
      super(backend, options);
    }
  };
}
