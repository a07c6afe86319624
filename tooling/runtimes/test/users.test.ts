// A user's program on Bun and on Deno, run by those runtimes from this package: the drop-in
// through require(), the close-on-exec proof through the runtime's own child_process, and the
// process's lifetime (exits by itself when nothing is watched, stays while watching, unref()).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bun, deno } from '../index.js';

const program = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'programs', 'user.mjs');

function run(argv: string[], mode: string, aliveFor?: number): Promise<{ code: number | null; killed: boolean; json: any; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, [...argv.slice(1), program, mode], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000 });
    let out = '';
    let err = '';
    let killed = false;
    child.stdout.setEncoding('utf8').on('data', (c) => {
      out += c;
      if (aliveFor !== undefined && out.includes('\n')) {
        setTimeout(() => {
          killed = child.exitCode === null;
          child.kill('SIGTERM');
        }, aliveFor);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (c) => (err += c));
    child.on('error', reject);
    child.on('close', (code) => {
      let json;
      try {
        json = JSON.parse(out.trim().split('\n')[0] ?? '');
      } catch {}
      resolve({ code, killed, json, stderr: err });
    });
  });
}

for (const [name, binary, argv] of [
  ['Bun', bun, [bun!]],
  ['Deno', deno, [deno!, 'run', '-A']],
] as const) {
  describe(`a user's program on ${name}`, { timeout: 30_000 }, () => {
    it('the runtime is installed from the npm registry by this package', () => {
      expect(binary).toBeDefined();
    });

    it('runs on the Node-API loop; require("@poll/epoll") works; a spawned child holds the control descriptor and not the poller\'s', async () => {
      const r = await run([...argv], 'main');
      expect(r.json, r.stderr).toEqual({
        loop: 'napi',
        epoll: { err: null, fd: true, events: 1 },
        child: { control: true, poller: false, pollerFd: true },
      });
    });

    it('exits by itself when nothing is watched, stays while watching (the control), exits after unref()', async () => {
      const exits = await run([...argv], 'exits', 3000);
      expect(exits, exits.stderr).toMatchObject({ code: 0, killed: false });
      const stays = await run([...argv], 'stays', 1000);
      expect(stays.killed, stays.stderr).toBe(true);
      const unref = await run([...argv], 'unref', 3000);
      expect(unref, unref.stderr).toMatchObject({ code: 0, killed: false });
    });
  });
}
