// A Poller on epoll driven by the waiter-thread loop integration (the kqueue backend's), for
// running the behaviour suite through that path on Linux.
import { createRequire } from 'node:module';
import { PollerBase } from '@poll/core';
import { sys } from './index.js';

// The same epoll set, so the same kernel record as @poll/linux's (a private package may reach
// into the workspace; a dependency on @poll/linux would make a cycle through its tests).
const registeredFiles = createRequire(import.meta.url)('../../packages/linux/registered-files.cjs');

export const backend = Object.freeze({
  name: 'epoll',
  loop: 'thread',
  supported: sys.supported,
  bits: sys.bits,
  io: sys.io,
  create: (buffer, onBatch) => new sys.ThreadedEpoll(buffer, onBatch),
  registeredFiles,
});

export class Poller extends PollerBase {
  constructor(options) {
    super(backend, options);
  }
}

export { PollError, PollerBase } from '@poll/core';
