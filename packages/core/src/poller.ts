import {
  Bits,
  type Backend,
  type Interest,
  type NativePoller,
  type PollEvent,
  type PollerOptions,
  type SignalOptions,
  type Watch,
} from './types.js';
import { abortError, libraryError, PollError, toPollError } from './errors.js';
import { interestToMask, validateFd, validateFunction, validateMaxEvents, validateSignal } from './validate.js';

const TRIPLE = 3;
const MAX_TOKEN = 0x7fffffff;
const OPTION_NAMES: Array<[number, string]> = [
  [Bits.PRIORITY, 'priority'],
  [Bits.EDGE, 'edge'],
  [Bits.ONESHOT, 'oneshot'],
  [Bits.READABLE, 'readable'],
  [Bits.WRITABLE, 'writable'],
];

/** What a Registration needs from its poller; one object per poller, not per watch. */
interface Owner {
  isCurrent(reg: Registration): boolean;
  modify(reg: Registration, interest: Interest): void;
  rearm(reg: Registration): void;
  remove(reg: Registration): void;
}

class Registration implements Watch {
  readonly fd: number;
  /** Comes back from the kernel with each event; a stale token means the event is not ours. */
  readonly token: number;
  mask: number;
  readonly onEvent: (event: PollEvent) => void;
  readonly #owner: Owner;

  constructor(owner: Owner, fd: number, token: number, mask: number, onEvent: (event: PollEvent) => void) {
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
  checkedBackends.add(backend);
}

/**
 * The Poller every backend shares: registration table, batch dispatch, promises, ref
 * accounting. A platform package subclasses it with its own backend bound.
 */
export class PollerBase implements Disposable {
  readonly backend: 'epoll' | 'kqueue';
  #native: NativePoller | null;
  readonly #supported: number;
  readonly #buffer: Int32Array;
  readonly #table = new Map<number, Registration>();
  readonly #fd: number;
  #nextToken = 1;
  #wantRef = true;
  #nativeRef = false;
  /** once()/events() consumers to fail when the poller closes. */
  readonly #onClose = new Set<(err: Error) => void>();
  readonly #owner: Owner;

