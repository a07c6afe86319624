/** The `epoll` package's API (4.x), on poll. */
export declare class Epoll {
  /** `err` is null for an event; `fd` and `events` (epoll's bits) come with it. */
  constructor(callback: (err: Error | null, fd: number, events: number) => void);
  /** True once close() was called. */
  readonly closed: boolean;
  add(fd: number, events: number): this;
  modify(fd: number, events: number): this;
  remove(fd: number): this;
  /** Removes every fd of this instance; a second call does nothing. */
  close(): this;
  static readonly EPOLLIN: 0x001;
  static readonly EPOLLOUT: 0x004;
  static readonly EPOLLRDHUP: 0x2000;
  static readonly EPOLLPRI: 0x002;
  static readonly EPOLLERR: 0x008;
  static readonly EPOLLHUP: 0x010;
  static readonly EPOLLET: 0x80000000;
  static readonly EPOLLONESHOT: 0x40000000;
}
