import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runNode } from '@poll/testkit';

const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'lifetime.mjs');
const lines = (stdout: string) => stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));

describe('keeping the process alive', () => {
  it('exits by itself when the poller watches nothing', async () => {
    const run = await runNode(fixture, ['empty']);
    expect(run).toMatchObject({ code: 0, signal: null, json: { created: true } });
  });

  it('exits by itself when the poller is unref()\'d while watching', async () => {
    const run = await runNode(fixture, ['unref']);
    expect(run).toMatchObject({ code: 0, signal: null, json: { watching: 1, hasRef: false } });
  });

  it('stays alive while it watches (negative control for the two above)', async () => {
    const run = await runNode(fixture, ['watching'], { timeout: 1500 });
    expect(run.json).toEqual({ watching: 1 });
    expect(run.signal).toBe('SIGTERM'); // killed by the timeout, it did not exit by itself
  });

  it('exits once the last watch is removed', async () => {
    const run = await runNode(fixture, ['removed']);
    expect(run).toMatchObject({ code: 0, json: { event: true, size: 0 } });
  });
});

describe('an abandoned poller', () => {
  it('is garbage-collected and its descriptor closed when it watches nothing', async () => {
    const run = await runNode(fixture, ['abandoned'], { execArgv: ['--expose-gc'] });
    expect(run.code).toBe(0);
    expect(lines(run.stdout)).toEqual([{ open: false }]);
  });

  it('is kept, and keeps delivering, while it watches something (negative control)', async () => {
    const run = await runNode(fixture, ['abandoned', 'watching'], { execArgv: ['--expose-gc'] });
    expect(run.code).toBe(0);
    expect(lines(run.stdout)).toEqual([{ open: true }, { delivered: true }]);
  });
});

describe('exceptions thrown by callbacks', () => {
  it('reach uncaughtException; the rest of the batch and later events still arrive', async () => {
    const run = await runNode(fixture, ['throws']);
    expect(run.code).toBe(0);
    const out = lines(run.stdout);
    // The exception surfaces after the whole batch of three has been dispatched.
    expect(out[0]).toEqual({ uncaught: 'boom from callback 0', seenSoFar: 3 });
    expect(out[1]).toEqual({ seen: [0, 1, 2, 1], errors: 1, size: 3 });
  });

  it('end the process like any uncaught exception when nobody handles them', async () => {
    const run = await runNode(fixture, ['uncaught']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('nobody catches this');
  });
});
