// Uses AbortSignal, a Node global: see types.ts.
/// <reference types="node" preserve="true" />
import { getSystemErrorName } from 'node:util';

/** A system error from the kernel, shaped like Node's own (`code`, `errno`, `syscall`). */
export class PollError extends Error {
  readonly code: string;
  /** Negative, as in Node's own system errors (-9 for EBADF). */
  readonly errno: number;
  readonly syscall: string;
  // `declare`: no own property at all when there is no descriptor to name.
  declare readonly fd?: number;

  constructor(syscall: string, errno: number, fd?: number, detail?: string) {
    const code = errnoName(errno);
    const where = fd === undefined ? syscall : `${syscall} (fd ${fd})`;
    super(`${code}: ${detail ?? 'system error'}, ${where}`);
    this.name = 'PollError';
    this.code = code;
    this.errno = -Math.abs(errno);
    this.syscall = syscall;
    if (fd !== undefined) (this as { fd?: number }).fd = fd;
  }
}

function errnoName(errno: number): string {
  try {
    return getSystemErrorName(-Math.abs(errno));
  } catch {
    return `Unknown system error ${errno}`;
  }
}

interface NativeErrorShape {
  errno: number;
  syscall: string;
  fd?: number;
  message: string;
}

function isNativeError(e: unknown): e is NativeErrorShape {
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof (e as NativeErrorShape).errno === 'number' &&
    typeof (e as NativeErrorShape).syscall === 'string'
  );
}

/** Native backends throw `{ errno, syscall, fd, message }`; users get a PollError. */
export function toPollError(e: unknown): unknown {
  if (e instanceof PollError || !isNativeError(e)) return e;
  const fd = typeof e.fd === 'number' && e.fd >= 0 ? e.fd : undefined;
  return new PollError(e.syscall, e.errno, fd, e.message);
}

/**
 * Every code of the library's own errors (docs/API.md's errors table says when each comes;
 * kernel errors are PollErrors, with the errno's name as their code). ERR_POLL_NODE_TOO_OLD
 * comes from @poll/epoll alone, on a Node.js without require(esm).
 */
export const LIBRARY_ERROR_CODES = [
  'ERR_POLL_CLOSED',
  'ERR_POLL_ALREADY_WATCHED',
  'ERR_POLL_NOT_WATCHED',
  'ERR_POLL_NOT_ONESHOT',
  'ERR_POLL_UNSUPPORTED',
  'ERR_POLL_NO_BACKEND',
  'ERR_POLL_PARTIAL_RECORD',
  'ERR_POLL_NODE_TOO_OLD',
] as const;
export type LibraryErrorCode = (typeof LIBRARY_ERROR_CODES)[number];
/** One of the library's own errors: a plain Error whose `code` is one of LIBRARY_ERROR_CODES. */
export type LibraryError<C extends LibraryErrorCode = LibraryErrorCode> = Error & { code: C };

export function libraryError<C extends LibraryErrorCode>(code: C, message: string, options?: ErrorOptions): LibraryError<C> {
  const err = new Error(message, options) as LibraryError<C>;
  err.code = code;
  return err;
}

/** One watch per fd and poller: the one message for every way of asking for a second. */
export function alreadyWatched(fd: number): LibraryError<'ERR_POLL_ALREADY_WATCHED'> {
  return libraryError('ERR_POLL_ALREADY_WATCHED', `fd ${fd} is already watched by this poller; modify() it, or remove() it first`);
}

/** The fd is not (or no longer) watched by this poller. */
export function notWatched(fd: number): LibraryError<'ERR_POLL_NOT_WATCHED'> {
  return libraryError('ERR_POLL_NOT_WATCHED', `fd ${fd} is not watched by this poller`);
}

export function closedError(): LibraryError<'ERR_POLL_CLOSED'> {
  return libraryError('ERR_POLL_CLOSED', 'The poller is closed');
}

export function typeError(code: 'ERR_INVALID_ARG_TYPE' | 'ERR_INVALID_ARG_VALUE', message: string): TypeError & { code: string } {
  const err = new TypeError(message) as TypeError & { code: string };
  err.code = code;
  return err;
}

export function rangeError(message: string): RangeError & { code: string } {
  const err = new RangeError(message) as RangeError & { code: string };
  err.code = 'ERR_OUT_OF_RANGE';
  return err;
}

/** Like Node's AbortError: `name` 'AbortError', `code` 'ABORT_ERR', the signal's reason as cause. */
export function abortError(signal: AbortSignal): Error {
  const err = new Error('The operation was aborted', { cause: signal.reason }) as Error & { code: string };
  err.name = 'AbortError';
  err.code = 'ABORT_ERR';
  return err;
}

/** Node's error for a write a stream can no longer make. */
export function streamDestroyed(): Error {
  return Object.assign(new Error('Cannot call write after a stream was destroyed'), { code: 'ERR_STREAM_DESTROYED' });
}
