import { createRequire } from 'node:module';
import { pollerClass, type Backend, type PollerBase } from '@poll/core';

const { backend } = createRequire(import.meta.url)('../backend.cjs') as { backend: Backend };

/** A Poller on kqueue. */
export const Poller = pollerClass(backend);
export type Poller = PollerBase;

export { backend };
export { PollError, PollerBase, PollDuplex, PollReadStream, PollWriteStream, LIBRARY_ERROR_CODES } from '@poll/core';
export type { Interest, PollEvent, PollerOptions, SignalOptions, AddOptions, EndReason, LibraryError, LibraryErrorCode, Watch, DuplexOptions, ReadStreamOptions, WriteStreamOptions } from '@poll/core';
