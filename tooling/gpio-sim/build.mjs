// Builds gpio-sim against libfuse3 (Debian: libfuse3-dev, fuse3, pkg-config). Linux only.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
if (process.platform !== 'linux') {
  console.log('gpio-sim: FUSE sysfs GPIOs are for Linux; not built here');
  process.exit(0);
}
const flags = spawnSync('pkg-config', ['--cflags', '--libs', 'fuse3'], { encoding: 'utf8' });
if (flags.status !== 0) {
  console.error('gpio-sim needs libfuse3 and pkg-config to build: apt-get install libfuse3-dev fuse3 pkg-config');
  process.exit(1);
}
mkdirSync(path.join(here, 'build'), { recursive: true });
const out = path.join(here, 'build', 'gpio-sim');
const args = ['-O2', '-Wall', '-Wextra', '-Werror', '-o', out, path.join(here, 'src', 'gpio-sim.c'), ...flags.stdout.trim().split(/\s+/)];
const r = spawnSync(process.env.CC ?? 'cc', args, { stdio: 'inherit' });
process.exit(r.status ?? 1);
