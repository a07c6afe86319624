// The public types use Node's globals (AbortSignal, Disposable): TypeScript users need @types/node,
// declared as an optional peer dependency; this line makes the published .d.ts ask for it.
/// <reference types="node" preserve="true" />
import {
  Bits,
  MAX_EVENTS,
  RESERVED_TOKEN,
  type AddOptions,
  type Backend,
  type Interest,
  type PollEvent,
  type PollerOptions,
  type SignalOptions,
  type Watch,
} from './types.js';
import { alreadyWatched, typeError } from './errors.js';
import { trace, tracing } from './trace.js';
import { describe, validateAddOptions, validateFd, validateFunction, validateMaxEvents, validateSignal } from './validate.js';
import { OWNER_REMOVES, RAW, UNREF, type OnEnd, type OnMask } from './registration.js';
import { Registrations } from './registrations.js';
import { EventIterator, once } from './adapters.js';
import { HostedStreams } from './stream-host.js';
import { kDropStale, kModifyMask, kWatchMask } from './raw.js';
import { PollDuplex, PollReadStream, PollWriteStream, type DuplexOptions, type ReadStreamOptions, type WriteStreamOptions } from './stream.js';

const checkedBackends = new WeakSet<Backend>();

function checkBackend(backend: Backend): void {
  if (checkedBackends.has(backend)) return;
  for (const [name, value] of Object.entries(Bits)) {
    if (backend.bits[name as keyof typeof Bits] !== value) {
      throw new Error(`The ${backend.name} backend disagrees with @poll/core on the value of ${name}; install matching versions`);
    }
  }
  for (const [name, mine, theirs] of [['MAX_EVENTS', MAX_EVENTS, backend.maxEvents], ['RESERVED_TOKEN', RESERVED_TOKEN, backend.reservedToken]] as const) {
    if (theirs !== undefined && theirs !== mine) {
      throw new Error(`The ${backend.name} backend disagrees with @poll/core on the value of ${name}; install matching versions`);
    }
  }
  checkedBackends.add(backend);
}

/**
 * The Poller every backend shares. A platform package subclasses it with its own backend bound.
 * It checks arguments and hands each call to its parts: the registration table (watches,
 * dispatch, the rebuild, ref accounting), once() and events() (adapters.ts), hosted streams.
 */
export class PollerBase implements Disposable {
  readonly backend: 'epoll' | 'kqueue';
  readonly #table: Registrations;
  readonly #streams: HostedStreams;

  constructor(backend: Backend, options?: PollerOptions) {
    if (options !== undefined && (typeof options !== 'object' || options === null)) {
      throw typeError('ERR_INVALID_ARG_TYPE', `The "options" argument must be of type object. Received ${describe(options)}`);
    }
    // An unknown key is an error, not ignored, as for add() and the streams: a misspelt maxEvents
    // would otherwise quietly be the default.
    const unknownKey = options === undefined ? undefined : Object.keys(options).find((k) => k !== 'maxEvents');
    if (unknownKey !== undefined) throw typeError('ERR_INVALID_ARG_VALUE', `The "options" argument has an unknown property "${unknownKey}"`);
    checkBackend(backend);
    const maxEvents = validateMaxEvents(options?.maxEvents);
    this.backend = backend.name;
    this.#table = new Registrations(backend, maxEvents);
    this.#streams = new HostedStreams(this.#table, backend);
  }

  /** The epoll / kqueue descriptor (close-on-exec); -1 once closed. */
  get fd(): number {
    return this.#table.fd;
  }

  get closed(): boolean {
    return this.#table.closed;
  }

  /** Descriptors being watched. */
  get size(): number {
    return this.#table.size;
  }

  // Every method checks in one order: its arguments, then that the poller is open, then that
  // the fd is (or is not) watched, then (once/events) the abort signal, then the kernel.

  add(fd: number, interest: Interest, onEvent: (event: PollEvent) => void, options?: AddOptions): Watch {
    validateFd(fd);
    const mask = this.#table.interestMask(interest);
    validateFunction(onEvent, 'onEvent');
    const { onEnd, ref } = validateAddOptions(options);
    this.#claim(fd);
    const end: OnEnd | undefined = onEnd === undefined ? undefined : (reason) => onEnd(reason);
    return this.#table.register(fd, mask, onEvent, OWNER_REMOVES | (ref ? 0 : UNREF), end);
  }

  modify(fd: number, interest: Interest): void {
    validateFd(fd);
    const mask = this.#table.interestMask(interest);
    this.#table.modify(this.#table.watched(fd), mask);
  }

  /** Stops watching `fd`; false when it was not watched. */
  remove(fd: number): boolean {
    validateFd(fd);
    this.#table.open();
    const reg = this.#table.get(fd);
    if (reg === undefined) return false;
    this.#table.remove(reg);
    return true;
  }

