// What a user's program does on Bun or Deno, through the packages' public entry points; prints
// one JSON line. argv: 'main' | 'exits' | 'stays' | 'unref'
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { Poller, backend } from '@poll/poller';
import { rawfs, sys } from '@poll/testkit';

const require = createRequire(import.meta.url);
const say = (o) => console.log(JSON.stringify(o));
const mode = process.argv[2] ?? 'main';

if (mode === 'main') {
  const out = { loop: backend.loop };
  // The epoll package's API, loaded with require() as its users load it.
  const { Epoll } = require('@poll/epoll');
  const [r, w] = sys.pipe();
  out.epoll = await new Promise((resolve) => {
    const epoll = new Epoll((err, fd, events) => {
      epoll.remove(fd).close();
      resolve({ err: err === null ? null : String(err), fd: fd === r, events });
    });
    epoll.add(r, Epoll.EPOLLIN);
    rawfs.writeSync(w, 'x');
  });
  // A child spawned by this runtime's child_process: it lists its own descriptors. The control
  // is a pipe handed to it on purpose (as its fd 3); the poller's must not be there.
  const poller = new Poller();
  const [cr, cw] = sys.pipe({ cloexec: false });
  poller.add(cr, { readable: true }, () => {});
  const child = spawnSync('/bin/sh', ['-c', 'ls /proc/$$/fd'], { stdio: ['ignore', 'pipe', 'inherit', cw], encoding: 'utf8' });
  const seen = new Set(child.stdout.split(/\s+/).filter(Boolean).map(Number));
  out.child = { control: seen.has(3), poller: seen.has(poller.fd), pollerFd: poller.fd > 2 };
  poller.close();
  rawfs.closeSync(cr);
  rawfs.closeSync(cw);
  rawfs.closeSync(r);
  rawfs.closeSync(w);
  say(out);
} else {
  // The process exits by itself when nothing is watched ('exits'), stays while a watch holds
  // it ('stays', killed by the test), and exits while watching after unref() ('unref').
  const poller = new Poller();
  const [r] = sys.pipe();
  if (mode !== 'exits') poller.add(r, { readable: true }, () => {});
  if (mode === 'unref') poller.unref();
  say({ started: mode });
}
