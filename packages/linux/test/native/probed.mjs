// @poll/linux's addon built with the teardown probe (src/teardown-probe.h): the same sources
// (native/src, and the shared headers the package build copies to native/include) with
// POLL_TEARDOWN_PROBE, so that teardown.test.ts can make a worker's terminate() land inside a
// chosen native entry point. Test-only: built here into build/, outside the published files.
//
//   node test/native/probed.mjs    builds it now, with CXXFLAGS and LDFLAGS as given (pnpm
//                                  sanitize asan builds it with the sanitizers this way)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const pkg = path.resolve(here, '..', '..');

/** The probed addon: `armProbe(where, fd)`, `control(value)`, and the backend on every loop. */
export const probedAddonPath = path.join(here, 'build', 'Release', 'poll_probed.node');

const sources = () =>
  [path.join(here, 'binding.gyp'), path.join(here, 'src'), path.join(pkg, 'native', 'src'), path.join(pkg, 'native', 'include', 'poll')]
    .filter((p) => fs.existsSync(p))
    .flatMap((p) => (fs.statSync(p).isDirectory() ? fs.readdirSync(p).map((f) => path.join(p, f)) : [p]));

export function buildProbed({ quiet = false } = {}) {
  if (!fs.existsSync(path.join(pkg, 'native', 'include', 'poll'))) {
    throw new Error('the probed addon needs native/include/poll, which @poll/linux\'s build copies there: run `pnpm --filter @poll/linux build` first');
  }
  const r = spawnSync(path.join(pkg, 'node_modules', '.bin', 'poll-build-native'), [here], {
    cwd: pkg,
    encoding: 'utf8',
    stdio: ['ignore', quiet ? 'pipe' : 'inherit', quiet ? 'pipe' : 'inherit'],
  });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`building the probed addon failed (${r.status}):\n${r.stdout ?? ''}${r.stderr ?? ''}`);
}

const stale = () => {
  const built = fs.existsSync(probedAddonPath) ? fs.statSync(probedAddonPath).mtimeMs : -1;
  return built < 0 || sources().some((f) => fs.statSync(f).mtimeMs > built);
};

// node-gyp rebuilds in place (build/ removed, remade): two test runs at once must not build
// together. mkdir is the lock; one left by a run that died is taken over after ten minutes.
function exclusively(fn) {
  const lock = path.join(here, '.build.lock');
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      try {
        if (Date.now() - fs.statSync(lock).mtimeMs > 600_000) fs.rmdirSync(lock);
      } catch {}
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  try {
    return fn();
  } finally {
    fs.rmdirSync(lock);
  }
}

/** Builds it unless the build is newer than everything it is made of. */
export function ensureProbed() {
  if (stale()) exclusively(() => stale() && buildProbed({ quiet: true }));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) exclusively(() => buildProbed());
