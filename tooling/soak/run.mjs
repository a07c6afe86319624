// pnpm soak: with POLL_SOAK_MINUTES=<n>, the timed soak (soak.ts: model sequences, streams and
// worker churn on every loop, RSS and descriptors flat at the end); without it, as before, a
// long run of the model-based test alone on both of @poll/linux's suites
// (POLL_MODEL_SEQUENCES, default 50,000, from POLL_MODEL_SEED, default random).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const run = (cmd, args, options) => process.exit(spawnSync(cmd, args, { stdio: 'inherit', ...options }).status ?? 1);

if (process.env.POLL_SOAK_MINUTES) {
  run(path.join(root, 'node_modules', '.bin', 'vitest'), ['run', '--config', 'vitest.config.mjs'], { cwd: here });
}
run('pnpm', ['--filter', '@poll/poller', '--filter', '@poll/linux', 'exec', 'vitest', 'run', '-t', 'model-based'], {
  cwd: root,
  env: { ...process.env, POLL_MODEL_SEQUENCES: process.env.POLL_MODEL_SEQUENCES ?? '50000', POLL_MODEL_SEED: process.env.POLL_MODEL_SEED ?? 'random' },
});
