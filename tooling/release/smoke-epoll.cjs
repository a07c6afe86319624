// The epoll package's users after the switch: run in a fresh project where @poll/epoll is
// installed under the name `epoll`, by a program that only knows require('epoll'). It watches a
// FIFO with the original's API, checks epoll's own event bits, and shows that the poller's
// descriptor is not inherited by a child. Linux: it reads /proc.
//
//   node smoke-epoll.cjs
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

let Epoll;
try {
  ({ Epoll } = require('epoll'));
} catch (err) {
  // The registry's newest armv7 Node is 20.11, before require(esm): the error must say so.
  if (err.code === 'ERR_POLL_NODE_TOO_OLD') {
    console.log(`epoll (@poll/epoll): refused Node ${process.version} with ERR_POLL_NODE_TOO_OLD, as documented`);
    process.exit(0);
  }
  throw err;
}
const manifest = require('epoll/package.json');
if (manifest.name !== '@poll/epoll') throw new Error(`require('epoll') is ${manifest.name}, not @poll/epoll`);

const epollFds = () =>
  fs.readdirSync('/proc/self/fd').map(Number).filter((fd) => {
    try {
      return fs.readlinkSync(`/proc/self/fd/${fd}`) === 'anon_inode:[eventpoll]';
    } catch {
      return false;
    }
  });

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'poll-smoke-epoll-'));
const file = path.join(dir, 'fifo');
if (spawnSync('mkfifo', [file], { env: { PATH: '/usr/bin:/bin' } }).status !== 0) throw new Error('mkfifo failed');
const r = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
const w = fs.openSync(file, fs.constants.O_WRONLY);
const before = new Set(epollFds());
const timer = setTimeout(() => {
  console.error('smoke-epoll: no event within 20 s');
  process.exit(1);
}, 20000);

const poller = new Epoll((err, fd, events) => {
  if (err) throw err;
  if (fd !== r || events !== Epoll.EPOLLIN) throw new Error(`event (${fd}, ${events}), expected (${r}, ${Epoll.EPOLLIN})`);
  fs.readSync(r, Buffer.alloc(16));
  const mine = epollFds().filter((n) => !before.has(n));
  if (mine.length !== 1) throw new Error(`expected one new epoll descriptor, found ${mine.length}`);
  // The child lists its own descriptors; ours must not be among them.
  const listing = spawnSync('/bin/ls', ['/proc/self/fd'], { encoding: 'utf8' }).stdout.split('\n').map(Number);
  if (listing.includes(mine[0])) throw new Error(`a child inherited the epoll descriptor ${mine[0]}`);
  poller.remove(r).close();
  fs.closeSync(r);
  fs.closeSync(w);
  fs.rmSync(dir, { recursive: true, force: true });
  clearTimeout(timer);
  console.log(`epoll (@poll/epoll ${manifest.version}): require('epoll') watched a FIFO, got EPOLLIN, fd ${mine[0]} not inherited by a child`);
});
poller.add(r, Epoll.EPOLLIN);
fs.writeSync(w, 'x');
