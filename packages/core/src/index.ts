export { PollerBase, pollerClass, kWatchMask, kModifyMask, type PollerClass } from './poller.js';
export { PollError, toPollError } from './errors.js';
export { selectBackend, backendPackageFor } from './select.js';
export { Bits } from './types.js';
export type {
  Backend,
  FileIdentity,
  Interest,
  NativePoller,
  PollEvent,
  PollerOptions,
  SignalOptions,
  Watch,
} from './types.js';
