'use strict';
// require('epoll') for programs written against the `epoll` package: alias it to this one
// ("epoll": "npm:@poll/epoll@…") and `const { Epoll } = require('epoll')` keeps working.
const { Poller, backend } = require('@poll/poller');
const { epollClass } = require('./lib/epoll-class.js');

exports.Epoll = epollClass(Poller, backend);
