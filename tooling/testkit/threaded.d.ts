import { PollerBase, type Backend, type PollerOptions } from '@poll/core';
export declare const backend: Backend;
export declare class Poller extends PollerBase {
  constructor(options?: PollerOptions);
}
export { PollError, PollerBase } from '@poll/core';
