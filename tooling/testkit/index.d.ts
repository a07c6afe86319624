export interface FdFlags { cloexec: boolean; nonblock: boolean }
export interface PipeOptions { cloexec?: boolean; nonblock?: boolean }
export interface DenyRule { syscall: 'epoll_create1' | 'epoll_create' | 'fcntl:F_SETFD'; errno: number }
export declare const sys: {
  pipe(options?: PipeOptions): [number, number];
  socketpair(options?: PipeOptions & { type?: 'stream' | 'dgram' }): [number, number];
  eventfd(initval?: number): number;
  /** A timerfd (CLOCK_MONOTONIC) that expires once, `ms` from now; non-blocking, close-on-exec. */
  timerfd(ms: number): number;
  /** An inotify descriptor watching directory `dir` for files created in it. */
  inotify(dir: string): number;
  /** A NETLINK_ROUTE socket in the RTMGRP_LINK group: told of every link change. */
  netlinkLinks(): number;
  /** A TUN device (one IP packet a read) with `address`/30, up; [fd, interface name]. Root only. */
  tun(address: string): [number, string];
  sendOob(fd: number): void;
  /** A loopback TCP connection, [accepted, connected], both non-blocking and close-on-exec. */
  tcpPair(): [number, number];
  /** Fork and exec `path`; its standard output. */
  execProbe(path: string): string;
  fdFlags(fd: number): FdFlags;
  /** [master, slave]; the slave in raw mode. */
  openpty(): [number, number];
  dup(fd: number): number;
  /** 1, 0 at EOF, or -errno */
  writeByte(fd: number): number;
  /** CLOCK_MONOTONIC in nanoseconds: the same clock in every process and runtime. */
  monotonicNs(): bigint;
  readByte(fd: number): number;
  setCloexec(fd: number, on: boolean): void;
  denySyscalls(rules: DenyRule[]): void;
  rawEpollCreate1(): number;
  hasEpollCreate: boolean;
  /** Writes one byte past a heap block: the sanitizer runs' negative control. */
  plantedOverflow(): void;
  /** Two threads racing on a plain int: ThreadSanitizer's negative control. */
  plantedRace(): number;
};
export declare const fixtures: string;
export declare const fdprobe: string;
/** The runtime running this code. */
export declare const runtime: 'node' | 'bun' | 'deno';
export declare function childFds(): Promise<Set<number>>;
export declare function isOpen(fd: number): boolean;
export declare function fdTarget(fd: number, pid?: number | 'self'): string | null;
export declare function write(fd: number, data?: string | Buffer): number;
export declare function read(fd: number, size?: number): string | null;
/** Every read(2) a non-blocking `fd` has now, each its own Buffer, until EAGAIN or end of file. */
export declare function drain(fd: number, size?: number): Buffer[];
export declare function fill(fd: number): number;
export declare function closeAll(...fds: Array<number | number[]>): void;
export declare function closeFrom(list: number[], fd: number): void;
export declare function threadsNamed(name: string): number;
export declare function runNode(
  script: string,
  args?: string[],
  options?: { timeout?: number; execArgv?: string[]; aliveFor?: number },
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; json: any; alive: boolean }>;
/** writeSync, readSync and closeSync as node:fs has them, made of the system calls (Deno's node:fs refuses descriptors it did not open). */
export declare const rawfs: {
  writeSync(fd: number, data: string | Uint8Array): number;
  readSync(fd: number, buffer: Uint8Array, offset?: number, length?: number, position?: null): number;
  closeSync(fd: number): void;
};
/** The arguments before a script that run it on this runtime with Node's execArgv flags. */
export declare function runtimeArgs(execArgv?: string[]): string[];

export type FaultCall = 'epoll_create1' | 'epoll_create' | 'epoll_ctl' | 'epoll_wait' | 'read' | 'write';
/** The fault injector's library, for LD_PRELOAD in a child process (Linux). */
export declare const faultsLibrary: string;
export declare const faults: {
  arm(call: FaultCall, rule: { fd?: number; op?: 'add' | 'modify' | 'delete'; skip?: number; times?: number; errno: string }): void;
  count(call: FaultCall): { seen: number; failed: number };
  reset(): void;
};
