'use strict';
// The epoll backend as core expects it. CommonJS so that @poll/poller can require() it.
if (process.platform !== 'linux' && process.platform !== 'android') {
  const err = new Error(
    `@poll/linux is the epoll backend for Linux; this is ${process.platform}. ` +
      'Install @poll/poller, which picks the backend for the platform it runs on.',
  );
  err.code = 'ERR_POLL_NO_BACKEND';
  throw err;
}

let binding;
try {
  binding = require('node-gyp-build')(__dirname);
} catch (cause) {
  const err = new Error(
    `@poll/linux has no prebuilt binary for ${process.platform}-${process.arch} and none was built ` +
      'from source. Build it from a checkout of the poll repository with `pnpm install && pnpm build`.',
    { cause },
  );
  err.code = 'ERR_POLL_NO_BACKEND';
  throw err;
}

exports.backend = Object.freeze({
  name: 'epoll',
  supported: binding.supported,
  bits: binding.bits,
  create: (buffer, onBatch) => new binding.Epoll(buffer, onBatch),
});
