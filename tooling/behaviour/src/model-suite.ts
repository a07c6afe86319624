import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Backend } from '@poll/core';
import { plantBug, pollerWith, runSequence, type SequenceResult } from './model.js';
import { canWatchEdge, type Target } from './target.js';

// pnpm test runs a fixed seed set; `pnpm soak` runs many more from a random first seed
// (POLL_MODEL_SEQUENCES, POLL_MODEL_SEED=<n>|random). A failure prints its seed and steps, and
// POLL_MODEL_SEED=<that seed> POLL_MODEL_SEQUENCES=1 replays it.
const count = Number(process.env.POLL_MODEL_SEQUENCES ?? 2000);
const first = process.env.POLL_MODEL_SEED === 'random' ? Math.floor(Math.random() * 2 ** 31) : Number(process.env.POLL_MODEL_SEED ?? 1);

function report(results: SequenceResult[]): string[] {
  return results.map((r) => `seed ${r.seed}:\n  ${r.violations.join('\n  ')}\n  steps: ${r.steps.join(' | ')}`);
}

export function model(target: Target): void {
  describe('the contract under random sequences (model-based)', () => {
    // Rebuilds are part of the sequences; their warnings are expected, not news.
    beforeAll(() => {
      vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    });
    afterAll(() => vi.restoreAllMocks());

    it(`${count} seeded sequences (from seed ${first}) keep every rule`, { timeout: Math.max(120_000, count * 400) }, async () => {
      const known = target.modelDeviations ?? [];
      const failed: SequenceResult[] = [];
      const deviations = known.map(() => [] as number[]);
      const started = Date.now();
      for (let seed = first; seed < first + count && failed.length < 3; seed++) {
        const result = await runSequence(() => new target.Poller(), seed, { edge: canWatchEdge(target) });
        if (result.violations.length === 0) continue;
        const which = result.violations.map((v) => known.findIndex((d) => d.violation.test(v)));
        if (which.includes(-1)) failed.push(result);
        else for (const i of new Set(which)) deviations[i]!.push(seed);
      }
      if (process.env.POLL_MODEL_SEQUENCES) console.log(`model: ${count} sequences from seed ${first} in ${((Date.now() - started) / 1000).toFixed(1)}s`);
      known.forEach((d, i) => {
        if (deviations[i]!.length) console.log(`model: ${deviations[i]!.length} sequence(s) met a known deviation of this target (seeds ${deviations[i]!.join(' ')}): ${d.reason}`);
      });
      expect(report(failed)).toEqual([]);
    });

    // Negative controls: the same sequences against a backend with a bug planted in it.
    // (The edge one only where edge-triggered watching is offered.)
    const planted = [
      ['ignores oneshot', 'ignore-oneshot', /oneshot event .* while disarmed/],
      ['ignores edge (reports level)', 'ignore-edge', /edge event .* with nothing new/],
    ] as const;
    it.each(planted.filter(([, bug]) => bug !== 'ignore-edge' || canWatchEdge(target)))('catches a planted bug: a backend that %s', async (_what, bug, expected) => {
      const make = pollerWith(plantBug(target.backend as Backend, bug));
      const seen: string[] = [];
      for (let seed = 1; seed <= 200 && seen.length === 0; seed++) seen.push(...(await runSequence(make, seed, { edge: canWatchEdge(target) })).violations);
      expect(seen.join('\n')).toMatch(expected);
    });
  });
}
