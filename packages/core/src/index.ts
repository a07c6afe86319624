export { PollerBase, pollerClass, streamFunctions, type PollerClass } from './poller.js';
export { kWatchMask, kModifyMask, kDropStale } from './raw.js';
export { PollDuplex, PollReadStream, PollWriteStream, type DuplexOptions, type ReadStreamOptions, type WriteStreamOptions } from './stream.js';
export { PollError, toPollError, LIBRARY_ERROR_CODES, type LibraryError, type LibraryErrorCode } from './errors.js';
// The error factories, for poll's own packages (the drop-in), so that every error is made one way.
export { libraryError, rangeError, typeError } from './errors.js';
export { selectBackend, backendPackageFor } from './select.js';
export { Bits, MAX_EVENTS, RESERVED_TOKEN } from './types.js';
export type {
  Backend,
  BackendIo,
  LoopName,
  FileIdentity,
  Interest,
  NativePoller,
  PollEvent,
  PollerOptions,
  SignalOptions,
  AddOptions,
  EndReason,
  Watch,
} from './types.js';