  constructor(backend: Backend, options?: PollerOptions) {
    if (options !== undefined && (typeof options !== 'object' || options === null)) {
      throw Object.assign(new TypeError('The "options" argument must be of type object'), { code: 'ERR_INVALID_ARG_TYPE' });
    }
    checkBackend(backend);
    const maxEvents = validateMaxEvents(options?.maxEvents);
    this.backend = backend.name;
    this.#supported = backend.supported;
    this.#buffer = new Int32Array(maxEvents * TRIPLE);
    try {
      this.#native = backend.create(this.#buffer, (count) => this.#dispatch(count));
    } catch (e) {
      throw toPollError(e);
    }
    this.#fd = this.#native.fd;
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
        this.#modify(reg, reg.mask);
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

  add(fd: number, interest: Interest, onEvent: (event: PollEvent) => void): Watch {
    const native = this.#open();
    validateFd(fd);
    const mask = this.#mask(interest);
    validateFunction(onEvent, 'onEvent');
    if (this.#table.has(fd)) {
      throw libraryError('ERR_POLL_ALREADY_WATCHED', `fd ${fd} is already watched by this poller; modify() it, or remove() it first`);
    }
    const token = this.#nextToken;
    this.#nextToken = token === MAX_TOKEN ? 1 : token + 1;
    try {
      native.add(fd, mask, token);
    } catch (e) {
      throw toPollError(e);
    }
    const reg = new Registration(this.#owner, fd, token, mask, onEvent);
    this.#table.set(fd, reg);
    this.#syncRef();
    return reg;
  }

  modify(fd: number, interest: Interest): void {
    this.#open();
    validateFd(fd);
    const mask = this.#mask(interest);
    const reg = this.#table.get(fd);
    if (reg === undefined) throw notWatched(fd);
    this.#modify(reg, mask);
  }

  /** Stops watching `fd`; false when it was not watched. */
  remove(fd: number): boolean {
    this.#open();
    validateFd(fd);
    const reg = this.#table.get(fd);
    if (reg === undefined) return false;
    this.#remove(reg);
    return true;
  }

  /** Resolves with the first event on `fd`, then stops watching it. */
  once(fd: number, interest: Interest, options?: SignalOptions): Promise<PollEvent> {
    const signal = validateSignal(options);
    this.#open();
    validateFd(fd);
    this.#mask(interest);
    if (signal?.aborted) return Promise.reject(abortError(signal));

    let resolve!: (event: PollEvent) => void;
    let reject!: (err: unknown) => void;
    const promise = new Promise<PollEvent>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const settle = (): void => {
      watch.remove();
      this.#onClose.delete(onClose);
      signal?.removeEventListener('abort', onAbort);
    };
    const onClose = (err: Error): void => {
      settle();
      reject(err);
    };
    const onAbort = (): void => {
      settle();
      reject(abortError(signal!));
    };
    // oneshot: the kernel stops reporting after the first event even before remove() runs.
    const watch = this.add(fd, { ...interest, oneshot: true }, (event) => {
      settle();
      resolve(event);
    });
    this.#onClose.add(onClose);
    signal?.addEventListener('abort', onAbort, { once: true });
    return promise;
  }

  /**
   * Events on `fd` as an async iterator. Level-triggered and oneshot interest is armed once per
   * `next()` (the kernel reports again if the descriptor is still ready), so a slow consumer
   * never queues more than one event; edge-triggered events that arrive between two `next()`
   * calls are merged into one.
   */
  events(fd: number, interest: Interest, options?: SignalOptions): AsyncIterableIterator<PollEvent> {
    const signal = validateSignal(options);
    this.#open();
    validateFd(fd);
    this.#mask(interest);
    const perPull = !interest.edge || interest.oneshot === true;

    let pending: PollEvent | null = null;
    let waiter: { resolve: (r: IteratorResult<PollEvent>) => void; reject: (e: unknown) => void } | null = null;
    let failure: unknown = null;
    let finished = false;
    let armed = true;
    let watch: Watch | null = null;

    const finish = (): void => {
      if (finished) return;
      finished = true;
      watch?.remove();
      this.#onClose.delete(fail);
      signal?.removeEventListener('abort', onAbort);
    };
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
      } else if (pending === null) {
        pending = event;
      } else {
        pending = mergeEvents(pending, event);
      }
    };

    if (signal?.aborted) {
      failure = abortError(signal);
      finished = true;
    } else {
      watch = this.add(fd, { ...interest, oneshot: perPull }, onEvent);
      this.#onClose.add(fail);
      signal?.addEventListener('abort', onAbort, { once: true });
    }

    const iterator: AsyncIterableIterator<PollEvent> = {
      next: (): Promise<IteratorResult<PollEvent>> => {
        if (failure !== null) {
          const err = failure;
          failure = null;
          return Promise.reject(err);
        }
        if (pending !== null) {
          const value = pending;
          pending = null;
          return Promise.resolve({ value, done: false });
        }
        if (finished) return Promise.resolve({ value: undefined, done: true });
        if (waiter !== null) {
          return Promise.reject(libraryError('ERR_POLL_UNSUPPORTED', 'events(): wait for the previous next() to settle before calling next() again'));
        }
        if (!armed) {
          try {
            watch!.rearm();
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

  /** Keep the process alive while something is watched (the default), like net.Socket#ref. */
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
    this.#table.clear();
    native.close();
    const err = closedError();
    for (const fail of [...this.#onClose]) fail(err);
    this.#onClose.clear();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #dispatch(count: number): void {
    const buffer = this.#buffer;
    const table = this.#table;
    for (let i = 0; i < count * TRIPLE; i += TRIPLE) {
      const fd = buffer[i]!;
      const reg = table.get(fd);
      // Removed, or removed and added again since the kernel queued this event.
      if (reg === undefined || reg.token !== buffer[i + 1]) continue;
      const mask = buffer[i + 2]!;
      const event: PollEvent = {
        fd,
        readable: (mask & Bits.READABLE) !== 0,
        writable: (mask & Bits.WRITABLE) !== 0,
        priority: (mask & Bits.PRIORITY) !== 0,
        hangup: (mask & Bits.HANGUP) !== 0,
        error: (mask & Bits.ERROR) !== 0,
      };
      try {
        reg.onEvent(event);
      } catch (err) {
        // Surface it as an uncaught exception once this batch is done; the rest of the
        // batch still belongs to its owners.
        process.nextTick(rethrow, err);
      }
      if (this.#native === null) return;
    }
  }

  #open(): NativePoller {
    if (this.#native === null) throw closedError();
    return this.#native;
  }

  #mask(interest: unknown): number {
    const mask = interestToMask(interest, this.#supported);
    const unsupported = mask & ~this.#supported;
    if (unsupported !== 0) {
      const names = OPTION_NAMES.filter(([bit]) => unsupported & bit).map(([, name]) => name);
      throw libraryError('ERR_POLL_UNSUPPORTED', `The ${this.backend} backend cannot watch for ${names.join(', ')} on this platform`);
    }
    return mask;
  }

  #assertCurrent(reg: Registration): void {
    this.#open();
    if (this.#table.get(reg.fd) !== reg) throw notWatched(reg.fd);
  }

  #modify(reg: Registration, mask: number): void {
    try {
      this.#native!.modify(reg.fd, mask, reg.token);
    } catch (e) {
      throw toPollError(e);
    }
    reg.mask = mask;
  }

  #remove(reg: Registration): void {
    try {
      this.#native!.remove(reg.fd);
    } catch (e) {
      const err = toPollError(e);
      // The kernel forgets a registration by itself when its descriptor is closed.
      if (!(err instanceof PollError) || (err.code !== 'EBADF' && err.code !== 'ENOENT')) throw err;
    }
    this.#table.delete(reg.fd);
    this.#syncRef();
  }

  #syncRef(): void {
    const want = this.#wantRef && this.#table.size > 0;
    if (want === this.#nativeRef || this.#native === null) return;
    this.#nativeRef = want;
    if (want) this.#native.ref();
    else this.#native.unref();
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
