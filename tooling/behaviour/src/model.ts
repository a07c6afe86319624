// A model-based random test: seeded random sequences of what applications do (add, modify,
// remove, rearm, once/events with abort, writes, reads, hangups, closing a watched descriptor
// and reusing its number with or without a dup open, several pollers on one descriptor, closing
// a poller, callbacks that themselves remove, modify, add, read or close), on real pipes,
// socketpairs and eventfds, checked against a model of the contract in docs/API.md.
//
// Forbidden, checked as each event is delivered: an event for a watch that was removed or whose
// poller was closed, for another descriptor than the watch's, for a oneshot watch while it is
// disarmed, an edge event when nothing happened to the descriptor since the watch's last event
// (rebuilds excepted: docs/API.md), and a failed call that changed the watch set.
// Required, checked after every step: a ready level watch reports on the next loop turns, an
// armed oneshot on a ready descriptor fires, an edge watch fires after data arrives in an empty
// buffer, and every once()/events() promise settles as it must (event, AbortError,
// ERR_POLL_CLOSED, ERR_POLL_NOT_WATCHED).
import fs from 'node:fs';
import os from 'node:os';
import { setImmediate as immediate } from 'node:timers/promises';
import { Bits, PollerBase, type Backend, type NativePoller, type PollEvent, type Watch } from '@poll/core';
import { closeAll, rawfs, sys } from '@poll/testkit';

type Kind = 'pipe' | 'socket' | 'eventfd';
type Mode = 'level' | 'edge' | 'oneshot';
type Action = 'none' | 'removeSelf' | 'modifySelf' | 'removeOther' | 'addOther' | 'read' | 'closePoller';

interface Chan {
  id: number;
  kind: Kind;
  rd: number; // the end that is watched
  wr: number; // the end that is written and closed (the same fd for an eventfd)
  buffered: boolean;
  hangup: boolean;
  closed: boolean;
}

interface MPoller {
  slot: number;
  poller: PollerBase;
  fd: number;
  closed: boolean;
  watches: Map<number, MWatch>; // by fd
}

interface MWatch {
  id: number;
  mp: MPoller;
  chan: Chan;
  fd: number;
  readable: boolean;
  writable: boolean;
  mode: Mode;
  via: 'add' | 'once' | 'events';
  live: boolean;
  armed: boolean; // oneshot: not fired since (re)arming
  // edge: how many things happened to the descriptor that may each have made the kernel queue
  // an edge, not yet matched by an event. A count, not a flag: the waiter thread may collect the
  // edge of an add() before a write makes another, and both are reported.
  fresh: number;
  due: boolean; // edge: an edge the kernel must report
  events: number;
  action: Action;
  watch?: Watch;
  settled?: 'event' | 'AbortError' | 'ERR_POLL_CLOSED' | 'ERR_POLL_NOT_WATCHED' | string;
  expectEnd?: string; // once/events: how it must settle if no event comes first
  // once/events ended by a callback of a batch that began while it was ready: its own event may
  // have come earlier in that batch (settling it then, though its promise's handlers run only
  // after the batch), so it may resolve instead. Only where the model cannot know: close(), and
  // remove() of an events() watch; remove() of a once() says whether it was still there.
  endedInItsBatch?: boolean;
  abort?: AbortController;
}

export interface ModelOptions {
  steps?: number;
  /** ms a required event may take: a deadline for hangs on a loaded machine, not a speed check */
  patienceMs?: number;
  /** whether sequences may watch edge-triggered (false where the backend does not offer it) */
  edge?: boolean;
}

export interface SequenceResult {
  seed: number;
  steps: string[];
  violations: string[];
}

