// The behaviour suite, unchanged, on Deno (run by run-on.mjs: vitest itself under `deno run -A`):
// @poll/poller picks the epoll backend, whose addon picks the Node-API loop there.
import { behaviourSuite, targetFor } from '@poll/behaviour';
import { expect, it } from 'vitest';
import { backend } from '@poll/poller';

it('runs on Deno, on the Node-API loop', () => {
  expect(typeof (globalThis as { Deno?: unknown }).Deno).toBe('object');
  expect(backend.loop).toBe('napi');
});

behaviourSuite(await targetFor('epoll via @poll/poller on Deno', '@poll/poller', import.meta.url));
