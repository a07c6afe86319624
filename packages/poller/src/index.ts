// The stream functions' types use Node's globals (BufferEncoding): this line makes the published
// .d.ts ask for @types/node, as core's do.
/// <reference types="node" preserve="true" />
import { createRequire } from 'node:module';
import { pollerClass, selectBackend, streamFunctions, type Backend, type PollerBase } from '@poll/core';

// Our own require: under pnpm's strict layout only this package, which declares the platform
// packages as optionalDependencies, can resolve them.
const backend: Backend = selectBackend(createRequire(import.meta.url));

/** A Poller on this platform's kernel facility: epoll on Linux, kqueue on macOS and the BSDs. */
export const Poller = pollerClass(backend);
export type Poller = PollerBase;

/** Streams on a descriptor, on a poller of this thread's own (or `options.poller`). */
export const { createReadStream, createWriteStream, createDuplex } = streamFunctions(Poller);

export { backend };
export { PollError, PollerBase, Bits, PollDuplex, PollReadStream, PollWriteStream, LIBRARY_ERROR_CODES } from '@poll/core';
export type { Interest, PollEvent, PollerOptions, SignalOptions, AddOptions, EndReason, LibraryError, LibraryErrorCode, Watch, DuplexOptions, ReadStreamOptions, WriteStreamOptions } from '@poll/core';
