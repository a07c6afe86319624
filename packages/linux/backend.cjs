'use strict';
// The epoll backend as core expects it. CommonJS so that @poll/poller can require() it.
module.exports = require('@poll/core/load-backend')({
  pkg: '@poll/linux',
  dir: __dirname,
  load: require('node-gyp-build'),
  name: 'epoll',
  className: 'Epoll',
  platforms: ['linux', 'android'],
  serves: 'Linux',
});
