// pnpm release:source-build [--packs=DIR]
// The path of a user for whom no prebuilt binary matches (musl, armv6, the BSDs without one):
// @poll/linux packed without its prebuilds/ and installed in a fresh project must fail on
// import with ERR_POLL_NO_BACKEND naming one command; that command, run as printed, builds the
// addon inside the installed package from the files the tarball carries; then the smoke
// program passes on the freshly built binary.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findNodedir } from '@poll/build-native/lib';
import { freshProject, packs, run } from './lib.mjs';
import { smoke } from './test-packed.mjs';

const arg = (name) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const tarballs = packs(arg('packs'));

// The Linux tarball as published, minus its binaries.
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'poll-nobin-'));
run('tar', ['xzf', tarballs['@poll/linux'], '-C', work], { quiet: true });
fs.rmSync(path.join(work, 'package', 'prebuilds'), { recursive: true, force: true });
const stripped = path.join(work, 'poll-linux-without-prebuilds.tgz');
run('tar', ['czf', stripped, '-C', work, 'package'], { quiet: true });

const project = freshProject('source');
run('npm', ['install', '--no-audit', '--no-fund', tarballs['@poll/core'], stripped, tarballs['@poll/poller']], { cwd: project, quiet: true });

const runtime = { node: process.execPath, binary: 'native/build/Release/poll_linux.node' };
let message;
try {
  smoke(project, runtime);
} catch (err) {
  message = err.message;
}
const command = message?.match(/ERR_POLL_NO_BACKEND|no prebuilt binary/) && message.match(/^\s+(npx --yes node-gyp@\d+ rebuild --directory (?:"[^"]+"|\S+))\s*$/m)?.[1];
if (!command) {
  console.error(`release:source-build: without prebuilds the import should fail with ERR_POLL_NO_BACKEND naming the build command; got:\n${message ?? 'success'}`);
  process.exit(1);
}
console.log(`release:source-build: without prebuilds, the import fails and says to run\n    ${command}`);

// Run it as printed. node-gyp would download Node's headers; this machine is offline, so it is
// pointed at the local ones (the same as a user passing --nodedir).
const started = Date.now();
const [cmd, ...args] = command.match(/"[^"]+"|\S+/g).map((word) => word.replace(/^"|"$/g, ''));
run(cmd, args, { cwd: project, env: { ...process.env, npm_config_nodedir: findNodedir(), npm_config_loglevel: 'error' }, quiet: true });
console.log(`release:source-build: built in the installed package in ${((Date.now() - started) / 1000).toFixed(1)}s`);

const { out } = smoke(project, runtime);
console.log(out.trimEnd().replace(/^/gm, '    '));
fs.rmSync(project, { recursive: true, force: true });
fs.rmSync(work, { recursive: true, force: true });
