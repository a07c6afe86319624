// pnpm test: builds everything and runs every package's tests through turbo, printing the full
// output of whatever failed (a build, a vitest file, a check) and nothing of what passed, then
// one table of every vitest package's counts from its JSON report (.test-results/).
//   pnpm test [-- turbo options]      e.g. pnpm test -- --filter=@poll/linux
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const results = path.join(root, '.test-results');
fs.rmSync(results, { recursive: true, force: true });
fs.mkdirSync(results);

// The one slow step that prints nothing while it works: say so before it starts.
const zigCache = process.env.ZIG_GLOBAL_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'zig');
if (process.platform === 'linux' && !fs.existsSync(zigCache)) {
  console.log('pnpm test: the first run compiles zig\'s C++ runtime for the macOS cross-check: a few minutes; later runs take seconds.');
}
const started = Date.now();
const turbo = spawnSync(
  path.join(root, 'node_modules', '.bin', 'turbo'),
  ['run', 'test', '--continue', '--output-logs=errors-only', '--log-order=grouped', ...process.argv.slice(2).filter((a) => a !== '--')],
  { cwd: root, stdio: 'inherit' },
);

const rows = [];
for (const file of fs.readdirSync(results).filter((f) => f.endsWith('.json')).sort()) {
  const report = JSON.parse(fs.readFileSync(path.join(results, file), 'utf8'));
  const seconds = Math.max(0, ...report.testResults.map((t) => t.endTime)) - report.startTime;
  rows.push({
    name: file.replace(/\.json$/, '').replace(/^poll-/, '@poll/'),
    passed: report.numPassedTests,
    // Tests that never finished (their worker crashed) count as failed, and so does a run with
    // errors outside any test (a file that failed to load): at least one.
    failed: Math.max(report.numTotalTests - report.numPassedTests - report.numPendingTests - report.numTodoTests, report.success ? 0 : 1),
    skipped: report.numPendingTests + report.numTodoTests,
    seconds: seconds / 1000,
  });
}
const total = rows.reduce((t, r) => ({ passed: t.passed + r.passed, failed: t.failed + r.failed, skipped: t.skipped + r.skipped }), { passed: 0, failed: 0, skipped: 0 });
console.log('');
for (const r of rows) {
  console.log(`  ${r.name.padEnd(16)} ${String(r.passed).padStart(4)} passed${r.failed ? `  ${r.failed} FAILED` : ''}${r.skipped ? `  ${r.skipped} skipped` : ''}  ${r.seconds.toFixed(1)}s`);
}
// .ci/run reads this line.
console.log(`vitest: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped in ${rows.length} packages; pnpm test took ${((Date.now() - started) / 1000).toFixed(0)}s`);
process.exit(turbo.status ?? 1);
