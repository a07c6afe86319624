// pnpm test's run of the behaviour suite on another runtime: vitest run by that runtime itself
// (`bun --bun`, `deno run -A`), its report written beside the other packages' so that pnpm test
// counts it. The model-based test runs 500 sequences there (2000 on Node).
//   node run-on.mjs bun|deno
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bun, deno } from './index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const name = process.argv[2];
const binary = { bun, deno }[name];
if (binary === undefined) {
  console.error(`run-on: ${name === 'bun' || name === 'deno' ? `the ${name} package from the npm registry is not installed (pnpm install on linux-x64 installs it)` : 'usage: node run-on.mjs bun|deno'}`);
  process.exit(1);
}
const vitest = path.join(here, '..', '..', 'node_modules', 'vitest', 'vitest.mjs'); // the workspace's own
const report = ['run', `${name}/`, '--reporter=default', '--reporter=json', `--outputFile.json=../../.test-results/poll-on-${name}.json`];
const args = name === 'bun' ? ['--bun', vitest, ...report] : ['run', '-A', vitest, ...report];
const result = spawnSync(binary, args, {
  cwd: here,
  stdio: 'inherit',
  env: { ...process.env, POLL_MODEL_SEQUENCES: process.env.POLL_MODEL_SEQUENCES ?? '500' },
});
process.exit(result.status ?? 1);
