// The streams a poller hosts (createReadStream, createWriteStream, createDuplex), and the seam
// through which each watches its descriptor.
import { Bits, type Backend, type BackendIo, type PollEvent } from './types.js';
import { alreadyWatched, libraryError } from './errors.js';
import { UNREF, type Registration } from './registration.js';
import type { Registrations } from './registrations.js';
import type { HostedWatch, StreamHost } from './stream.js';

/** What close() needs of a stream. */
type LiveStream = { destroy(err?: Error): unknown };

/**
 * A stream watches its fd only while it waits, but the fd is its own on this poller from the
 * start: a second stream, add(), once() or events() on it is refused at once, not under load.
 */
export class HostedStreams implements StreamHost {
  // The streams on this poller, by fd, until each ends (null while one is being made). close()
  // ends them all, whether they wait for the kernel or not (paused, idle, buffered).
  readonly #streams = new Map<number, LiveStream | null>();
  readonly #table: Registrations;
  readonly #backend: Backend;

  constructor(table: Registrations, backend: Backend) {
    this.#table = table;
    this.#backend = backend;
  }

  get size(): number {
    return this.#streams.size;
  }

  /** Whether `fd` is a stream's. */
  has(fd: number): boolean {
    return this.#streams.has(fd);
  }

  /**
   * `make`'s stream on `fd`, which the poller has checked is free. The fd is marked before the
   * stream is made: a stream can end inside its own constructor (an aborted `signal`), and its
   * end unmarks the fd, which must then stay unmarked.
   */
  host<T extends LiveStream>(fd: number, make: (host: StreamHost, io: BackendIo) => T): T {
    const io = this.#io();
    this.#streams.set(fd, null);
    let stream: T;
    try {
      stream = make(this, io);
    } catch (err) {
      this.#streams.delete(fd);
      throw err;
    }
    if (this.#streams.has(fd)) this.#streams.set(fd, stream);
    return stream;
  }

  /** The poller closed: streams not waiting for the kernel just now had no watch to end. */
  destroyAll(reason: Error): void {
    for (const stream of [...this.#streams.values()]) stream?.destroy(reason);
  }

  streamWatch(fd: number, mask: number, onReady: (event: PollEvent) => void, ref: boolean, onEnd: (reason: Error) => void): HostedWatch {
    this.#table.open();
    // A stream holds at most one watch at a time; a second would replace the first in the table.
    if (this.#table.has(fd)) throw alreadyWatched(fd);
    return this.#table.register(fd, mask | Bits.ONESHOT, onReady, ref ? 0 : UNREF, onEnd);
  }

  streamModify(watch: HostedWatch, mask: number): void {
    const reg = watch as Registration;
    this.#table.assertCurrent(reg);
    this.#table.modify(reg, mask | Bits.ONESHOT);
  }

  streamRef(watch: HostedWatch, ref: boolean): void {
    this.#table.setRef(watch as Registration, ref);
  }

  streamDone(fd: number): void {
    this.#streams.delete(fd);
  }

  #io(): BackendIo {
    const io = this.#backend.io;
    if (io === undefined) throw libraryError('ERR_POLL_UNSUPPORTED', `This ${this.#backend.name} backend has no descriptor I/O for streams; install matching versions of the @poll packages`);
    return io;
  }
}
