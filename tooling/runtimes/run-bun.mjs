// The behaviour suite on Bun: vitest run by Bun itself, its report beside the other packages'.
// The model-based test runs 500 sequences there (2000 on Node).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bun } from './index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
if (!bun) {
  console.error('run-bun: @oven/bun-linux-x64 is not installed (pnpm install on linux-x64 installs it)');
  process.exit(1);
}
const vitest = path.join(here, '..', '..', 'node_modules', 'vitest', 'vitest.mjs'); // the workspace's own
const result = spawnSync(
  bun,
  ['--bun', vitest, 'run', 'bun/', '--reporter=default', '--reporter=json', '--outputFile.json=../../.test-results/poll-on-bun.json'],
  { cwd: here, stdio: 'inherit', env: { ...process.env, POLL_MODEL_SEQUENCES: process.env.POLL_MODEL_SEQUENCES ?? '500' } },
);
process.exit(result.status ?? 1);
