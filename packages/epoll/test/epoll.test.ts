// What @poll/epoll adds to, or changes from, the epoll package: typed errors, one poller
// descriptor per thread that no child inherits, worker threads, and errors to the callback.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeAll, childFds, fdTarget, sys, write } from '@poll/testkit';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const { Epoll } = require('@poll/epoll') as typeof import('@poll/epoll');
const originalDir = path.dirname(require.resolve('epoll/package.json'));

const eventpollFds = () =>
  fs
    .readdirSync('/proc/self/fd')
    .map(Number)
    .filter((fd) => fdTarget(fd) === 'anon_inode:[eventpoll]');

describe('@poll/epoll', () => {
  const open: number[] = [];
  const instances: InstanceType<typeof Epoll>[] = [];
  const make = (cb: (err: Error | null, fd: number, events: number) => void = () => {}) => {
    const e = new Epoll(cb);
    instances.push(e);
    return e;
  };
  afterEach(() => {
    for (const e of instances.splice(0)) e.close();
    closeAll(open.splice(0));
  });

  it("exports the original's constants with Linux's values, read-only", () => {
    const { Epoll: Original } = require(originalDir);
    const names = ['EPOLLIN', 'EPOLLOUT', 'EPOLLRDHUP', 'EPOLLPRI', 'EPOLLERR', 'EPOLLHUP', 'EPOLLET', 'EPOLLONESHOT'] as const;
    for (const name of names) {
      expect(Epoll[name]).toBe(Original[name]);
      expect(Object.getOwnPropertyDescriptor(Epoll, name)).toMatchObject({ writable: false, enumerable: true });
    }
    expect(Epoll.EPOLLET).toBe(0x80000000);
    expect(Object.getOwnPropertyNames(Epoll.prototype).sort()).toEqual(['add', 'close', 'closed', 'constructor', 'modify', 'remove']);
  });

  it('gives kernel-shaped errors where the original threw strerror text, and Node-style argument errors', () => {
    const [r, w] = sys.pipe();
    open.push(r, w);
    const e = make();
    e.add(r, Epoll.EPOLLIN);
    expect(() => e.add(r, Epoll.EPOLLIN)).toThrow(expect.objectContaining({ name: 'PollError', code: 'EEXIST', errno: -17, syscall: 'epoll_ctl', fd: r }));
    expect(() => e.modify(w, Epoll.EPOLLOUT)).toThrow(expect.objectContaining({ code: 'ENOENT', fd: w }));
    expect(() => e.remove(w)).toThrow(expect.objectContaining({ code: 'ENOENT', fd: w }));
    const [gone] = sys.pipe();
    closeAll(gone);
    expect(() => e.add(gone, Epoll.EPOLLIN)).toThrow(expect.objectContaining({ code: 'EBADF', syscall: 'epoll_ctl' }));
    expect(() => e.add('1' as never, Epoll.EPOLLIN)).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => e.add(-1, Epoll.EPOLLIN)).toThrow(expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }));
    expect(() => e.add(w, undefined as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    // Bits outside the constants (EPOLLEXCLUSIVE, EPOLLWAKEUP) are refused, not passed on.
    expect(() => e.add(w, 1 << 28)).toThrow(expect.objectContaining({ code: 'ERR_POLL_UNSUPPORTED' }));
    expect(() => new Epoll(undefined as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    // Nothing was lost on the way: r is still watched, w still not.
    expect(() => e.add(r, Epoll.EPOLLIN)).toThrow(expect.objectContaining({ code: 'EEXIST' }));
    expect(e.add(w, Epoll.EPOLLOUT)).toBe(e);
    e.close();
    expect(() => e.add(r, Epoll.EPOLLIN)).toThrow(expect.objectContaining({ code: 'ERR_POLL_CLOSED' }));
  });

  it('takes EPOLLET as 2147483648 and as the negative int32 some builds of the original gave', async () => {
    const [r, w] = sys.pipe();
    open.push(r, w);
    const seen: number[] = [];
    const e = make((err, fd, events) => seen.push(events));
    e.add(r, Epoll.EPOLLIN | -0x80000000);
    write(w, 'x');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(seen).toEqual([Epoll.EPOLLIN]); // edge-triggered: once, though never read
  });

  it('shares one poller descriptor among every Epoll of a thread, as the original shares its epoll set', () => {
    const pipes = Array.from({ length: 8 }, () => sys.pipe());
    open.push(...pipes.flat());
    const before = eventpollFds().length;
    for (const [r] of pipes) make().add(r, Epoll.EPOLLIN);
    expect(eventpollFds().length - before).toBeLessThanOrEqual(1);
    // ...so an fd added by two instances is EEXIST, as it is there.
    expect(() => make().add(pipes[0]![0], Epoll.EPOLLIN)).toThrow(expect.objectContaining({ code: 'EEXIST' }));
  });

  it("closes only its own fds: another instance's watches go on", async () => {
    const [r1, w1] = sys.pipe();
    const [r2, w2] = sys.pipe();
    open.push(r1, w1, r2, w2);
    const seen: number[] = [];
    const a = make((err, fd) => seen.push(fd));
    const b = make((err, fd) => {
      seen.push(fd);
      b.remove(fd);
    });
    a.add(r1, Epoll.EPOLLIN);
    b.add(r2, Epoll.EPOLLIN);
    a.close();
    write(w1, 'x');
    write(w2, 'x');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(seen).toEqual([r2]);
  });
});

describe('its descriptor is close-on-exec; the original leaks its own into every child', () => {
  // The same check in a child process for each: note the epoll descriptors that loading the
  // package and watching a pipe made (this process may have inherited others: the original
  // leaks its own into every child), then which of those a spawned child inherited.
  const probe = (module: string) => {
    const script = `
      const fs = require('node:fs');
      const { sys, childFds, fdTarget } = require('@poll/testkit');
      const epollFds = () => fs.readdirSync('/proc/self/fd').map(Number).filter((fd) => fdTarget(fd) === 'anon_inode:[eventpoll]');
      const before = new Set(epollFds());
      const { Epoll } = require(${JSON.stringify(module)});
      const [r] = sys.pipe();
      const e = new Epoll(() => {}).add(r, Epoll.EPOLLIN);
      const made = epollFds().filter((fd) => !before.has(fd));
      childFds().then((fds) => {
        console.log(JSON.stringify({ made, inherited: made.filter((fd) => fds.has(fd)) }));
        e.remove(r).close();
      });`;
    const r = spawnSync(process.execPath, ['-e', script], { cwd: here, encoding: 'utf8', timeout: 15000 });
    expect(r.stderr).toBe('');
    const result = JSON.parse(r.stdout) as { made: number[]; inherited: number[] };
    expect(result.made).toHaveLength(1);
    return result.inherited;
  };

  it('a child of a program using @poll/epoll inherits no epoll descriptor', () => {
    expect(probe(path.resolve(here, '..'))).toEqual([]);
  });

  it('a child of a program using the epoll package inherits its epoll descriptor (the control)', () => {
    expect(probe(originalDir)).toHaveLength(1);
  });
});

describe('errors reach the callback as err', () => {
  const printers = process.listeners('warning');
  beforeAll(() => process.removeAllListeners('warning'));
  afterAll(() => {
    for (const printer of printers) process.on('warning', printer);
  });

  it('a watch the poller had to end (its fd closed without remove()) is reported once, as err with the fd', async () => {
    const [r1, w1] = sys.pipe();
    const [r2, w2] = sys.pipe();
    const calls: Array<[Error | null, number | undefined]> = [];
    const e = new Epoll((err, fd) => calls.push([err, fd]));
    e.add(r1, Epoll.EPOLLIN).add(r2, Epoll.EPOLLIN);
    closeAll(r1); // no remove(): the kernel drops its registration, we do not know yet
    // Another fd closed before remove() while a dup keeps its file open: its events keep
    // coming, and the poller rebuilds its set; that is when it finds r1 gone.
    const dup = sys.dup(r2);
    closeAll(r2);
    e.remove(r2);
    const rebuilt = new Promise((resolve) => process.once('warning', resolve));
    write(w2, 'x');
    await rebuilt;
    expect(calls).toHaveLength(1);
    const [err] = calls[0]!;
    expect(err).toMatchObject({ code: 'ERR_POLL_NOT_WATCHED', fd: r1 });
    expect(() => e.remove(r1)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    e.close();
    closeAll(w1, w2, dup);
  });
});

describe('worker threads', () => {
  it('each worker has its own poller; events arrive there, and terminating a watching worker is clean', async () => {
    const [r, w] = sys.pipe();
    const worker = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       const { Epoll } = require(${JSON.stringify(path.resolve(here, '..'))});
       const e = new Epoll((err, fd, events) => parentPort.postMessage({ fd, events }));
       e.add(workerData.fd, Epoll.EPOLLIN | Epoll.EPOLLONESHOT);
       parentPort.postMessage('watching');`,
      { eval: true, workerData: { fd: r } },
    );
    const messages: unknown[] = [];
    const got = new Promise<void>((resolve) =>
      worker.on('message', (m) => {
        messages.push(m);
        if (m === 'watching') write(w, 'x');
        else resolve();
      }),
    );
    await got;
    expect(messages).toEqual(['watching', { fd: r, events: Epoll.EPOLLIN }]);
    expect(await worker.terminate()).toBe(1);
    closeAll(r, w);
  });
});