  /**
   * Resolves with the first event on `fd`, then stops watching it. Rejects with AbortError on
   * abort, ERR_POLL_CLOSED on close(), ERR_POLL_NOT_WATCHED if someone else removes the fd.
   * Like Node's promise APIs it never throws: bad arguments and kernel errors reject too.
   */
  once(fd: number, interest: Interest, options?: SignalOptions): Promise<PollEvent> {
    let claimed: { signal: AbortSignal | undefined; mask: number };
    try {
      claimed = this.#claimFor(fd, interest, options);
    } catch (err) {
      return Promise.reject(err);
    }
    // oneshot: the kernel stops reporting after the first event even before remove() runs.
    return once(this.#table, fd, claimed.mask | Bits.ONESHOT, claimed.signal);
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
    let claimed: { signal: AbortSignal | undefined; mask: number };
    try {
      claimed = this.#claimFor(fd, interest, options);
    } catch (err) {
      return EventIterator.failed(err);
    }
    return EventIterator.start(this.#table, fd, claimed.mask, claimed.signal);
  }

  /** See kWatchMask. Argument and kernel errors throw, as add() does. */
  [kWatchMask](fd: number, mask: number, onMask: OnMask, onEnd?: OnEnd): Watch {
    validateFd(fd);
    this.#table.rawMask(mask);
    validateFunction(onMask, 'onMask');
    this.#claim(fd);
    return this.#table.register(fd, mask, onMask, RAW | OWNER_REMOVES, onEnd);
  }

  /** See kDropStale. */
  [kDropStale](fd: number): boolean {
    return this.#table.dropStale(fd);
  }

  /** See kWatchMask. */
  [kModifyMask](fd: number, mask: number): void {
    validateFd(fd);
    this.#table.rawMask(mask);
    this.#table.modify(this.#table.watched(fd), mask);
  }

  /**
   * A Readable on `fd`, read without blocking whenever it is readable; no threadpool thread is
   * held while it waits. See docs/API.md (Streams) for O_NONBLOCK, EOF and autoClose. A string
   * for `options` is the encoding, as fs.createReadStream() takes it.
   */
  createReadStream(fd: number, options?: ReadStreamOptions | BufferEncoding): PollReadStream {
    this.#claimForStream(fd);
    return this.#streams.host(fd, (host, io) => new PollReadStream(host, io, fd, options));
  }

  /**
   * A Writable on `fd`: writes what the kernel takes now, the rest when it is writable. A string
   * for `options` is the encoding, as fs.createWriteStream() takes it.
   */
  createWriteStream(fd: number, options?: WriteStreamOptions | BufferEncoding): PollWriteStream {
    this.#claimForStream(fd);
    return this.#streams.host(fd, (host, io) => new PollWriteStream(host, io, fd, options));
  }

  /**
   * A Duplex on `fd` (a socket, a tty, a serial port): both sides on one watch of this poller,
   * armed for what they wait for. Ends as net.Socket does: see docs/API.md (Streams).
   */
  createDuplex(fd: number, options?: DuplexOptions): PollDuplex {
    this.#claimForStream(fd);
    return this.#streams.host(fd, (host, io) => new PollDuplex(host, io, fd, options));
  }

  /**
   * Keep the process alive while something is watched (the default), like net.Socket#ref: while
   * at least one watch is ref'd (add()'s `ref`, a stream's ref()/unref()).
   */
  ref(): this {
    this.#table.loopRef.wanted = true;
    return this;
  }

  /** Let the process exit even while descriptors are watched. */
  unref(): this {
    this.#table.loopRef.wanted = false;
    return this;
  }

  hasRef(): boolean {
    return this.#table.loopRef.wanted;
  }

  /** Idempotent: ends every watch, rejects pending once() and events(), closes the descriptor. */
  close(): void {
    const table = this.#table;
    if (table.closed) return;
    if (tracing) trace(`poller ${table.fd}: closed, ending ${table.size} watch(es) and ${this.#streams.size} stream(s)`);
    this.#streams.destroyAll(table.close());
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** The poller is open and `fd` is neither watched nor a stream's. */
  #claim(fd: number): void {
    this.#table.open();
    if (this.#table.has(fd) || this.#streams.has(fd)) throw alreadyWatched(fd);
  }

  /** once()'s and events()' checks, in their order: `options`, `fd`, `interest`, the poller, the fd. */
  #claimFor(fd: number, interest: Interest, options: SignalOptions | undefined): { signal: AbortSignal | undefined; mask: number } {
    const signal = validateSignal(options);
    validateFd(fd);
    const mask = this.#table.interestMask(interest);
    this.#claim(fd);
    return { signal, mask };
  }

  #claimForStream(fd: number): void {
    validateFd(fd);
    this.#claim(fd);
  }
}

/**
 * createReadStream(fd, options), createWriteStream(fd, options) and createDuplex(fd, options)
 * without a poller of your own: `options.poller` if given, else one made on first use for this
 * thread for each kind, so that a descriptor can have a read and a write stream at once (a
 * poller watches an fd once).
 */
export function streamFunctions(Poller: PollerClass) {
  const pollers: Record<'r' | 'w' | 'd', PollerBase | null> = { r: null, w: null, d: null };
  const pick = (options: { poller?: PollerBase } | string | undefined, which: 'r' | 'w' | 'd'): [PollerBase, object | string | undefined] => {
    if (options !== undefined && options !== null && typeof options === 'object' && 'poller' in options) {
      const { poller, ...rest } = options;
      if (poller !== undefined) {
        if (!(poller instanceof PollerBase)) throw typeError('ERR_INVALID_ARG_TYPE', `The "options.poller" property must be an instance of Poller. Received ${describe(poller)}`);
        return [poller, rest];
      }
      options = rest;
    }
    const own = pollers[which];
    return [own === null || own.closed ? (pollers[which] = new Poller()) : own, options];
  };
  return {
    createReadStream(fd: number, options?: (ReadStreamOptions & { poller?: PollerBase }) | BufferEncoding): PollReadStream {
      const [poller, rest] = pick(options, 'r');
      return poller.createReadStream(fd, rest as ReadStreamOptions | BufferEncoding | undefined);
    },
    createWriteStream(fd: number, options?: (WriteStreamOptions & { poller?: PollerBase }) | BufferEncoding): PollWriteStream {
      const [poller, rest] = pick(options, 'w');
      return poller.createWriteStream(fd, rest as WriteStreamOptions | BufferEncoding | undefined);
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
