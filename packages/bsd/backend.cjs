'use strict';
// The kqueue backend as core expects it. CommonJS so that @poll/poller can require() it.
// `exports.backend =` (not `module.exports =`) so that Node's CommonJS lexer sees the name and
// `import { backend } from '@poll/bsd/backend'` works from ESM too.
// Where it runs is npm's own list of where it installs: package.json's "os" (under publishConfig
// in the workspace, so that it installs everywhere for development; top-level once packed).
const platforms = (pkg) => pkg.os ?? pkg.publishConfig.os;
const loaded = require('@poll/core/load-backend')({
  pkg: '@poll/bsd',
  dir: __dirname,
  load: require('node-gyp-build'),
  name: 'kqueue',
  className: 'Kqueue',
  platforms: platforms(require('./package.json')),
  serves: 'macOS, FreeBSD, OpenBSD and NetBSD',
  instead: process.platform === 'linux' ? 'On Linux use @poll/linux.' : undefined,
});
exports.backend = loaded.backend;
// The same backend on every loop this runtime can run, for tests and benchmarks that compare them.
exports.loops = loaded.loops;
