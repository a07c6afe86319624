export { PollerBase, pollerClass, streamFunctions, kWatchMask, kModifyMask, kDropStale, type PollerClass } from './poller.js';
export { PollReadStream, PollWriteStream, type ReadStreamOptions, type WriteStreamOptions } from './stream.js';
export { PollError, toPollError } from './errors.js';
export { selectBackend, backendPackageFor } from './select.js';
export { Bits } from './types.js';
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
  Watch,
} from './types.js';
