// @poll/bsd's kqueue backend as built here against libkqueue (build.mjs), through the same
// loader @poll/bsd uses, told that Linux is where this build runs and where to find it.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pollerClass } from '@poll/core';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));

/** The backend in build/`file`; `withhold`: interest bits it must not offer. */
export function harnessBackend(file, label, withhold = 0) {
  const loaded = require('@poll/core/load-backend')({
    pkg: `@poll/bsd (${label})`,
    dir: here,
    load: () => require(path.join(here, 'build', file)),
    name: 'kqueue',
    className: 'Kqueue',
    platforms: ['linux'],
    serves: `Linux, ${label}, for tests`,
  });
  const offer = (b) => (withhold === 0 ? b : Object.freeze({ ...b, supported: b.supported & ~withhold }));
  const backend = offer(loaded.backend);
  const loops = Object.freeze(Object.fromEntries(Object.entries(loaded.loops).map(([k, b]) => [k, b === loaded.backend ? backend : offer(b)])));
  return { backend, loops, Poller: pollerClass(backend) };
}
