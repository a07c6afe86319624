#!/usr/bin/env node
// poll-build-native [nativeDir] [--platforms=linux,darwin,...] [--glue] [--werror]
// Builds an addon from source with node-gyp in nativeDir (into nativeDir/build/Release), offline,
// against the headers of the running Node. This is the same build a user runs in an installed
// package when no prebuilt binary matches (see @poll/core/load-backend.cjs), so the workspace
// exercises that path on every `pnpm build`. Release binaries for every target come from
// `pnpm prebuilds` (tooling/cross-check/prebuilds.mjs), not from here.
// --glue: first copy the shared native headers (@poll/native-glue) into nativeDir/include, where
// the published package carries them; done on every platform, built here or not, so that any
// machine can pack every package.
// --werror: warnings fail the build. Only here: a published binding.gyp must not break a user's
// source build when a newer compiler learns a new warning.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findNodedir, syncGlue } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const flags = process.argv.slice(2).filter((a) => a.startsWith('--'));
const [nativeArg] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const nativeDir = path.resolve(nativeArg ?? 'native');

if (flags.includes('--glue')) syncGlue(nativeDir);

// A backend for other kernels is not built here; say so instead of failing on missing headers.
const platforms = flags.find((f) => f.startsWith('--platforms='))?.slice('--platforms='.length).split(',');
if (platforms && !platforms.includes(process.platform)) {
  console.log(`poll-build-native: ${path.relative(process.cwd(), nativeDir) || nativeDir} builds on ${platforms.join(', ')}; skipped on ${process.platform}`);
  process.exit(0);
}

// node-gyp needs python3, make and a C++ compiler; without them it fails with stack traces that
// blame whichever package it was building. Say once what is missing and how to get it.
const onPath = (cmd) => (process.env.PATH ?? '').split(path.delimiter).some((dir) => dir && existsSync(path.join(dir, cmd)));
const make = process.platform.includes('bsd') ? 'gmake' : 'make';
const missing = [
  ...(['python3'].filter((cmd) => !onPath(cmd) && !process.env.PYTHON && !process.env.npm_config_python)),
  ...(onPath(make) ? [] : [make]),
  ...(process.env.CXX || ['c++', 'g++', 'clang++'].some(onPath) ? [] : ['a C++ compiler (g++ or clang++)']),
];
if (missing.length > 0) {
  const how =
    process.platform === 'darwin' ? 'xcode-select --install' : process.platform.includes('bsd') ? `pkg install python3 ${make}` : 'sudo apt-get install python3 make g++ (Debian, Ubuntu)';
  let owner = nativeDir;
  try {
    owner = `${JSON.parse(readFileSync(path.join(nativeDir, '..', 'package.json'), 'utf8')).name}'s native addon`;
  } catch {}
  console.error(`poll-build-native: cannot build ${owner}: missing ${missing.join(', ')}. Install them: ${how}`);
  process.exit(1);
}

const nodedir = findNodedir();
if (!nodedir) {
  console.error(
    'poll-build-native: no Node.js headers found (include/node/node_api.h next to this node, or under /usr, /usr/local).\n' +
      'Install them (Debian: apt-get install libnode-dev, or use an official Node.js build) ' +
      'or set POLL_NODEDIR to a directory that has include/node/node_api.h.',
  );
  process.exit(1);
}

// --loglevel=warn: node-gyp's info lines (every spawn argument) are noise when all is well.
const result = spawnSync(path.join(here, 'node_modules', '.bin', 'node-gyp'), ['rebuild', '--release', '--loglevel=warn'], {
  cwd: nativeDir,
  stdio: ['ignore', 'inherit', 'inherit'],
  // node-gyp must not look for headers on the network.
  env: {
    ...process.env,
    npm_config_nodedir: nodedir,
    npm_config_offline: 'true',
    ...(flags.includes('--werror') ? { CXXFLAGS: `${process.env.CXXFLAGS ?? ''} -Werror`.trim() } : {}),
  },
});
if (result.error) throw result.error;
process.exit(result.status ?? 1);
