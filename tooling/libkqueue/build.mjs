// Builds the kqueue harness for Linux: libkqueue (a userspace kqueue, vendor/, BSD licence)
// twice, as it comes (build/prefix-orig) and with patches/ applied in order (build/prefix),
// each with cmake; @poll/bsd's addon, from the package's own sources, against the patched one
// (build/poll_bsd.node); and the probe programs (probes/*.c) against both. Linux only; needs
// cmake, make and a C/C++ compiler (.ci/run installs cmake). Nothing here is published.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findNodedir } from '@poll/build-native/lib';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const build = path.join(here, 'build');

if (process.platform !== 'linux') {
  console.log('libkqueue harness: the kqueue backend runs on real kqueue here; nothing to build');
  process.exit(0);
}
if (spawnSync('cmake', ['--version']).status !== 0) {
  console.error('libkqueue harness: needs cmake (Debian: apt-get install cmake)');
  process.exit(1);
}

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...options });
  if (r.status !== 0) {
    console.error(`libkqueue harness: ${cmd} ${args.join(' ')} failed:\n${r.stdout ?? ''}${r.stderr ?? ''}${r.error ?? ''}`);
    process.exit(1);
  }
  return r.stdout;
}

const tarball = fs.readdirSync(path.join(here, 'vendor')).find((f) => f.endsWith('.tar.gz'));
const patches = fs.readdirSync(path.join(here, 'patches')).filter((f) => f.endsWith('.patch')).sort();
// Rebuilt only when the tarball or a patch changes (a stamp of their names and sizes).
const stamp = JSON.stringify([tarball, ...patches.map((p) => [p, fs.statSync(path.join(here, 'patches', p)).size])]);
const stampFile = path.join(build, 'libkqueue.stamp');
if (!fs.existsSync(stampFile) || fs.readFileSync(stampFile, 'utf8') !== stamp) {
  fs.rmSync(build, { recursive: true, force: true });
  for (const [name, apply] of [['orig', []], ['patched', patches]]) {
    const src = path.join(build, `src-${name}`);
    fs.mkdirSync(src, { recursive: true });
    run('tar', ['xzf', path.join(here, 'vendor', tarball), '-C', src]);
    const tree = path.join(src, 'libkqueue');
    for (const p of apply) run('patch', ['-p1', '--quiet', '-i', path.join(here, 'patches', p)], { cwd: tree });
    const prefix = path.join(build, name === 'orig' ? 'prefix-orig' : 'prefix');
    // The prefix at configure time: `cmake --install --prefix` does not move libkqueue's paths.
    run('cmake', ['-S', tree, '-B', path.join(src, 'build'), '-DCMAKE_BUILD_TYPE=Release', `-DCMAKE_INSTALL_PREFIX=${prefix}`, '-DENABLE_TESTING=NO']);
    run('cmake', ['--build', path.join(src, 'build'), '-j2']);
    run('cmake', ['--install', path.join(src, 'build')]);
  }
  fs.writeFileSync(stampFile, stamp);
}

const libDir = (prefix) => ['lib', 'lib64'].map((d) => path.join(prefix, d)).find((d) => fs.existsSync(path.join(d, 'libkqueue.so')));
const prefixes = { orig: path.join(build, 'prefix-orig'), patched: path.join(build, 'prefix') };
const link = (prefix) => [`-I${path.join(prefix, 'include', 'kqueue')}`, `-L${libDir(prefix)}`, `-Wl,-rpath,${libDir(prefix)}`];

// The addon, from @poll/bsd's own sources and the shared headers, as its binding.gyp builds it;
// and again with refuse/refuse.c in front of its kevent() calls (-Wl,--wrap), a kqueue that
// refuses chosen descriptors as macOS refuses some devices (build/poll_bsd_refusing.node).
const bsdNative = path.join(path.dirname(require.resolve('@poll/bsd/package.json')), 'native');
const refuse = path.join(build, 'refuse.o');
run(process.env.CC ?? 'cc', ['-Wall', '-Wextra', '-Werror', '-O2', '-fPIC', `-I${path.join(prefixes.patched, 'include', 'kqueue')}`, '-c', path.join(here, 'refuse', 'refuse.c'), '-o', refuse]);
// CXXFLAGS and LDFLAGS from the environment are added, as node-gyp adds them (pnpm sanitize).
const envFlags = ['CXXFLAGS', 'LDFLAGS'].flatMap((v) => (process.env[v] ?? '').split(/\s+/).filter(Boolean));
for (const [out, extra] of [['poll_bsd.node', []], ['poll_bsd_refusing.node', ['-Wl,--wrap=kevent', refuse]]]) run(process.env.CXX ?? 'g++', [
  '-std=c++17', '-Wall', '-Wextra', '-Werror', '-O2', '-g', '-shared', '-fPIC',
  '-DNAPI_VERSION=8', '-DNAPI_DISABLE_CPP_EXCEPTIONS', '-DNODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS', '-DNODE_ADDON_API_DISABLE_DEPRECATED',
  `-I${path.join(findNodedir(), 'include', 'node')}`,
  `-I${path.dirname(require.resolve('node-addon-api/package.json'))}`,
  `-I${require('@poll/native-glue').include_dir}`,
  ...link(prefixes.patched),
  path.join(bsdNative, 'src', 'addon.cc'),
  ...extra,
  ...envFlags,
  '-o', path.join(build, out),
  '-lkqueue', '-lpthread', '-ldl',
]);

// The probes, against libkqueue as it comes and as patched.
for (const [name, prefix] of Object.entries(prefixes)) {
  const out = path.join(build, 'probes', name);
  fs.mkdirSync(out, { recursive: true });
  for (const c of fs.readdirSync(path.join(here, 'probes')).filter((f) => f.endsWith('.c'))) {
    run(process.env.CC ?? 'cc', ['-Wall', '-O1', ...link(prefix), path.join(here, 'probes', c), '-o', path.join(out, c.replace(/\.c$/, '')), '-lkqueue', '-lpthread']);
  }
}
console.log('libkqueue harness: built libkqueue (as it comes, and patched), @poll/bsd against it, and the probes');
