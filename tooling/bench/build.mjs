// Builds what the benchmark compares against: the epoll package's addon (offline, against the
// local Node headers; its own install script would download them) and the raw C reference.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

if (process.platform !== 'linux') {
  console.log('bench: the comparison (epoll package, raw epoll) is Linux-only; skipped');
  process.exit(0);
}

function run(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const epollDir = path.dirname(require.resolve('epoll/package.json'));
run(path.join(here, 'node_modules', '.bin', 'poll-build-native'), [epollDir], here);
mkdirSync(path.join(here, 'native', 'build'), { recursive: true });
run('cc', ['-O2', '-Wall', '-Wextra', '-o', path.join(here, 'native', 'build', 'raw-epoll'), path.join(here, 'native', 'raw-epoll.c')], here);
