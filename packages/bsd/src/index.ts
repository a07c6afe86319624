import { createRequire } from 'node:module';
import { PollerBase, type Backend, type PollerOptions } from '@poll/core';

const { backend } = createRequire(import.meta.url)('../backend.cjs') as { backend: Backend };

/** A Poller on kqueue. */
export class Poller extends PollerBase {
  constructor(options?: PollerOptions) {
    super(backend, options);
  }
}

export { backend };
export { PollError, PollerBase } from '@poll/core';
export type { Interest, PollEvent, PollerOptions, SignalOptions, Watch } from '@poll/core';
