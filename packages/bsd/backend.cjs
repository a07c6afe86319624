'use strict';
// The kqueue backend as core expects it. CommonJS so that @poll/poller can require() it.
module.exports = require('@poll/core/load-backend')({
  pkg: '@poll/bsd',
  dir: __dirname,
  load: require('node-gyp-build'),
  name: 'kqueue',
  className: 'Kqueue',
  platforms: ['darwin', 'freebsd', 'openbsd', 'netbsd'],
  serves: 'macOS, FreeBSD, OpenBSD and NetBSD',
  instead: process.platform === 'linux' ? 'On Linux use @poll/linux.' : undefined,
});
