// Builds the raw C reference the benchmark compares against. The epoll package's addon is
// built by @poll/epoll's build (a dependency, so turbo runs it first), for its side-by-side tests.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

if (process.platform !== 'linux') {
  console.log('bench: the comparison (epoll package, raw epoll) is Linux-only; skipped');
  process.exit(0);
}

function run(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

mkdirSync(path.join(here, 'native', 'build'), { recursive: true });
run('cc', ['-O2', '-Wall', '-Wextra', '-o', path.join(here, 'native', 'build', 'raw-epoll'), path.join(here, 'native', 'raw-epoll.c')], here);
