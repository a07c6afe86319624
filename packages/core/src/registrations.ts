// A poller's registration table: its kernel set, a token for every watch, the dispatch of each
// batch to the watches it is for, and the rebuild that follows a descriptor closed before remove().
import { Bits, RESERVED_TOKEN, type Backend, type EndReason, type NativePoller, type PollEvent } from './types.js';
import { closedError, libraryError, notWatched, PollError, toPollError } from './errors.js';
import { interestToMask, supportedMask, validateRawMask } from './validate.js';
import { bitNames, trace, tracing } from './trace.js';
import { LoopRef } from './loop-ref.js';
import { freshSet, Orphans, registeredFile, sameFile, type Detached, type FreshSet } from './rebuild.js';
import {
  DISARMED,
  KEPT_STATE,
  KERNEL_BITS,
  OWNER_REMOVES,
  RAW,
  Registration,
  UNREF,
  type OnEnd,
  type OnMask,
  type Owner,
} from './registration.js';

const TRIPLE = 3;
const MAX_TOKEN = 0x7fffffff;

function rethrow(err: unknown): never {
  throw err;
}

/**
 * Tells `reg`'s owner that the poller ended it. An onEnd that throws is an uncaught exception
 * once the current call is done, as an onEvent's is after its batch: every other watch is still
 * told, and close(), remove() or the rebuild finish what they started.
 */
function tell(reg: Registration, reason: EndReason): void {
  if (reg.onEnd === undefined) return;
  try {
    reg.onEnd(reason, reg.fd);
  } catch (err) {
    process.nextTick(rethrow, err);
  }
}

export class Registrations {
  /** Whether the poller keeps the event loop alive (ref(), unref(), and each watch's own). */
  readonly loopRef: LoopRef;
  readonly #backend: Backend;
  readonly #supported: number;
  readonly #buffer: Int32Array;
  #native: NativePoller | null;
  #fd: number;
  readonly #table = new Map<number, Registration>();
  /**
   * Fired oneshot watches left out of the kernel's set by a rebuild (rearm() adds them back),
   * with the file each belonged to, so that a later rebuild can tell whether its number still
   * names that file.
   */
  readonly #detached: Detached = new Map();
  readonly #orphans = new Orphans();
  /** Counts dispatched batches: an orphan's event in the batch that orphaned it is stale, not a ghost. */
  #batch = 0;
  #nextToken = RESERVED_TOKEN + 1;
  /** Watches in #table that keep nothing alive (UNREF): the loop is ref'd only while there are more watches than these. */
  #unrefd = 0;
  readonly #owner: Owner;
  // Kept here because the native side holds it weakly while nothing is watched (see LoopRef).
  readonly #onBatch = (count: number): void => this.#dispatch(count);

