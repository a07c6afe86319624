// One behaviour suite for every backend. A package's test file calls behaviourSuite() with the
// Poller it ships; what differs between kernels is asked of `target`, never assumed.
import { describe } from 'vitest';
import type { Target } from './target.js';
import { inheritance } from './inheritance.js';
import { modes } from './modes.js';
import { badInput } from './errors.js';
import { promises } from './promises.js';
import { lifetime } from './lifetime.js';
import { workers } from './workers.js';
import { model } from './model-suite.js';
import { streams } from './streams.js';

export type { Target } from './target.js';
export { recorder, settle, targetFor } from './target.js';

export function behaviourSuite(target: Target): void {
  // Child processes and workers start slowly on a loaded 2-core machine: a generous deadline
  // for hangs, not a speed check.
  describe(target.label, { timeout: 30_000 }, () => {
    inheritance(target);
    modes(target);
    badInput(target);
    promises(target);
    lifetime(target);
    workers(target);
    streams(target);
    model(target);
  });
}
