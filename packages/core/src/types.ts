// The public types use Node's globals (AbortSignal, Disposable): TypeScript users need @types/node,
// declared as an optional peer dependency; this line makes the published .d.ts ask for it.
/// <reference types="node" preserve="true" />
import type { LibraryError } from './errors.js';
/** What to watch a descriptor for, and how events are delivered. */
export interface Interest {
  /** EPOLLIN / EVFILT_READ */
  readable?: boolean;
  /** EPOLLOUT / EVFILT_WRITE */
  writable?: boolean;
  /** EPOLLPRI (sysfs GPIO edges, TCP urgent data); throws where the backend cannot do it. */
  priority?: boolean;
  /** Edge-triggered (EPOLLET / EV_CLEAR); the default is level-triggered. */
  edge?: boolean;
  /** Disarm after one event until rearm() (EPOLLONESHOT / EV_DISPATCH). */
  oneshot?: boolean;
}

export interface PollEvent {
  fd: number;
  readable: boolean;
  writable: boolean;
  priority: boolean;
  /** Peer closed / EOF (EPOLLHUP, EPOLLRDHUP, EV_EOF). */
  hangup: boolean;
  /** EPOLLERR / EV_ERROR. */
  error: boolean;
}

export interface PollerOptions {
  /** Most events taken from the kernel per call, and so per JS dispatch. Default 1024. */
  maxEvents?: number;
}

export interface Watch {
  readonly fd: number;
  modify(interest: Interest): void;
  /** Oneshot watches only: arm again after an event. */
  rearm(): void;
  /** Idempotent. */
  remove(): void;
}

export interface SignalOptions {
  signal?: AbortSignal;
}

/** Why the poller ended an `add()` watch by itself: its close(), or a rebuild (see AddOptions.onEnd). */
export type EndReason = LibraryError<'ERR_POLL_CLOSED' | 'ERR_POLL_NOT_WATCHED'>;

export interface AddOptions {
  /**
   * Called once if the poller ends the watch by itself: `close()` (`ERR_POLL_CLOSED`), or a
   * rebuild of its kernel set that found the watch's fd closed without `remove()`
   * (`ERR_POLL_NOT_WATCHED`). Never for `remove()` or `watch.remove()`, which its owner calls.
   * If it throws, that is an uncaught exception once the ending call returns, as an `onEvent`'s is.
   */
  onEnd?: (reason: EndReason) => void;
  /**
   * Whether this watch keeps the event loop alive, as timers and sockets do (default true). With
   * `false` the process may exit while it is watched; `poller.unref()` does that for every watch.
   */
  ref?: boolean;
}

/**
 * Bits shared by core and every native backend. The native side exports its own copy
 * (`binding.bits`) and core refuses a backend whose values differ.
 */
/**
 * The most events one wait may return (`options.maxEvents`). The native side has its own copy
 * (`kMaxEvents` in poll/addon.h, exported as `binding.maxEvents`) and core refuses a backend
 * whose value differs.
 */
export const MAX_EVENTS = 65536;

/**
 * The token core never hands out: the native side registers its own wake-up descriptor with it
 * and drops its events (`kWakeToken` in poll/loop.h, exported as `binding.reservedToken`; core
 * refuses a backend whose value differs).
 */
export const RESERVED_TOKEN = 0;

export const Bits = {
  READABLE: 1,
  WRITABLE: 2,
  PRIORITY: 4,
  HANGUP: 8,
  ERROR: 16,
  EDGE: 32,
  ONESHOT: 64,
  /**
   * The peer shut down its writing side (EPOLLRDHUP), apart from a full hangup (EPOLLHUP,
   * which is HANGUP alone). PollEvent.hangup is either. As interest it asks for it without
   * readable (epoll only); kqueue reports every EOF as HANGUP.
   */
  PEER_SHUTDOWN: 128,
} as const;

/** The native object a backend creates for one Poller. */
export interface NativePoller {
  readonly fd: number;
  /** `token` comes back with every event of this registration (see Poller's dispatch). */
  add(fd: number, mask: number, token: number): void;
  modify(fd: number, mask: number, token: number): void;
  remove(fd: number): void;
  /** Keep the event loop alive (uv_ref) or not. */
  ref(): void;
  unref(): void;
  /** Hold the batch callback strongly (true) or weakly (false); starts weak. */
  pin(on: boolean): void;
  close(): void;
}

/**
 * What a platform package hands to core. `create` fills `buffer` with `[fd, token, mask]`
 * triples and calls `onBatch(count)` once per batch.
 */
/**
 * How a backend's native side joins the runtime's event loop: `uv` (the poller descriptor under
 * libuv's own poll, Node on Linux), `thread` (a waiter thread handing batches over through
 * libuv, Node with kqueue), `napi` (a waiter thread handing batches over through a Node-API
 * threadsafe function, for runtimes without libuv: Bun, Deno).
 */
export type LoopName = 'uv' | 'thread' | 'napi';

export interface Backend {
  readonly name: 'epoll' | 'kqueue';
  /** The loop this backend's pollers run on, chosen by the addon from what the runtime is. */
  readonly loop: LoopName;
  /** Interest bits this backend can honour; anything else is rejected before the kernel is asked. */
  readonly supported: number;
  readonly bits: Readonly<Record<keyof typeof Bits, number>>;
  /** The native side's MAX_EVENTS (absent from test doubles that have no native side). */
  readonly maxEvents?: number;
  /** The native side's RESERVED_TOKEN (absent from test doubles that have no native side). */
  readonly reservedToken?: number;
  create(buffer: Int32Array, onBatch: (count: number) => void): NativePoller;
  /** Descriptor I/O for core's streams: each returns bytes (or the previous flag), or -errno; none throws. */
  readonly io: BackendIo;
  /**
   * The kernel's own record of which file each registration in the set of the poller
   * descriptor `pollerFd` belongs to, by token. Core consults it when it rebuilds a set, so that
   * a watch whose descriptor was closed without remove() (and whose number may name another
   * file by now) is ended rather than moved. Absent, or undefined, where the kernel keeps no
   * readable record.
   */
  registeredFiles?(pollerFd: number): Map<number, FileIdentity> | undefined;
}

export interface BackendIo {
  read(fd: number, buffer: Uint8Array, offset: number, length: number): number;
  write(fd: number, buffer: Uint8Array, offset: number, length: number): number;
  /** Sets or clears O_NONBLOCK; returns 1 or 0 for whether it was set before. */
  setNonblock(fd: number, on: boolean): number;
  /** The system's text for an errno (strerror). */
  strerror(errno: number): string;
  /** close(2): 0 or -errno. Where node:fs cannot close a descriptor it did not open (Deno). */
  close?(fd: number): number;
  /** shutdown(2) of the sending side: 0 or -errno (ENOTSOCK for what is not a socket). */
  shutdown?(fd: number): number;
}

/** A file as fstat() names it (`{ bigint: true }`): device and inode. */
export interface FileIdentity {
  dev: bigint;
  ino: bigint;
}
