// The behaviour suite, unchanged, on Bun (run by run-on.mjs: vitest itself under `bun --bun`):
// @poll/poller picks the epoll backend, whose addon picks the Node-API loop there.
import { behaviourSuite, targetFor } from '@poll/behaviour';
import { expect, it } from 'vitest';
import { backend } from '@poll/poller';

it('runs on Bun, on the Node-API loop', () => {
  expect(typeof (globalThis as { Bun?: unknown }).Bun).toBe('object');
  expect(backend.loop).toBe('napi');
});

behaviourSuite(await targetFor('epoll via @poll/poller on Bun', '@poll/poller', import.meta.url));
