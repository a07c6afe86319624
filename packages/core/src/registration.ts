import type { EndReason, Interest, PollEvent, Watch } from './types.js';

/** How a kWatchMask watch hears of an event: core's bits, and no event object made. */
export type OnMask = (fd: number, mask: number) => void;
/** How the poller tells a watch's holder that something other than the holder ended it. */
export type OnEnd = (reason: EndReason, fd: number) => void;

// Core's own state bits, kept in a registration's `mask` above the interest bits (one field less
// per watch than flags of their own: 16 bytes of the 141 each watch cost) and never passed to the
// kernel: a kWatchMask watch (onEvent takes (fd, mask)), a oneshot watch that has fired and
// not been rearmed, a watch that does not keep the event loop alive (add()'s `ref: false`, an
// unref()'d stream's), and a watch whose owner alone removes it, so that its onEnd hears only of
// the poller's own endings (add() and kWatchMask).
export const RAW = 1 << 24;
export const DISARMED = 1 << 25;
export const UNREF = 1 << 26;
export const OWNER_REMOVES = 1 << 27;
/** The state bits a modify() or rearm() keeps. */
export const KEPT_STATE = RAW | UNREF | OWNER_REMOVES;
export const KERNEL_BITS = ~(KEPT_STATE | DISARMED);

/** What a Registration needs from its poller; one object per poller, not per watch. */
export interface Owner {
  isCurrent(reg: Registration): boolean;
  modify(reg: Registration, interest: Interest): void;
  rearm(reg: Registration): void;
  remove(reg: Registration): void;
}

/** One watch: its fd, the token its events come back with, its interest and state, its hooks. */
export class Registration implements Watch {
  readonly fd: number;
  /**
   * Comes back from the kernel with each event; a stale token means the event is not ours.
   * A new one with every modify() and rearm(), so that an event collected before the change
   * (by the waiter thread, or earlier in the same batch) is never taken for one after it.
   */
  token: number;
  /** Interest bits, and the state bits above. */
  mask: number;
  /** (event) for add(); (fd, mask) for a kWatchMask watch (RAW). */
  readonly onEvent: ((event: PollEvent) => void) | OnMask;
  /** Told when the watch ends by another hand (remove(fd), close(), a rebuild); see OWNER_REMOVES. */
  onEnd: OnEnd | undefined;
  readonly #owner: Owner;

  constructor(owner: Owner, fd: number, token: number, mask: number, onEvent: ((event: PollEvent) => void) | OnMask, onEnd: OnEnd | undefined) {
    this.#owner = owner;
    this.fd = fd;
    this.token = token;
    this.mask = mask;
    this.onEvent = onEvent;
    this.onEnd = onEnd;
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

  /** Its holder is done with it (a settled once(), a finished iterator, an idle stream): removed, telling no one. */
  release(): void {
    this.onEnd = undefined;
    this.remove();
  }
}
