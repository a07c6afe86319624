import type { NativePoller } from './types.js';

/** What the accounting reads of its poller's registration table. */
export interface RefSource {
  /** null once the poller is closed. */
  readonly native: NativePoller | null;
  /** Watches. */
  readonly size: number;
  /** Watches that keep nothing alive (add()'s `ref: false`, an unref()'d stream's). */
  readonly unrefd: number;
}

/**
 * Whether a poller keeps the event loop alive, and whether its native side holds it.
 *
 * While something is watched the native side holds the poller strongly (events must reach it
 * even if the application dropped its reference) and, while one of those watches is ref'd and
 * the poller is not unref()'d, keeps the loop alive. While nothing is watched an abandoned poller
 * can be collected and its fd closed.
 * Applied in a microtask: both only matter once this job has returned to the event loop, and an
 * add() and remove() in the same job (churn) then cost no native calls for them at all.
 */
export class LoopRef {
  #wanted = true;
  #ref = false;
  #pinned = false;
  #queued = false;
  readonly #source: RefSource;

  constructor(source: RefSource) {
    this.#source = source;
  }

  /** poller.ref() (true) or unref() (false). */
  get wanted(): boolean {
    return this.#wanted;
  }

  set wanted(on: boolean) {
    this.#wanted = on;
    this.sync();
  }

  /** A fresh native poller (a rebuild) starts weak and unref'd. */
  replaced(): void {
    this.#pinned = false;
    this.#ref = false;
    this.sync();
  }

  /** Something that decides it changed. */
  sync(): void {
    if (this.#queued || this.#source.native === null) return;
    this.#queued = true;
    queueMicrotask(this.#apply);
  }

  readonly #apply = (): void => {
    this.#queued = false;
    const { native, size, unrefd } = this.#source;
    if (native === null) return;
    const watching = size > 0;
    if (watching !== this.#pinned) {
      this.#pinned = watching;
      native.pin(watching);
    }
    const want = this.#wanted && size > unrefd;
    if (want !== this.#ref) {
      this.#ref = want;
      if (want) native.ref();
      else native.unref();
    }
  };
}
