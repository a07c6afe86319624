// pnpm test here: a user's program on Bun and on Deno (vitest on Node, test/), then the
// behaviour suite run by each of them (run-on.mjs). Their npm packages in this workspace are the
// linux-x64 builds; elsewhere this says so and tests nothing.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.log(`@poll/runtimes: Bun and Deno are tested on linux-x64 (their packages here are that build); skipped on ${process.platform}-${process.arch}`);
  process.exit(0);
}
const vitest = path.join(here, '..', '..', 'node_modules', 'vitest', 'vitest.mjs');
const steps = [
  [process.execPath, [vitest, 'run', 'test/', '--reporter=default', '--reporter=json', '--outputFile.json=../../.test-results/poll-runtimes.json']],
  [process.execPath, ['run-on.mjs', 'bun']],
  [process.execPath, ['run-on.mjs', 'deno']],
];
let status = 0;
for (const [cmd, args] of steps) {
  const r = spawnSync(cmd, args, { cwd: here, stdio: 'inherit' });
  if (r.status !== 0) status = r.status ?? 1;
}
process.exit(status);
