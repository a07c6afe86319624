// Builds the `epoll` package (4.0.2, a dev dependency) that the compatibility tests run side by
// side with ours: offline, against the local Node headers (its own install script would
// download them, and pnpm does not run it). Linux only: it is a Linux-only package.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
if (process.platform !== 'linux') {
  console.log('@poll/epoll: the epoll package builds on Linux only; the side-by-side tests run there');
  process.exit(0);
}
const dir = path.dirname(createRequire(import.meta.url).resolve('epoll/package.json'));
// Its addon is built against this Node's ABI (nan, not Node-API): rebuilt when Node changes.
const stamp = path.join(dir, 'build', `node-${process.versions.modules}`);
if (existsSync(path.join(dir, 'build', 'Release', 'epoll.node')) && existsSync(stamp)) process.exit(0);
const r = spawnSync(path.join(here, '..', 'node_modules', '.bin', 'poll-build-native'), [dir], { stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status ?? 1);
spawnSync('touch', [stamp]);
