// Watches whose descriptor was closed before remove(), and the fresh kernel set that gets rid of
// a registration nobody can delete any more.
import { fstatAny } from './fstat.js';
import { PollError, toPollError } from './errors.js';
import type { FileIdentity, NativePoller } from './types.js';
import { DISARMED, KERNEL_BITS, type Registration } from './registration.js';

// Orphaned tokens remembered at most; the oldest are forgotten first.
const MAX_ORPHANS = 4096;

/**
 * Tokens of watches whose kernel registration could not be deleted because their fd was
 * already closed. Usually the kernel dropped it with the fd; but when another descriptor for
 * the same file is still open (a dup, a child process), epoll keeps reporting it and nothing
 * can delete it: an event for one of these tokens makes the poller rebuild its set.
 */
export class Orphans {
  readonly #batchOf = new Map<number, number>(); // token -> the batch in which it was orphaned

  add(token: number, batch: number): void {
    this.#batchOf.set(token, batch);
    if (this.#batchOf.size > MAX_ORPHANS) this.#batchOf.delete(this.#batchOf.keys().next().value!);
  }

  /** An orphan's event in the batch that orphaned it is stale, not a ghost. */
  isGhost(token: number, batch: number): boolean {
    const orphaned = this.#batchOf.get(token);
    return orphaned !== undefined && orphaned < batch;
  }

  clear(): void {
    this.#batchOf.clear();
  }
}

/** Fired oneshot watches out of the kernel's set, with the file each belonged to (see Registrations). */
export type Detached = Map<Registration, FileIdentity | undefined>;

/**
 * The file a registration belongs to by the kernel's record (`files`, by token); for a detached
 * one, which is not in the set, the file noted when it was detached.
 */
export function registeredFile(reg: Registration, files: Map<number, FileIdentity>, detached: Detached): FileIdentity | undefined {
  return detached.has(reg) ? detached.get(reg) : files.get(reg.token);
}

/** Whether `fd` names `file` now (false when it is closed, or when there is no record). */
export function sameFile(file: FileIdentity | undefined, fd: number): boolean {
  if (file === undefined) return false;
  try {
    const now = fstatAny(fd, { bigint: true });
    return now.dev === file.dev && now.ino === file.ino;
  } catch {
    return false;
  }
}

/** A fresh kernel set, and what became of the watches that were to move into it. */
export interface FreshSet {
  native: NativePoller;
  /** Watches whose fd was closed without remove(), or whose number names another file now. */
  ended: Registration[];
  /** Fired oneshot watches left out until rearm() puts them back, as the kernel would keep them. */
  detached: Array<[Registration, FileIdentity | undefined]>;
}

/**
 * A fresh kernel set (`create()`) holding exactly the current watches, replacing one that keeps a
 * registration nobody can delete (see Orphans). Throws, leaving the old set as it is, when the
 * fresh one cannot be made or cannot hold every watch.
 *
 * A watch whose descriptor was closed without remove() ends here: the backend's record of
 * which file each registration (by token) belongs to (`files`) is compared with the file its
 * number names now, so a number that was closed and reused is never moved to the fresh set.
 *
 * Adding an edge-triggered watch to a fresh set reports its current readiness once, as a
 * first EPOLL_CTL_ADD does; after a rebuild an edge watch on a ready descriptor may see one
 * event with no new readiness. A rebuild only follows a misuse (close before remove) and an
 * edge consumer reads until EAGAIN anyway, so this is accepted rather than guessed away.
 */
export function freshSet(
  create: () => NativePoller,
  watches: Iterable<Registration>,
  files: Map<number, FileIdentity> | undefined,
  detachedNow: Detached,
): FreshSet {
  let fresh: NativePoller;
  try {
    fresh = create();
  } catch (e) {
    throw toPollError(e);
  }
  const ended: Registration[] = [];
  const detached: Array<[Registration, FileIdentity | undefined]> = [];
  for (const reg of watches) {
    // Where the kernel keeps a record: a registration the kernel dropped, or a number that
    // changed hands, ends.
    const file = files === undefined ? undefined : registeredFile(reg, files, detachedNow);
    if (files !== undefined && !sameFile(file, reg.fd)) {
      ended.push(reg);
      continue;
    }
    // A fired oneshot stays out until rearm() puts it back, as the kernel would keep it.
    if (detachedNow.has(reg) || reg.mask & DISARMED) {
      detached.push([reg, file]);
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
      throw err;
    }
  }
  return { native: fresh, ended, detached };
}