  constructor(backend: Backend, maxEvents: number) {
    this.#backend = backend;
    this.#supported = backend.supported;
    this.#buffer = new Int32Array(maxEvents * TRIPLE);
    try {
      this.#native = backend.create(this.#buffer, this.#onBatch);
    } catch (e) {
      throw toPollError(e);
    }
    this.#fd = this.#native.fd;
    if (tracing) trace(`poller ${this.#fd}: made (${backend.name}, loop ${backend.loop ?? 'unknown'}, ${maxEvents} events per wait)`);
    this.loopRef = new LoopRef(this);
    this.#owner = {
      isCurrent: (reg) => this.#table.get(reg.fd) === reg,
      modify: (reg, interest) => {
        this.assertCurrent(reg);
        this.modify(reg, this.interestMask(interest));
      },
      rearm: (reg) => {
        this.assertCurrent(reg);
        if (!(reg.mask & Bits.ONESHOT)) {
          throw libraryError('ERR_POLL_NOT_ONESHOT', `fd ${reg.fd} is not a oneshot watch; rearm() is for oneshot watches`);
        }
        this.modify(reg, reg.mask & KERNEL_BITS);
      },
      remove: (reg) => this.remove(reg),
    };
  }

  /** The kernel set's descriptor; -1 once closed. */
  get fd(): number {
    return this.#native === null ? -1 : this.#fd;
  }

  /** The native poller; null once closed. */
  get native(): NativePoller | null {
    return this.#native;
  }

  get closed(): boolean {
    return this.#native === null;
  }

  get size(): number {
    return this.#table.size;
  }

  get unrefd(): number {
    return this.#unrefd;
  }

  get(fd: number): Registration | undefined {
    return this.#table.get(fd);
  }

  has(fd: number): boolean {
    return this.#table.has(fd);
  }

  /** Throws ERR_POLL_CLOSED once closed. */
  open(): void {
    if (this.#native === null) throw closedError();
  }

  /** The watch on `fd`; ERR_POLL_CLOSED, ERR_POLL_NOT_WATCHED when there is none. */
  watched(fd: number): Registration {
    this.open();
    const reg = this.#table.get(fd);
    if (reg === undefined) throw notWatched(fd);
    return reg;
  }

  assertCurrent(reg: Registration): void {
    this.open();
    if (this.#table.get(reg.fd) !== reg) throw notWatched(reg.fd);
  }

  /** Interest as core's bits, when this backend honours it. */
  interestMask(interest: unknown): number {
    return supportedMask(interestToMask(interest), this.#supported, this.#backend.name);
  }

  /** A kWatchMask mask, checked as interestMask() checks interest. */
  rawMask(mask: unknown): asserts mask is number {
    validateRawMask(mask);
    supportedMask(mask, this.#supported, this.#backend.name);
  }

  /**
   * A new watch; the kernel gets `mask` alone. `state` is RAW for a kWatchMask watch, UNREF for
   * one that keeps nothing alive, OWNER_REMOVES for one whose `onEnd` hears only of the poller's
   * own endings.
   */
  register(fd: number, mask: number, onEvent: ((event: PollEvent) => void) | OnMask, state: number, onEnd: OnEnd | undefined): Registration {
    const token = this.#newToken();
    try {
      this.#native!.add(fd, mask, token);
    } catch (e) {
      throw toPollError(e);
    }
    const reg = new Registration(this.#owner, fd, token, mask | state, onEvent, onEnd);
    this.#table.set(fd, reg);
    if (state & UNREF) this.#unrefd++;
    if (tracing) trace(`poller ${this.#fd}: fd ${fd} added (${bitNames(mask, Bits)}, token ${token})`);
    this.loopRef.sync();
    return reg;
  }

  modify(reg: Registration, mask: number): void {
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
    reg.mask = mask | (reg.mask & KEPT_STATE);
    if (detached) this.#detached.delete(reg);
    if (tracing) trace(`poller ${this.#fd}: fd ${reg.fd} ${detached ? 'added back' : 'modified'} (${bitNames(mask, Bits)}, token ${token})`);
  }

  remove(reg: Registration): void {
    if (!this.#detached.delete(reg)) {
      try {
        this.#native!.remove(reg.fd);
      } catch (e) {
        const err = toPollError(e);
        // The kernel forgets a registration by itself when its descriptor is closed.
        if (!(err instanceof PollError) || (err.code !== 'EBADF' && err.code !== 'ENOENT')) throw err;
        this.#orphans.add(reg.token, this.#batch);
      }
    }
    this.#table.delete(reg.fd);
    if (reg.mask & UNREF) this.#unrefd--;
    if (tracing) trace(`poller ${this.#fd}: fd ${reg.fd} removed`);
    this.loopRef.sync();
    // A watch its owner removes needs no telling (and no Error made on every remove: @poll/epoll's churn).
    if (!(reg.mask & OWNER_REMOVES)) tell(reg, libraryError('ERR_POLL_NOT_WATCHED', `fd ${reg.fd} was removed from the poller`));
  }

  /** Whether the current watch `reg` keeps the event loop alive. */
  setRef(reg: Registration, ref: boolean): void {
    if (this.#table.get(reg.fd) !== reg || ((reg.mask & UNREF) === 0) === ref) return;
    reg.mask ^= UNREF;
    this.#unrefd += ref ? -1 : 1;
    this.loopRef.sync();
  }

  /** See kDropStale. */
  dropStale(fd: number): boolean {
    const reg = this.#table.get(fd);
    if (reg === undefined || this.#native === null) return false;
    const files = this.#backend.registeredFiles?.(this.#native.fd);
    if (files === undefined) return false;
    if (sameFile(registeredFile(reg, files, this.#detached), fd)) return false;
    this.remove(reg);
    return true;
  }

  /** Ends every watch with ERR_POLL_CLOSED, which it returns, and closes the kernel set. */
  close(): Error {
    const native = this.#native!;
    this.#native = null;
    const ended = [...this.#table.values()];
    this.#table.clear();
    this.#unrefd = 0;
    this.#detached.clear();
    native.close();
    const err = closedError();
    for (const reg of ended) tell(reg, err);
    return err;
  }

  #newToken(): number {
    const token = this.#nextToken;
    this.#nextToken = token === MAX_TOKEN ? RESERVED_TOKEN + 1 : token + 1; // never the reserved one
    return token;
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
        if (this.#orphans.isGhost(buffer[i + 1]!, batch)) ghost = fd;
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

  /** Replaces the kernel set with a fresh one (see freshSet); the poller's fd changes. */
  #rebuild(ghostFd: number): void {
    const old = this.#native!;
    const name = this.#backend.name;
    const files = this.#backend.registeredFiles?.(old.fd);
    let set: FreshSet;
    try {
      set = freshSet(() => this.#backend.create(this.#buffer, this.#onBatch), this.#table.values(), files, this.#detached);
    } catch (err) {
      this.#orphans.clear(); // no retry storm; the ghost keeps firing on the old set
      process.emitWarning(`poll: could not rebuild the ${name} set: ${String(err)}`, { code: 'POLL_REBUILD_FAILED' });
      return;
    }
    const { native: fresh, ended, detached } = set;
    for (const reg of ended) {
      this.#table.delete(reg.fd);
      if (reg.mask & UNREF) this.#unrefd--;
      this.#detached.delete(reg);
    }
    for (const [reg, file] of detached) this.#detached.set(reg, file);
    this.#orphans.clear();
    if (tracing) trace(`poller ${old.fd}: rebuilt as ${fresh.fd} (fd ${ghostFd} was closed before remove(): the kernel kept reporting it)`);
    this.#native = fresh;
    this.#fd = fresh.fd;
    this.loopRef.replaced();
    old.close();
    process.emitWarning(
      `poll: fd ${ghostFd} was closed before remove() while another descriptor for the same file stayed open ` +
        `(a dup, or a child process), so the kernel kept reporting it. The poller rebuilt its ${name} set ` +
        `(its fd is now ${fresh.fd}). Call remove() before closing a watched descriptor.`,
      { code: 'POLL_REBUILT' },
    );
    for (const reg of ended) {
      tell(reg, libraryError('ERR_POLL_NOT_WATCHED', `fd ${reg.fd} was closed without remove() and is no longer watched`));
    }
  }
}
