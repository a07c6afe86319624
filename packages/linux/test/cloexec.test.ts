import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { Poller } from '@poll/linux';
import { childFds, closeAll, fdTarget, sys } from '@poll/testkit';

describe('the poller descriptor never reaches a child process', () => {
  const open: number[] = [];
  afterEach(() => closeAll(open.splice(0)));

  it('is an epoll descriptor with FD_CLOEXEC set from birth', () => {
    using poller = new Poller();
    expect(fdTarget(poller.fd)).toBe('anon_inode:[eventpoll]');
    expect(sys.fdFlags(poller.fd).cloexec).toBe(true);
  });

  it('is absent from a spawned child, while a deliberately inheritable pipe is present', async () => {
    using poller = new Poller();
    const [r, w] = sys.pipe({ cloexec: false });
    open.push(r, w);
    poller.add(r, { readable: true }, () => {});
    const inheritedPipe = fs.fstatSync(r).ino;

    const fds = await childFds();

    // Negative control: the same check does see a descriptor that is inheritable.
    expect(fds.has(r)).toBe(true);
    expect(fdTarget(r)).toBe(`pipe:[${inheritedPipe}]`);
    expect(fds.has(poller.fd)).toBe(false);
  });

  it('stays out of children spawned while it watches and after it has delivered events', async () => {
    using poller = new Poller();
    const [r, w] = sys.pipe();
    open.push(r, w);
    const got = new Promise((resolve) => poller.add(r, { readable: true }, resolve));
    fs.writeSync(w, 'x');
    await got;
    const fds = await childFds();
    expect(fds.has(poller.fd)).toBe(false);
    expect(fds.has(r)).toBe(false); // close-on-exec pipes stay out too: the check is specific
  });

  it('is closed by close() and reported as -1', () => {
    const poller = new Poller();
    const fd = poller.fd;
    poller.close();
    expect(poller.fd).toBe(-1);
    expect(fdTarget(fd)).not.toBe('anon_inode:[eventpoll]');
  });
});
