'use strict';
// The kqueue backend as core expects it. CommonJS so that @poll/poller can require() it.
// `exports.backend =` (not `module.exports =`) so that Node's CommonJS lexer sees the name and
// `import { backend } from '@poll/bsd/backend'` works from ESM too.
exports.backend = require('@poll/core/load-backend')({
  pkg: '@poll/bsd',
  dir: __dirname,
  load: require('node-gyp-build'),
  name: 'kqueue',
  className: 'Kqueue',
  platforms: ['darwin', 'freebsd', 'openbsd', 'netbsd'],
  serves: 'macOS, FreeBSD, OpenBSD and NetBSD',
  instead: process.platform === 'linux' ? 'On Linux use @poll/linux.' : undefined,
}).backend;
