// A worker terminated at any instant never takes the process down. After terminate(), Node-API
// calls that would run JavaScript fail; every native entry point must then end quietly, and the
// environment's teardown must still close the poller's descriptor and join its waiter thread.
//
// Deterministic: a probed build of this addon (native/probed.mjs: the same sources with
// POLL_TEARDOWN_PROBE) holds the worker inside one named entry point until the main thread has
// called terminate(), for each entry point on each loop. The control shows that this state is
// one where node-addon-api's own error path aborts the process, as poll's entry points did.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { runNode } from '@poll/testkit';
import { ensureProbed } from './native/probed.mjs';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
beforeAll(() => ensureProbed(), 300_000);

const probe = (loop: string, where: string) => runNode(path.join(fixtures, 'teardown.mjs'), [loop, where], { timeout: 20_000 });

// Entry points reached through a poller, then the descriptor I/O functions (no poller).
const withPoller = ['fd', 'add', 'add-throws', 'modify', 'remove', 'ref', 'unref', 'pin', 'close', 'deliver', 'teardown', 'finalize'];
const withoutPoller = ['constructor', 'io.read', 'io.write', 'io.setNonblock', 'io.shutdown', 'io.strerror'];

describe('a worker terminated inside a native entry point', { timeout: 60_000 }, () => {
  for (const loop of ['uv', 'thread', 'napi']) {
    describe(`on the ${loop} loop`, () => {
      const points = [...withPoller, ...withoutPoller, ...(loop === 'uv' ? [] : ['fail'])];
      it.each(points)('%s: no abort, the poller descriptor closed, no waiter thread left', async (where) => {
        const run = await probe(loop, where);
        expect(run.signal, run.stderr).toBeNull();
        expect(run.json, run.stderr).toMatchObject({ reached: true, exitCode: 1, pollerOpen: false, waiters: 0 });
        if (withPoller.includes(where)) {
          // The control for both checks: while the worker was held, they saw its poller (and
          // its waiter thread, on the waiter loops).
          expect(run.json).toMatchObject({ pollerFdSeen: true, openAtCue: true, waitersAtCue: loop === 'uv' ? 0 : 1 });
        }
        if (where === 'fail') expect(run.json.pollerFdSeen).toBe(true);
      });
    });
  }

  it('the control: node-addon-api coercing an argument in that state aborts the whole process', async () => {
    const run = await probe('uv', 'control');
    expect(run.json).toBeUndefined();
    expect(run.signal ?? run.code).not.toBe(0);
    expect(run.stderr).toMatch(/FATAL ERROR: Error::New napi_get_last_error_info/);
  });
});

describe('workers terminated while they churn watches (pinning and unpinning the callback)', { timeout: 120_000 }, () => {
  it.each(['uv', 'thread', 'napi'])('%s loop: 200 workers terminated a few ms after start, the process survives', async (loop) => {
    const run = await runNode(path.join(fixtures, 'pin-churn.mjs'), [loop, '200'], { timeout: 110_000 });
    expect(run.signal, run.stderr).toBeNull();
    expect(run.json, run.stderr).toEqual({ terminated: 200 });
  });
});
