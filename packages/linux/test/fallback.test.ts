import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runNode, sys } from '@poll/testkit';

const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'create-denied.mjs');
const { ENOSYS, EMFILE, EPERM } = os.constants.errno;

async function createWith(rules: Array<{ syscall: string; errno: number }>) {
  const run = await runNode(fixture, [JSON.stringify(rules)]);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return run.json;
}

describe('creating the epoll descriptor when epoll_create1 is unavailable', () => {
  it('falls back to epoll_create + FD_CLOEXEC only on ENOSYS, and the poller works', async () => {
    const result = await createWith([{ syscall: 'epoll_create1', errno: ENOSYS }]);
    // The filter is really in force: the kernel refuses epoll_create1 in that process.
    expect(result.raw).toBe(-ENOSYS);
    if (sys.hasEpollCreate) {
      expect(result.created).toBe(true);
      expect(result.cloexec).toBe(true);
      expect(result.inChild).toBe(false);
      expect(result.event).toMatchObject({ readable: true, hangup: false, error: false });
      expect(result.leakedEpollFds).toBe(0);
    } else {
      // Architectures without an epoll_create syscall (aarch64) have no fallback to take.
      expect(result.error).toMatchObject({ code: 'ENOSYS', syscall: 'epoll_create' });
    }
  });

  it('throws EMFILE from epoll_create1 as it is, without trying the fallback', async () => {
    // epoll_create would succeed here, so a fallback taken on EMFILE would create a poller.
    const result = await createWith([{ syscall: 'epoll_create1', errno: EMFILE }]);
    expect(result.raw).toBe(-EMFILE);
    expect(result.created).toBe(false);
    expect(result.error).toMatchObject({ name: 'PollError', code: 'EMFILE', errno: -EMFILE, syscall: 'epoll_create1' });
    expect(result.leakedEpollFds).toBe(0);
  });

  it('throws the fallback\'s own error when epoll_create fails too', async () => {
    const rules = [{ syscall: 'epoll_create1', errno: ENOSYS }];
    if (sys.hasEpollCreate) rules.push({ syscall: 'epoll_create', errno: EMFILE });
    const result = await createWith(rules);
    expect(result.created).toBe(false);
    expect(result.error).toMatchObject(
      sys.hasEpollCreate ? { code: 'EMFILE', syscall: 'epoll_create' } : { code: 'ENOSYS', syscall: 'epoll_create' },
    );
    expect(result.leakedEpollFds).toBe(0);
  });

  it('closes the descriptor and throws when FD_CLOEXEC cannot be set, never handing out a leaky one', async () => {
    const result = await createWith([
      { syscall: 'epoll_create1', errno: ENOSYS },
      { syscall: 'fcntl:F_SETFD', errno: EPERM },
    ]);
    expect(result.created).toBe(false);
    if (sys.hasEpollCreate) {
      expect(result.error).toMatchObject({ name: 'PollError', code: 'EPERM', syscall: 'fcntl' });
      // epoll_create did make a descriptor; it must have been closed again.
      expect(result.leakedEpollFds).toBe(0);
    }
  });
});
