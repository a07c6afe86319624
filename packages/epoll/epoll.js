'use strict';
// require('epoll') for programs written against the `epoll` package: alias it to this one
// ("epoll": "npm:@poll/epoll@…") and `const { Epoll } = require('epoll')` keeps working.
let poller;
try {
  // An ES module, loaded with require(): Node 20.19 and later.
  poller = require('@poll/poller');
} catch (err) {
  if (err.code !== 'ERR_REQUIRE_ESM') throw err;
  const tooOld = new Error(`@poll/epoll needs a Node.js that can require() an ES module: 20.19 or newer, or 22.12 or newer on 22; this is ${process.version}`, { cause: err });
  tooOld.code = 'ERR_POLL_NODE_TOO_OLD';
  throw tooOld;
}
const { epollClass } = require('./lib/epoll-class.js');

exports.Epoll = epollClass(poller.Poller, poller.backend);
