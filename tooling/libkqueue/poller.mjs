// @poll/bsd's kqueue backend, built against libkqueue (build.mjs), as a module the behaviour
// suite can import, in workers too: the same loader @poll/bsd uses, told that Linux is where
// this build runs and where to find it.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pollerClass } from '@poll/core';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const addon = path.join(here, 'build', 'poll_bsd.node');

const loaded = require('@poll/core/load-backend')({
  pkg: '@poll/bsd (on libkqueue)',
  dir: here,
  load: () => require(addon),
  name: 'kqueue',
  className: 'Kqueue',
  platforms: ['linux'],
  serves: 'Linux, through libkqueue, for tests',
});

export const backend = loaded.backend;
export const loops = loaded.loops;
export const Poller = pollerClass(backend);
