import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runNode } from '@poll/testkit';
import type { Target } from './target.js';

const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'lifetime.mjs');
const lines = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));

export function lifetime(target: Target): void {
  const run = (scenario: string, options?: { aliveFor?: number; execArgv?: string[] }, variant?: string) =>
    runNode(fixture, [target.module, scenario, ...(variant ? [variant] : [])], options);

  describe('keeping the process alive', () => {
    it('exits by itself when the poller watches nothing', async () => {
      expect(await run('empty')).toMatchObject({ code: 0, signal: null, json: { created: true } });
    });

    it("exits by itself when the poller is unref()'d while watching", async () => {
      expect(await run('unref')).toMatchObject({ code: 0, signal: null, json: { watching: 1, hasRef: false } });
    });

    it('stays alive while it watches (negative control for the two above)', async () => {
      const result = await run('watching', { aliveFor: 1000 });
      expect(result.json).toEqual({ watching: 1 });
      expect(result.alive).toBe(true); // still running a second after it started watching
    });

    it('exits once the last watch is removed', async () => {
      expect(await run('removed')).toMatchObject({ code: 0, json: { event: true, size: 0 } });
    });
  });

  describe('an abandoned poller', () => {
    it('is garbage-collected and its descriptor closed when it watches nothing', async () => {
      const result = await run('abandoned', { execArgv: ['--expose-gc'] });
      expect(result.code).toBe(0);
      expect(lines(result.stdout)).toEqual([{ open: false }]);
    });

    it('is kept, and keeps delivering, while it watches something (negative control)', async () => {
      const result = await run('abandoned', { execArgv: ['--expose-gc'] }, 'watching');
      expect(result.code).toBe(0);
      expect(lines(result.stdout)).toEqual([{ open: true }, { delivered: true }]);
    });
  });

  describe('exceptions thrown by callbacks', () => {
    it('reach uncaughtException; the rest of the batch and later events still arrive', async () => {
      const result = await run('throws');
      expect(result.code).toBe(0);
      const out = lines(result.stdout);
      expect(out[0]).toEqual({ uncaught: 'boom from callback 0' });
      expect(out[1]).toEqual({ seen: [0, 1, 1, 2], wholeBatchBeforeError: true, nothingLaterBeforeError: true, size: 3 });
    });

    it('end the process like any uncaught exception when nobody handles them', async () => {
      const result = await run('uncaught');
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('nobody catches this');
    });
  });
}
