'use strict';
// The epoll backend as core expects it. CommonJS so that @poll/poller can require() it.
// `exports.backend =` (not `module.exports =`) so that Node's CommonJS lexer sees the name and
// `import { backend } from '@poll/linux/backend'` works from ESM too.
const loaded = require('@poll/core/load-backend')({
  pkg: '@poll/linux',
  dir: __dirname,
  load: require('node-gyp-build'),
  name: 'epoll',
  className: 'Epoll',
  platforms: ['linux', 'android'],
  serves: 'Linux',
  registeredFiles: require('./registered-files.cjs'),
});
exports.backend = loaded.backend;
// The same backend on every loop this runtime can run, for tests and benchmarks that compare them.
exports.loops = loaded.loops;
