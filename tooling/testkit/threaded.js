// A Poller on epoll driven by the waiter-thread loop integration (the kqueue backend's), for
// running the behaviour suite through that path on Linux.
import { PollerBase } from '@poll/core';
import { sys } from './index.js';

export const backend = Object.freeze({
  name: 'epoll',
  supported: sys.supported,
  bits: sys.bits,
  create: (buffer, onBatch) => new sys.ThreadedEpoll(buffer, onBatch),
});

export class Poller extends PollerBase {
  constructor(options) {
    super(backend, options);
  }
}

export { PollError, PollerBase } from '@poll/core';
