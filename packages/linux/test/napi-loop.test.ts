// The behaviour suite on the Node-API loop: what Bun and Deno run (they have no libuv), here on
// Node, where the addon would otherwise pick the uv_poll loop.
import { behaviourSuite, targetFor } from '@poll/behaviour';
import { expect, it } from 'vitest';
import { backend, loops } from '@poll/linux/backend';

it('on Node the addon picks the uv_poll loop and offers the other two', () => {
  expect(backend.loop).toBe('uv');
  expect(Object.keys(loops).sort()).toEqual(['napi', 'thread', 'uv']);
});

behaviourSuite(await targetFor('epoll on the Node-API loop (threadsafe function)', './fixtures/napi-poller.mjs', import.meta.url));
