// once() and events(): a watch as a promise, and as an async iterator.
import { Bits, type PollEvent } from './types.js';
import { abortError, libraryError } from './errors.js';
import type { Registration } from './registration.js';
import type { Registrations } from './registrations.js';

/** The poller's once(), after its checks: `mask` is oneshot interest; the fd is free. */
export function once(table: Registrations, fd: number, mask: number, signal: AbortSignal | undefined): Promise<PollEvent> {
  if (signal?.aborted) return Promise.reject(abortError(signal));
  let resolve!: (event: PollEvent) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<PollEvent>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  let reg: Registration;
  const settle = (): void => {
    reg.release();
    signal?.removeEventListener('abort', onAbort);
  };
  const onAbort = (): void => {
    settle();
    reject(abortError(signal!));
  };
  const onEnd = (reason: Error): void => {
    signal?.removeEventListener('abort', onAbort);
    reject(reason);
  };
  try {
    reg = table.register(
      fd,
      mask,
      (event: PollEvent) => {
        settle();
        resolve(event);
      },
      0,
      onEnd,
    );
  } catch (err) {
    return Promise.reject(err);
  }
  signal?.addEventListener('abort', onAbort, { once: true });
  return promise;
}

type Waiter = { resolve: (r: IteratorResult<PollEvent>) => void; reject: (e: unknown) => void };

/**
 * The poller's events(): level-triggered and oneshot interest is armed once per `next()`, so a
 * slow consumer never queues more than one event; edge-triggered events that arrive between two
 * `next()` calls are merged into one. Like events.on(): events already received are still
 * yielded, then the error, then done.
 */
export class EventIterator implements AsyncIterableIterator<PollEvent> {
  /** An event no next() has taken yet. */
  #pending: PollEvent | null = null;
  /** The next() waiting for an event. */
  #waiter: Waiter | null = null;
  /** Why it ended, for the next next() once #pending is taken. */
  #failure: unknown = null;
  #finished = false;
  /** Whether the watch is armed; a per-pull one is disarmed by each event until the next next(). */
  #armed = true;
  #perPull = false;
  #reg: Registration | null = null;
  #signal: AbortSignal | undefined = undefined;

  /** An iterator that could not start: its first next() rejects with `err`, then it is done. */
  static failed(err: unknown): EventIterator {
    const iterator = new EventIterator();
    iterator.#failure = err;
    iterator.#finished = true;
    return iterator;
  }

  /** Watches `fd` (free, checked by the poller) for `mask`; a failure to start is the first next()'s. */
  static start(table: Registrations, fd: number, mask: number, signal: AbortSignal | undefined): EventIterator {
    const iterator = new EventIterator();
    iterator.#perPull = !(mask & Bits.EDGE) || (mask & Bits.ONESHOT) !== 0;
    if (iterator.#perPull) mask |= Bits.ONESHOT;
    iterator.#signal = signal;
    try {
      if (signal?.aborted) throw abortError(signal);
      iterator.#reg = table.register(fd, mask, iterator.#onEvent, 0, iterator.#fail);
      signal?.addEventListener('abort', iterator.#onAbort, { once: true });
    } catch (err) {
      iterator.#failure = err;
      iterator.#finished = true;
    }
    return iterator;
  }

  private constructor() {}

  // Own functions rather than methods, as the iterator was a plain object: `next` still works
  // taken off it.
  readonly next = (): Promise<IteratorResult<PollEvent>> => {
    if (this.#pending !== null) {
      const value = this.#pending;
      this.#pending = null;
      return Promise.resolve({ value, done: false });
    }
    if (this.#failure !== null) {
      const err = this.#failure;
      this.#failure = null;
      return Promise.reject(err);
    }
    if (this.#finished) return Promise.resolve({ value: undefined, done: true });
    if (this.#waiter !== null) {
      return Promise.reject(libraryError('ERR_POLL_UNSUPPORTED', 'events(): wait for the previous next() to settle before calling next() again'));
    }
    if (!this.#armed) {
      try {
        this.#reg!.rearm();
      } catch (err) {
        this.#finish();
        return Promise.reject(err);
      }
      this.#armed = true;
    }
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  };

  readonly return = (): Promise<IteratorResult<PollEvent>> => {
    this.#finish();
    this.#pending = null;
    this.#failure = null;
    if (this.#waiter !== null) {
      this.#waiter.resolve({ value: undefined, done: true });
      this.#waiter = null;
    }
    return Promise.resolve({ value: undefined, done: true });
  };

  [Symbol.asyncIterator](): this {
    return this;
  }

  readonly #onEvent = (event: PollEvent): void => {
    if (this.#perPull) this.#armed = false;
    if (this.#waiter !== null) {
      this.#waiter.resolve({ value: event, done: false });
      this.#waiter = null;
    } else {
      this.#pending = this.#pending === null ? event : mergeEvents(this.#pending, event);
    }
  };

  // The watch ended by another hand (remove(fd), close()), or the signal aborted.
  readonly #fail = (err: unknown): void => {
    if (this.#finished) return;
    this.#finish();
    if (this.#waiter !== null) {
      this.#waiter.reject(err);
      this.#waiter = null;
    } else {
      this.#failure = err;
    }
  };

  readonly #onAbort = (): void => this.#fail(abortError(this.#signal!));

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#reg?.release();
    this.#signal?.removeEventListener('abort', this.#onAbort);
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
