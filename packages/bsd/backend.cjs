'use strict';
// The kqueue backend as core expects it. CommonJS so that @poll/poller can require() it.
const PLATFORMS = ['darwin', 'freebsd', 'openbsd', 'netbsd'];
if (!PLATFORMS.includes(process.platform)) {
  const err = new Error(
    `@poll/bsd is the kqueue backend for macOS, FreeBSD, OpenBSD and NetBSD; this is ${process.platform}. ` +
      (process.platform === 'linux' ? 'On Linux use @poll/linux, or ' : '') +
      'install @poll/poller, which picks the backend for the platform it runs on.',
  );
  err.code = 'ERR_POLL_NO_BACKEND';
  throw err;
}

let binding;
try {
  binding = require('node-gyp-build')(__dirname);
} catch (cause) {
  const err = new Error(
    `@poll/bsd has no prebuilt binary for ${process.platform}-${process.arch} and none was built ` +
      'from source. Build it from a checkout of the poll repository with `pnpm install && pnpm build`.',
    { cause },
  );
  err.code = 'ERR_POLL_NO_BACKEND';
  throw err;
}

exports.backend = Object.freeze({
  name: 'kqueue',
  supported: binding.supported,
  bits: binding.bits,
  create: (buffer, onBatch) => new binding.Kqueue(buffer, onBatch),
});
