// @poll/linux's epoll on the waiter-thread loop (the one @poll/bsd runs on macOS and the BSDs),
// which its addon exports beside the uv_poll loop: what the TSan run drives.
import { createRequire } from 'node:module';
import { pollerClass } from '@poll/core';

const { loops } = createRequire(import.meta.url)('@poll/linux/backend');

export const backend = loops.thread;
export const Poller = pollerClass(backend);
