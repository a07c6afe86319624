// Before `pnpm demo`: builds what the demo loads (@poll/core, @poll/linux or @poll/bsd,
// @poll/poller; not the test helpers) only when a source is newer than what was built from it,
// so a second `pnpm demo` starts at once.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const backend = process.platform === 'linux' ? 'linux' : 'bsd';
const at = (...parts) => path.join(root, ...parts);

function newest(dir, test) {
  let latest = 0;
  if (!fs.existsSync(dir)) return latest;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) latest = Math.max(latest, newest(file, test));
    else if (test(entry.name)) latest = Math.max(latest, fs.statSync(file).mtimeMs);
  }
  return latest;
}
const mtime = (file) => (fs.existsSync(file) ? fs.statSync(file).mtimeMs : 0);

const outputs = [
  at('packages', 'core', 'dist', 'index.js'),
  at('packages', backend, 'dist', 'index.js'),
  at('packages', 'poller', 'dist', 'index.js'),
  at('packages', backend, 'native', 'build', 'Release', `poll_${backend}.node`),
];
const sources = Math.max(
  ...['core', backend, 'poller'].map((pkg) => newest(at('packages', pkg, 'src'), (f) => f.endsWith('.ts'))),
  newest(at('packages', backend, 'native', 'src'), () => true),
  newest(at('tooling', 'native', 'include'), () => true),
  mtime(at('packages', backend, 'native', 'binding.gyp')),
);
const built = Math.min(...outputs.map(mtime));
if (built > sources) process.exit(0);

console.log(built === 0 ? 'demo: building poll (first run)…' : 'demo: sources changed since the last build; rebuilding…');
const filters = ['core', backend, 'poller'].flatMap((pkg) => ['--filter', `@poll/${pkg}`]);
const result = spawnSync('pnpm', [...filters, '--reporter=silent', 'run', 'build'], { cwd: root, stdio: 'inherit' });
process.exit(result.status ?? 1);
