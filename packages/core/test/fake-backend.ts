import { constants } from 'node:os';
import { Bits, type Backend, type NativePoller } from '../src/index.js';

/** Every bit core knows about. */
export const ALL_BITS = Object.values(Bits).reduce((a, b) => a | b, 0);

export type Call =
  | { op: 'add'; fd: number; mask: number; token: number }
  | { op: 'modify'; fd: number; mask: number; token: number }
  | { op: 'remove'; fd: number }
  | { op: 'ref' }
  | { op: 'unref' }
  | { op: 'pin'; on: boolean }
  | { op: 'close' };

type Op = 'add' | 'modify' | 'remove';

/** errno values by name, positive like the native backends throw them. */
export const E = constants.errno as Record<string, number>;

export interface FakeBackendOptions {
  maxEvents?: number;
  reservedToken?: number;
  name?: 'epoll' | 'kqueue';
  supported?: number;
  bits?: Record<string, number>;
  /** errno to throw from create(). */
  createErrno?: number;
  nativeFd?: number;
}

/**
 * A Backend that keeps its own registration table, records every call, and lets a test fire
 * batches of events synchronously (as the native side does from the loop).
 */
export class FakeBackend implements Backend {
  readonly name: 'epoll' | 'kqueue';
  readonly supported: number;
  readonly bits: Readonly<Record<keyof typeof Bits, number>>;
  readonly maxEvents: number | undefined;
  readonly reservedToken: number | undefined;
  readonly nativeFd: number;
  readonly createErrno: number | undefined;

  /** Every call on every native poller this backend created, in order. */
  readonly calls: Call[] = [];
  /** fd -> what the "kernel" has registered. */
  readonly registered = new Map<number, { mask: number; token: number }>();
  /** Like a libuv handle: unref'd until core asks otherwise. */
  refed = false;
  /** Like the native side: holds the batch callback weakly until core pins it. */
  pinned = false;
  refCalls = 0;
  unrefCalls = 0;
  closed = false;
  createCount = 0;
  buffer: Int32Array | null = null;
  onBatch: ((count: number) => void) | null = null;

  readonly #failNext = new Map<Op, { errno: number; fd?: number } | { value: unknown }>();

  constructor(options: FakeBackendOptions = {}) {
    this.name = options.name ?? 'epoll';
    this.supported = options.supported ?? ALL_BITS;
    this.bits = (options.bits ?? { ...Bits }) as Record<keyof typeof Bits, number>;
    this.maxEvents = options.maxEvents;
    this.reservedToken = options.reservedToken;
    this.nativeFd = options.nativeFd ?? 42;
    this.createErrno = options.createErrno;
  }

  /** The next call of `op` throws a native-shaped error with this errno (and does nothing). */
  failNext(op: Op, errno: number, fd?: number): this {
    this.#failNext.set(op, { errno, fd });
    return this;
  }

  /** The next call of `op` throws `value` as it is (not a native-shaped error). */
  throwNext(op: Op, value: unknown): this {
    this.#failNext.set(op, { value });
    return this;
  }

  callsOf<K extends Call['op']>(op: K): Extract<Call, { op: K }>[] {
    return this.calls.filter((c): c is Extract<Call, { op: K }> => c.op === op);
  }

  clearCalls(): void {
    this.calls.length = 0;
  }

  tokenOf(fd: number): number {
    const r = this.registered.get(fd);
    if (r === undefined) throw new Error(`fake: fd ${fd} is not registered`);
    return r.token;
  }

  create(buffer: Int32Array, onBatch: (count: number) => void): NativePoller {
    this.createCount++;
    if (this.createErrno !== undefined) {
      throw { errno: this.createErrno, syscall: 'epoll_create1', fd: -1, message: 'create failed' };
    }
    this.buffer = buffer;
    this.onBatch = onBatch;
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const fake = this;
    const maybeFail = (op: Op, fd: number): void => {
      const f = this.#failNext.get(op);
      if (f === undefined) return;
      this.#failNext.delete(op);
      if ('value' in f) throw f.value;
      const syscall = 'epoll_ctl';
      const err = Object.assign(new Error(`fake ${op} failed`), { errno: f.errno, syscall, fd: f.fd ?? fd });
      throw err;
    };
    const assertOpen = (): void => {
      if (fake.closed) throw new Error('fake: native used after close()');
    };
    return {
      get fd() {
        return fake.closed ? -1 : fake.nativeFd;
      },
      add(fd, mask, token) {
        assertOpen();
        fake.calls.push({ op: 'add', fd, mask, token });
        maybeFail('add', fd);
        if (fake.registered.has(fd)) {
          throw { errno: E.EEXIST, syscall: 'epoll_ctl', fd, message: 'File exists' };
        }
        fake.registered.set(fd, { mask, token });
      },
      modify(fd, mask, token) {
        assertOpen();
        fake.calls.push({ op: 'modify', fd, mask, token });
        maybeFail('modify', fd);
        if (!fake.registered.has(fd)) {
          throw { errno: E.ENOENT, syscall: 'epoll_ctl', fd, message: 'No such file or directory' };
        }
        fake.registered.set(fd, { mask, token });
      },
      remove(fd) {
        assertOpen();
        fake.calls.push({ op: 'remove', fd });
        maybeFail('remove', fd);
        if (!fake.registered.has(fd)) {
          throw { errno: E.ENOENT, syscall: 'epoll_ctl', fd, message: 'No such file or directory' };
        }
        fake.registered.delete(fd);
      },
      ref() {
        assertOpen();
        fake.calls.push({ op: 'ref' });
        fake.refCalls++;
        fake.refed = true;
      },
      unref() {
        assertOpen();
        fake.calls.push({ op: 'unref' });
        fake.unrefCalls++;
        fake.refed = false;
      },
      pin(on: boolean) {
        assertOpen();
        fake.calls.push({ op: 'pin', on });
        fake.pinned = on;
      },
      close() {
        assertOpen();
        fake.calls.push({ op: 'close' });
        fake.closed = true;
        fake.refed = false;
        fake.registered.clear();
      },
    };
  }

  /**
   * Writes one batch into the shared buffer and calls onBatch synchronously. `[fd, mask]` uses
   * the token the fake has registered for fd; `[fd, token, mask]` uses the one given.
   */
  fire(events: Array<[number, number] | [number, number, number]>): void {
    if (this.buffer === null || this.onBatch === null) throw new Error('fake: create() was not called');
    if (events.length * 3 > this.buffer.length) throw new Error('fake: batch larger than the buffer');
    events.forEach((ev, i) => {
      const [fd, token, mask] = ev.length === 3 ? ev : [ev[0], this.tokenOf(ev[0]), ev[1]];
      this.buffer![i * 3] = fd;
      this.buffer![i * 3 + 1] = token;
      this.buffer![i * 3 + 2] = mask;
    });
    this.onBatch(events.length);
  }

  /** One event for fd carrying a token that is not (any longer) the registered one. */
  fireStale(fd: number, mask: number, token?: number): void {
    const current = this.registered.get(fd)?.token ?? 0;
    this.fire([[fd, token ?? current + 1000, mask]]);
  }
}
