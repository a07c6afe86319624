#!/usr/bin/env node
// poll-build-native [nativeDir] [outDir] [--platforms=linux,darwin,...] [--plain]
// Runs prebuildify (N-API, stripped) in nativeDir, writing outDir/prebuilds/<platform>-<arch>/.
// Files are named node.napi.node so node-gyp-build loads them on every Node with N-API 8.
// Builds offline: node-gyp gets the headers of the running Node (or POLL_NODEDIR /
// npm_config_nodedir) instead of downloading the newest release's, which prebuildify asks for.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const flags = process.argv.slice(2).filter((a) => a.startsWith('--'));
const [nativeArg, outArg] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const nativeDir = path.resolve(nativeArg ?? 'native');
const outDir = path.resolve(outArg ?? '.');

// A backend for other kernels is not built here; say so instead of failing on missing headers.
const platforms = flags.find((f) => f.startsWith('--platforms='))?.slice('--platforms='.length).split(',');
if (platforms && !platforms.includes(process.platform)) {
  console.log(`poll-build-native: ${path.relative(process.cwd(), nativeDir) || nativeDir} builds on ${platforms.join(', ')}; skipped on ${process.platform}`);
  process.exit(0);
}

function findNodedir() {
  const candidates = [
    process.env.POLL_NODEDIR,
    process.env.npm_config_nodedir,
    path.resolve(path.dirname(process.execPath), '..'),
    '/usr',
    '/usr/local',
  ];
  for (const dir of candidates) {
    if (dir && existsSync(path.join(dir, 'include', 'node', 'node_api.h'))) return dir;
  }
  console.error(
    'poll-build-native: no Node.js headers found (looked for include/node/node_api.h under ' +
      candidates.filter(Boolean).join(', ') +
      ').\nInstall them (Debian: apt-get install libnode-dev, or use an official Node.js build) ' +
      'or set POLL_NODEDIR to a directory that has include/node/node_api.h.',
  );
  process.exit(1);
}

const nodedir = findNodedir();
const bin = (name) => path.join(here, 'node_modules', '.bin', name);

// --plain: node-gyp rebuild in nativeDir, no prebuilds (for a third-party addon such as the
// benchmark's epoll package, whose own install script would download headers).
if (flags.includes('--plain')) {
  const plain = spawnSync(bin('node-gyp'), ['rebuild', '--release'], {
    cwd: nativeDir,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, npm_config_nodedir: nodedir, npm_config_offline: 'true' },
  });
  if (plain.error) throw plain.error;
  process.exit(plain.status ?? 1);
}
const result = spawnSync(
  bin('prebuildify'),
  ['--napi', '--strip', '--name', 'node.napi', '--target', `node@${process.versions.node}`, '--cwd', nativeDir, '--out', outDir],
  {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: {
      ...process.env,
      npm_config_nodedir: nodedir,
      PREBUILD_NODE_GYP: bin('node-gyp'),
      // node-gyp must not look for a newer Python or headers on the network.
      npm_config_offline: 'true',
    },
  },
);
if (result.error) throw result.error;
process.exit(result.status ?? 1);