/** mulberry32: small, fast, and the same sequence for a seed everywhere. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// POLL_MODEL_TRACE=1: the steps include every event delivered, for reading a failure.
const trace = process.env.POLL_MODEL_TRACE === '1';

const kinds = (): Kind[] => (process.platform === 'linux' ? ['pipe', 'socket', 'eventfd'] : ['pipe', 'socket']);

/** One byte into a pipe or socket, or 1 added to an eventfd's counter. */
function writeOne(kind: Kind, fd: number): void {
  if (kind === 'eventfd') {
    const one = Buffer.alloc(8);
    one.writeBigUInt64LE(1n);
    rawfs.writeSync(fd, one);
  } else {
    rawfs.writeSync(fd, 'x');
  }
}

/** Runs one seeded sequence against pollers made by `make`; resolves with what it saw. */
export async function runSequence(make: () => PollerBase, seed: number, options: ModelOptions = {}): Promise<SequenceResult> {
  const run = new Sequence(make, seed, options);
  try {
    await run.play();
  } finally {
    run.cleanup();
  }
  return { seed, steps: run.log, violations: run.violations };
}

class Sequence {
  readonly log: string[] = [];
  readonly violations: string[] = [];
  readonly #random: () => number;
  readonly #make: () => PollerBase;
  readonly #steps: number;
  readonly #patience: number;
  readonly #edge: boolean;
  readonly #chans: Chan[] = [];
  readonly #pollers: MPoller[] = [];
  /** once()/events() ended by another hand, until their promise settles. */
  readonly #ending = new Set<MWatch>();
  readonly #open = new Set<number>();
  /** The batch being dispatched: its poller, and its once()/events() that were ready as it began. */
  #batch: { mp: MPoller; ready: Set<MWatch> } | undefined;
  #ids = 0;

  constructor(make: () => PollerBase, seed: number, options: ModelOptions) {
    this.#random = prng(seed);
    this.#make = make;
    this.#steps = options.steps ?? 30;
    this.#patience = options.patienceMs ?? 3000;
    this.#edge = options.edge ?? true;
  }

