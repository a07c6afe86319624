// The same backend with refuse/refuse.c in front of its kevent(): the descriptors that
// POLL_KQUEUE_REFUSE names are refused (EV_ADD answers EINVAL) as macOS refuses some devices,
// so the backend watches them with select(2). With POLL_KQUEUE_REFUSE=all every descriptor is
// watched that way, and edge-triggered watching, which select(2) cannot give, is not offered.
import { Bits } from '@poll/core';
import { harnessBackend } from './load.mjs';

export const { backend, loops, Poller } = harnessBackend(
  'poll_bsd_refusing.node',
  'on libkqueue refusing descriptors',
  process.env.POLL_KQUEUE_REFUSE === 'all' ? Bits.EDGE : 0,
);
