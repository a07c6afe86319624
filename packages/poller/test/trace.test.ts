// NODE_DEBUG=poll: what a poller does, one line each on stderr; nothing without it.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const demo = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'trace-demo.mjs');
const run = (env: Record<string, string>) => {
  const { NODE_DEBUG: _, ...rest } = process.env;
  return spawnSync(process.execPath, [demo], { env: { ...rest, ...env }, encoding: 'utf8', timeout: 30000 });
};

describe('the debug trace', () => {
  it('NODE_DEBUG=poll shows each step: made, added, the batch, modified, removed, closed', () => {
    const r = run({ NODE_DEBUG: 'poll' });
    expect(r.status).toBe(0);
    const lines = r.stderr.trim().split('\n').map((l) => l.replace(/^POLL \d+: /, '').replace(/\b\d+\b/g, 'N').replace(/\((epoll|kqueue), loop (uv|thread|napi)/, '(BACKEND, loop LOOP'));
    expect(lines).toEqual([
      'poller N: made (BACKEND, loop LOOP, N events per wait)',
      'poller N: fd N added (readable|edge, token N)',
      'poller N: batch N, N event(s)',
      'poller N: fd N modified (readable|oneshot, token N)',
      'poller N: fd N removed',
      'poller N: closed, ending N watch(es) and N stream(s)',
    ]);
  });

  it('is silent without it (and with another section named)', () => {
    for (const env of [{}, { NODE_DEBUG: 'net' }]) {
      const r = run(env);
      expect(r.status).toBe(0);
      expect(r.stderr.split('\n').filter((l) => l.startsWith('POLL'))).toEqual([]);
    }
  });
});