  #pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.#random() * items.length)]!;
  }

  #chance(p: number): boolean {
    return this.#random() < p;
  }

  #violate(what: string): void {
    if (this.violations.length < 20) this.violations.push(`${what} (after: ${this.log.slice(-6).join(' | ')})`);
  }

  async play(): Promise<void> {
    for (let i = 0; i < 2; i++) this.#newPoller(i);
    const nchans = 2 + Math.floor(this.#random() * 3);
    for (let i = 0; i < nchans; i++) this.#newChan();
    for (let step = 0; step < this.#steps && this.violations.length === 0; step++) {
      for (const mp of this.#pollers) if (mp.closed) this.#newPoller(mp.slot);
      this.#step();
      await this.#checkpoint();
    }
    if (this.violations.length === 0) {
      // Every pending once()/events() must settle once the pollers close.
      for (const mp of this.#pollers) this.#closePoller(mp);
      await this.#checkpoint();
    }
  }

  cleanup(): void {
    for (const mp of this.#pollers) this.#closePoller(mp);
    closeAll([...this.#open]);
    this.#open.clear();
  }

  // --- resources -------------------------------------------------------------------------------

  #track(...fds: number[]): void {
    for (const fd of fds) this.#open.add(fd);
  }

  #close(fd: number): void {
    this.#open.delete(fd);
    rawfs.closeSync(fd);
  }

  #newChan(): Chan {
    const kind = this.#pick(kinds());
    let rd: number;
    let wr: number;
    if (kind === 'pipe') [rd, wr] = sys.pipe();
    else if (kind === 'socket') [rd, wr] = sys.socketpair();
    else rd = wr = sys.eventfd(0);
    this.#track(rd, wr);
    const chan: Chan = { id: this.#chans.length, kind, rd, wr, buffered: false, hangup: false, closed: false };
    this.#chans.push(chan);
    this.log.push(`chan ${chan.id} ${kind} rd=${rd}`);
    return chan;
  }

  #newPoller(slot: number): void {
    const poller = this.#make();
    this.#pollers[slot] = { slot, poller, fd: poller.fd, closed: false, watches: new Map() };
    this.log.push(`poller ${slot} fd=${poller.fd}`);
  }

  #liveChans(): Chan[] {
    return this.#chans.filter((c) => !c.closed);
  }

  // --- the model's view of readiness ------------------------------------------------------------

  #ready(w: MWatch): boolean {
    if (w.writable && w.chan.kind !== 'pipe') return true; // never filled
    return w.readable && (w.chan.buffered || w.chan.hangup);
  }

  /** Something happened to the descriptor: an edge watch may report. */
  #touch(chan: Chan, data: { arrived?: boolean; hangup?: boolean } = {}): void {
    for (const mp of this.#pollers) {
      const w = mp.watches.get(chan.rd);
      if (w === undefined || w.chan !== chan || w.mode !== 'edge') continue;
      w.fresh++;
      if ((data.arrived || data.hangup) && w.readable) w.due = true;
    }
  }

  /** add/modify/rearm: the kernel looks at the descriptor's state as it registers it. */
  #registered(w: MWatch): void {
    w.armed = true;
    w.fresh++;
    w.due = w.mode === 'edge' && this.#ready(w);
  }

  // --- one random step ------------------------------------------------------------------------

  #step(): void {
    const r = this.#random();
    const mp = this.#pick(this.#pollers);
    const chans = this.#liveChans();
    if (chans.length === 0) {
      this.#newChan();
      return;
    }
    const chan = this.#pick(chans);
    if (r < 0.22) this.#add(mp, chan, this.#chance(0.25) ? this.#pickAction() : 'none');
    else if (r < 0.3) this.#modify(mp, chan);
    else if (r < 0.38) this.#remove(mp, chan);
    else if (r < 0.43) this.#rearm(mp, chan);
    else if (r < 0.58) this.#write(chan);
    else if (r < 0.66) this.#read(chan);
    else if (r < 0.69) this.#hangup(chan);
    else if (r < 0.73) this.#closeAndReuse(chan, this.#chance(0.5));
    else if (r < 0.82) this.#promised(mp, chan, 'once');
    else if (r < 0.88) this.#promised(mp, chan, 'events');
    else if (r < 0.92) this.#abortOne();
    else if (r < 0.94) this.#closePoller(mp);
    else if (r < 0.97) this.#refuse(mp, chan);
    else this.#writeGhost();
  }

  #pickAction(): Action {
    return this.#pick<Action>(['removeSelf', 'modifySelf', 'removeOther', 'addOther', 'read', 'closePoller']);
  }

  #interest(chan: Chan): { readable: boolean; writable: boolean; mode: Mode } {
    const mode = this.#pick<Mode>(this.#edge ? ['level', 'level', 'edge', 'oneshot'] : ['level', 'level', 'oneshot']);
    const writable = chan.kind !== 'pipe' && this.#chance(0.3);
    const readable = !writable || this.#chance(0.5);
    return { readable, writable, mode };
  }

  #toInterest(i: { readable: boolean; writable: boolean; mode: Mode }) {
    return { readable: i.readable, writable: i.writable, edge: i.mode === 'edge', oneshot: i.mode === 'oneshot' };
  }

  #add(mp: MPoller, chan: Chan, action: Action): void {
    if (mp.closed) return;
    if (mp.watches.has(chan.rd)) return this.#refuse(mp, chan);
    const i = this.#interest(chan);
    const w: MWatch = {
      id: ++this.#ids, mp, chan, fd: chan.rd, ...i, via: 'add', live: true, armed: true, fresh: 0, due: false, events: 0, action,
    };
    this.log.push(`add p${mp.slot} fd=${chan.rd} ${i.mode}${i.readable ? ' r' : ''}${i.writable ? ' w' : ''}${action !== 'none' ? ` then ${action}` : ''}`);
    w.watch = mp.poller.add(chan.rd, this.#toInterest(i), (event) => this.#onEvent(w, event));
    mp.watches.set(chan.rd, w);
    this.#registered(w);
  }

  #modify(mp: MPoller, chan: Chan): void {
    if (mp.closed) return;
    const w = mp.watches.get(chan.rd);
    const i = this.#interest(chan);
    if (w === undefined || w.via !== 'add') {
      if (w !== undefined) return; // once()/events() own theirs
      this.log.push(`modify p${mp.slot} fd=${chan.rd} (not watched)`);
      this.#expectRefusal(mp, () => mp.poller.modify(chan.rd, this.#toInterest(i)), 'ERR_POLL_NOT_WATCHED');
      return;
    }
    this.log.push(`modify p${mp.slot} fd=${chan.rd} ${i.mode}${i.readable ? ' r' : ''}${i.writable ? ' w' : ''}`);
    mp.poller.modify(chan.rd, this.#toInterest(i));
    Object.assign(w, i);
    this.#registered(w);
  }

  #remove(mp: MPoller, chan: Chan): void {
    if (mp.closed) return;
    const w = mp.watches.get(chan.rd);
    this.log.push(`remove p${mp.slot} fd=${chan.rd}${w ? '' : ' (not watched)'}`);
    const removed = mp.poller.remove(chan.rd);
    if (removed !== (w !== undefined)) this.#violate(`remove(${chan.rd}) returned ${removed}, the model says ${w !== undefined}`);
    if (w !== undefined) this.#end(w, 'ERR_POLL_NOT_WATCHED');
  }

  #rearm(mp: MPoller, chan: Chan): void {
    if (mp.closed) return;
    const w = mp.watches.get(chan.rd);
    if (w === undefined || w.via !== 'add') return;
    this.log.push(`rearm p${mp.slot} fd=${chan.rd} (${w.mode})`);
    if (w.mode !== 'oneshot') {
      this.#expectRefusal(mp, () => w.watch!.rearm(), 'ERR_POLL_NOT_ONESHOT');
      return;
    }
    w.watch!.rearm();
    this.#registered(w);
  }

  #write(chan: Chan): void {
    if (chan.hangup) return;
    this.log.push(`write chan ${chan.id}`);
    const wasEmpty = !chan.buffered;
    writeOne(chan.kind, chan.wr);
    chan.buffered = true;
    this.#touch(chan, { arrived: wasEmpty });
  }

  #read(chan: Chan): void {
    this.log.push(`read chan ${chan.id}`);
    this.#drain(chan);
  }

  #drain(chan: Chan): void {
    const buf = Buffer.alloc(65536);
    for (;;) {
      try {
        const n = rawfs.readSync(chan.rd, buf, 0, chan.kind === 'eventfd' ? 8 : buf.length, null);
        if (n === 0 || chan.kind === 'eventfd') break;
      } catch (err) {
        if ((err as { code?: string }).code === 'EAGAIN') break;
        throw err;
      }
    }
    chan.buffered = false;
    this.#touch(chan);
  }

  #hangup(chan: Chan): void {
    if (chan.kind === 'eventfd' || chan.hangup) return;
    this.log.push(`hangup chan ${chan.id}`);
    this.#close(chan.wr);
    chan.hangup = true;
    this.#touch(chan, { hangup: true });
  }

  /**
   * The misuse docs/API.md describes: the watched descriptor is closed before remove(), perhaps
   * with a dup keeping its file open, then removed; its number is soon someone else's.
   */
  #closeAndReuse(chan: Chan, keepDup: boolean): void {
    this.log.push(`close chan ${chan.id} rd=${chan.rd} before remove${keepDup ? ', a dup kept' : ''}`);
    if (keepDup) {
      const dup = sys.dup(chan.rd);
      this.#track(dup);
      // The old file stays open through the dup: its writer (the dup itself for an eventfd) can
      // still make it ready, and the kernel report a registration nobody can delete.
      this.#ghosts.push({ wr: chan.kind === 'eventfd' ? dup : chan.hangup ? -1 : chan.wr, kind: chan.kind });
    } else if (!chan.hangup && chan.wr !== chan.rd) {
      this.#close(chan.wr);
    }
    this.#close(chan.rd);
    chan.closed = true;
    for (const mp of this.#pollers) {
      const w = mp.watches.get(chan.rd);
      if (mp.closed || w === undefined || w.chan !== chan) continue;
      if (!mp.poller.remove(chan.rd)) this.#violate(`remove(${chan.rd}) after close returned false`);
      this.#end(w, 'ERR_POLL_NOT_WATCHED');
    }
    this.#newChan(); // most likely takes the number just freed
  }

  readonly #ghosts: Array<{ wr: number; kind: Kind }> = [];

  /** Makes a closed-but-dup'd file ready: the poller must rebuild, and lose nothing else. */
  #writeGhost(): void {
    const ghosts = this.#ghosts.filter((g) => g.wr >= 0);
    if (ghosts.length === 0) return;
    const ghost = this.#pick(ghosts);
    this.log.push(`write a closed file's writer (fd ${ghost.wr})`);
    writeOne(ghost.kind, ghost.wr);
  }

  /** once(), or events() taken for its first event and then left (return()). */
  #promised(mp: MPoller, chan: Chan, via: 'once' | 'events'): void {
    if (mp.closed || mp.watches.has(chan.rd)) return;
    const i = this.#interest(chan);
    const abort = this.#chance(0.3) ? new AbortController() : undefined;
    const w: MWatch = {
      id: ++this.#ids, mp, chan, fd: chan.rd, ...i, mode: 'oneshot', via, live: true, armed: true, fresh: 0, due: false, events: 0, action: 'none', abort,
    };
    this.log.push(`${via} p${mp.slot} fd=${chan.rd}${i.readable ? ' r' : ''}${i.writable ? ' w' : ''}${abort ? ' abortable' : ''}`);
    const interest = this.#toInterest({ ...i, mode: 'level' });
    const options = { signal: abort?.signal };
    let first: Promise<PollEvent>;
    if (via === 'once') {
      first = mp.poller.once(chan.rd, interest, options);
    } else {
      const it = mp.poller.events(chan.rd, interest, options);
      first = it.next().then((r) => {
        void it.return!();
        if (r.done) throw Object.assign(new Error('events() ended without an event or an error'), { code: 'DONE' });
        return r.value;
      });
    }
    mp.watches.set(chan.rd, w);
    this.#registered(w);
    this.#follow(w, first);
  }

  /** A once()/events() result: it settles exactly as the model says, and frees its fd. */
  #follow(w: MWatch, promise: Promise<PollEvent>): void {
    const tracked = promise.then(
      (event) => {
        if (event.fd !== w.fd) this.#violate(`${w.via}(${w.fd}) resolved with an event for fd ${event.fd}`);
        // Ended by abort/close/remove before an event was dispatched: it must reject instead.
        if (w.expectEnd !== undefined && !w.endedInItsBatch) this.#violate(`${w.via}(${w.fd}) resolved after it was ended (${w.expectEnd})`);
        w.settled = 'event';
        this.#free(w);
      },
      (err: { code?: string; name?: string }) => {
        const how = err.name === 'AbortError' ? 'AbortError' : String(err.code);
        if (w.expectEnd === undefined) this.#violate(`${w.via}(${w.fd}) rejected with ${how} though nothing ended it`);
        else if (how !== w.expectEnd) this.#violate(`${w.via}(${w.fd}) rejected with ${how}, expected ${w.expectEnd}`);
        w.settled = how;
        this.#free(w);
      },
    );
    void tracked;
  }

  #free(w: MWatch): void {
    w.live = false;
    this.#ending.delete(w);
    if (w.mp.watches.get(w.fd) === w) w.mp.watches.delete(w.fd);
  }

  #abortOne(): void {
    const candidates = this.#pollers.flatMap((mp) => [...mp.watches.values()]).filter((w) => w.abort && w.live && w.expectEnd === undefined);
    if (candidates.length === 0) return;
    const w = this.#pick(candidates);
    this.log.push(`abort ${w.via} p${w.mp.slot} fd=${w.fd}`);
    // Not settled yet, so no event was dispatched to it (that would have settled it in a
    // microtask long since): it ends now, with an AbortError.
    this.#end(w, 'AbortError');
    w.abort!.abort();
  }

  /**
   * A watch ends by another hand (remove, close, abort): no event may follow. `known`: whether
   * the caller knows the promise had no event yet (remove() found its once() still there).
   */
  #end(w: MWatch, how: string, known = false): void {
    w.live = false;
    if (w.via !== 'add' && w.settled === undefined) {
      w.expectEnd = how;
      w.endedInItsBatch = !known && this.#batch?.mp === w.mp && this.#batch.ready.has(w);
      this.#ending.add(w);
    }
    if (w.mp.watches.get(w.fd) === w) w.mp.watches.delete(w.fd);
  }

  #closePoller(mp: MPoller): void {
    if (mp.closed) return;
    this.log.push(`close poller ${mp.slot}`);
    mp.closed = true;
    for (const w of [...mp.watches.values()]) this.#end(w, 'ERR_POLL_CLOSED');
    mp.poller.close();
    if (mp.poller.size !== 0 || !mp.poller.closed) this.#violate('close() left watches or the poller open');
  }

  /** Calls that must fail, and change nothing. */
  #refuse(mp: MPoller, chan: Chan): void {
    if (mp.closed) return;
    const w = mp.watches.get(chan.rd);
    if (w !== undefined) {
      this.log.push(`add p${mp.slot} fd=${chan.rd} again`);
      this.#expectRefusal(mp, () => mp.poller.add(chan.rd, { readable: true }, () => this.#violate('a refused add() delivered')), 'ERR_POLL_ALREADY_WATCHED');
      return;
    }
    // A number that is certainly closed.
    const gone = fs.openSync(os.devNull, 'r');
    rawfs.closeSync(gone);
    this.log.push(`add p${mp.slot} closed fd=${gone}`);
    this.#expectRefusal(mp, () => mp.poller.add(gone, { readable: true }, () => this.#violate('a refused add() delivered')), 'EBADF');
  }

  #expectRefusal(mp: MPoller, call: () => unknown, code: string): void {
    const before = mp.poller.size;
    try {
      call();
      this.#violate(`expected ${code}, but the call succeeded`);
    } catch (err) {
      if ((err as { code?: string }).code !== code) this.#violate(`expected ${code}, got ${String(err)}`);
    }
    if (mp.poller.size !== before || before !== mp.watches.size) {
      this.#violate(`a refused call changed the watch set: size ${before} -> ${mp.poller.size}, the model has ${mp.watches.size}`);
    }
  }

  // --- events ----------------------------------------------------------------------------------

  #onEvent(w: MWatch, event: PollEvent): void {
    const mp = w.mp;
    if (this.#batch === undefined) {
      // A batch is dispatched in one call: its first callback starts it, and the microtasks that
      // run after it end it.
      this.#batch = { mp, ready: new Set([...mp.watches.values()].filter((o) => o.via !== 'add' && this.#ready(o))) };
      queueMicrotask(() => (this.#batch = undefined));
    }
    if (mp.poller.fd !== mp.fd) {
      // Rebuilt (docs/API.md): an edge watch may see its current readiness once more.
      mp.fd = mp.poller.fd;
      for (const other of mp.watches.values()) if (other.mode === 'edge') other.fresh++;
    }
    if (trace) this.log.push(`  event p${mp.slot} fd=${event.fd}${event.readable ? ' r' : ''}${event.writable ? ' w' : ''}${event.hangup ? ' h' : ''} (${w.mode}, watch ${w.id})`);
    if (!w.live || mp.closed) this.#violate(`event for fd ${w.fd} after its watch ended`);
    if (event.fd !== w.fd) this.#violate(`event for fd ${event.fd} delivered to the watch of fd ${w.fd}`);
    if (w.mode === 'oneshot' && !w.armed) this.#violate(`oneshot event for fd ${w.fd} while disarmed`);
    if (w.mode === 'edge' && w.fresh === 0) this.#violate(`edge event for fd ${w.fd} with nothing new on it`);
    w.events++;
    w.armed = false;
    if (w.fresh > 0) w.fresh--;
    w.due = false;
    if (w.action !== 'none' && w.events === 1) this.#act(w);
  }

  /** What a callback does on its first event, inside the batch. */
  #act(w: MWatch): void {
    const mp = w.mp;
    this.log.push(`  in callback of fd ${w.fd}: ${w.action}`);
    switch (w.action) {
      case 'removeSelf':
        w.watch!.remove();
        this.#end(w, 'ERR_POLL_NOT_WATCHED');
        break;
      case 'modifySelf': {
        const i = this.#interest(w.chan);
        w.watch!.modify(this.#toInterest(i));
        Object.assign(w, i);
        this.#registered(w);
        break;
      }
      case 'removeOther': {
        const other = [...mp.watches.values()].find((o) => o !== w);
        if (other === undefined) break;
        if (!mp.poller.remove(other.fd) && other.via === 'once') {
          // A once() ends its watch as its event is dispatched: this batch gave it its event
          // before this callback, and it must resolve.
          other.live = false;
          mp.watches.delete(other.fd);
          this.#ending.add(other);
        } else {
          this.#end(other, 'ERR_POLL_NOT_WATCHED', other.via === 'once');
        }
        break;
      }
      case 'addOther': {
        const chan = this.#liveChans().find((c) => !mp.watches.has(c.rd));
        if (chan !== undefined) this.#add(mp, chan, 'none');
        break;
      }
      case 'read':
        this.#drain(w.chan);
        break;
      case 'closePoller':
        this.#closePoller(mp);
        break;
    }
  }

  // --- after every step ------------------------------------------------------------------------

  /** Waits until everything the model requires has happened, or reports what did not. */
  async #checkpoint(): Promise<void> {
    const baseline = new Map<MWatch, number>();
    for (const mp of this.#pollers) for (const w of mp.watches.values()) baseline.set(w, w.events);
    const missing = (): string[] => {
      const out: string[] = [];
      for (const [w, before] of baseline) {
        if (!w.live || w.mp.closed) continue;
        const ready = this.#ready(w);
        if (w.via !== 'add') {
          if (ready) out.push(`${w.via}(${w.fd}) on a ready ${w.chan.kind} did not resolve`);
          continue;
        }
        // An edge is reported only if the descriptor is still ready when the kernel collects it:
        // another poller's callback may have read the data first (epoll checks again then).
        const required = ready && (w.mode === 'level' || (w.mode === 'oneshot' && w.armed) || (w.mode === 'edge' && w.due));
        if (required && w.events <= before) out.push(`${w.mode} watch on fd ${w.fd} (${w.chan.kind}) is ready but reported nothing`);
      }
      for (const w of this.#ending) out.push(`${w.via}(${w.fd}) ended (${w.expectEnd ?? 'by its event'}) but did not settle`);
      return out;
    };
    const start = Date.now();
    await immediate();
    await immediate();
    let left = missing();
    while (left.length > 0 && Date.now() - start < this.#patience) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      left = missing();
    }
    for (const what of left) this.#violate(what);
  }
}

/** A backend with a bug planted in it, to show the model catches what it is for. */
export function plantBug(backend: Backend, bug: 'ignore-oneshot' | 'ignore-edge'): Backend {
  const strip = bug === 'ignore-oneshot' ? Bits.ONESHOT : Bits.EDGE;
  return {
    ...backend,
    create(buffer, onBatch): NativePoller {
      const native = backend.create(buffer, onBatch);
      return {
        get fd() {
          return native.fd;
        },
        add: (fd, mask, token) => native.add(fd, mask & ~strip, token),
        modify: (fd, mask, token) => native.modify(fd, mask & ~strip, token),
        remove: (fd) => native.remove(fd),
        ref: () => native.ref(),
        unref: () => native.unref(),
        pin: (on) => native.pin(on),
        close: () => native.close(),
      };
    },
  };
}

export function pollerWith(backend: Backend): () => PollerBase {
  return () => new PollerBase(backend);
}
