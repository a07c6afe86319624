// Failing system calls, injected: each scenario of fixtures/faults.mjs runs in a child process
// with @poll/testkit's fault injector preloaded (LD_PRELOAD), on each of the three loops, and
// makes one kind of call fail the way the kernel can (epoll_create1 with EMFILE/ENFILE,
// epoll_ctl with ENOMEM/ENOSPC, epoll_wait with EINTR, read/write with EINTR, EAGAIN, EIO,
// ENOMEM). What must hold: the failure reaches the caller as a PollError (or is retried where
// that is right), a failed call changes nothing, no event is lost, the poller keeps working, no
// descriptor leaks, and a stream ends cleanly with every byte before the failure, once.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { faults, faultsLibrary } from '@poll/testkit';

const here = path.dirname(fileURLToPath(import.meta.url));
const LOOPS = ['uv', 'thread', 'napi'] as const;

function scenario(name: string, loop: string, env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; result: any; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(here, 'fixtures', 'faults.mjs'), name, loop], {
      // After whatever is preloaded already (the sanitizer runtimes of `pnpm sanitize` must come
      // first), so that their interceptors hand on to ours, and ours to libc.
      env: { ...process.env, LD_PRELOAD: [process.env.LD_PRELOAD, faultsLibrary].filter(Boolean).join(':'), ...env },
      timeout: 60000,
    });
    let out = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.trim().split('\n').pop();
      let result = null;
      try {
        result = line ? JSON.parse(line) : null;
      } catch {}
      resolve({ code, result, stderr });
    });
  });
}

async function ok(name: string, loop: string) {
  const r = await scenario(name, loop);
  if (r.code !== 0) throw new Error(`${name} on the ${loop} loop exited ${r.code}:\n${r.stderr}`);
  return r.result;
}

const pollError = (code: string, errno: number, syscall: string) => ({ name: 'PollError', code, errno: -errno, syscall });

describe.each(LOOPS)('failing system calls, injected, on the %s loop', { timeout: 30000 }, (loop) => {
  it('creating the poller: EMFILE and ENFILE are PollErrors, nothing is left open, the next one works', async () => {
    const r = await ok('create', loop);
    expect(r.emfile).toEqual(pollError('EMFILE', 24, 'epoll_create1'));
    expect(r.enfile).toEqual(pollError('ENFILE', 23, 'epoll_create1'));
    expect(r).toMatchObject({ leakedAfterFailures: 0, afterwards: true, leaked: 0 });
  });

  it('add(): ENOMEM and ENOSPC are PollErrors naming the fd; the fd is not watched, stays silent, and the same add() then works', async () => {
    const r = await ok('add', loop);
    for (const [errno, n] of [['ENOMEM', 12], ['ENOSPC', 28]] as const) {
      expect(r[errno].error).toMatchObject(pollError(errno, n, 'epoll_ctl'));
      expect(r[errno].error.fd).toEqual(expect.any(Number));
      expect(r[errno]).toMatchObject({ sizeAfterFailure: 0, silent: true, retried: true, size: 1 });
    }
  });

  it('modify(): a PollError, and the watch goes on as it was; a later modify() works', async () => {
    const r = await ok('modify', loop);
    expect(r.error).toMatchObject(pollError('ENOMEM', 12, 'epoll_ctl'));
    expect(r).toMatchObject({ levelAfterFailure: true, oneshotAfterRetry: true });
  });

  it('remove(): a PollError, and the watch is still there, still delivering, still removable', async () => {
    const r = await ok('remove', loop);
    expect(r.error).toMatchObject(pollError('ENOMEM', 12, 'epoll_ctl'));
    expect(r).toMatchObject({ sizeAfterFailure: 1, stillDelivers: true, removed: true, silentAfterRemove: true });
  });

  it(loop === 'uv' ? 'epoll_wait: EINTR and a passing EINVAL are retried; every event arrives' : 'epoll_wait: EINTR is retried; every event arrives', async () => {
    const r = await ok('wait', loop);
    expect(r.EINTR).toEqual({ delivered: 8, injected: 3 });
    if (loop === 'uv') expect(r.EINVAL).toEqual({ delivered: 8, injected: 3 });
  });

  if (loop !== 'uv') {
    it("epoll_wait failing for good: raised as an uncaught error with Node's shape", async () => {
      expect(await ok('waitFails', loop)).toEqual({ code: 'EINVAL', errno: -22, syscall: 'epoll_wait' });
    });
  }

  it('a read stream: EINTR and EAGAIN lose and repeat nothing; EIO and ENOMEM end it with the error after every byte before, fd closed', async () => {
    const r = await ok('readStream', loop);
    for (const errno of ['EINTR', 'EAGAIN']) expect(r[errno]).toEqual({ text: 'abcdefgh', how: 'end', fdClosed: true });
    expect(r.EIO).toEqual({ text: 'abcd', how: { code: 'EIO', syscall: 'read', errno: -5 }, fdClosed: true });
    expect(r.ENOMEM).toEqual({ text: 'abcd', how: { code: 'ENOMEM', syscall: 'read', errno: -12 }, fdClosed: true });
  });

  it('a write stream: EINTR and EAGAIN write every byte once; EIO ends it with the error after what went before, fd closed', async () => {
    const r = await ok('writeStream', loop);
    for (const errno of ['EINTR', 'EAGAIN']) expect(r[errno]).toEqual({ text: '111122223333', how: 'finish', fdClosed: true });
    expect(r.EIO).toEqual({ text: '1111', how: { code: 'EIO', syscall: 'write' }, fdClosed: true });
  });
});

describe('the fault injector itself (negative controls)', () => {
  it('is not there without LD_PRELOAD: arming fails loudly, so no scenario passes uninjected', () => {
    expect(() => faults.arm('epoll_ctl', { errno: 'ENOMEM' })).toThrow(/not armed/);
  });

  it('catches lost events: with every wait failing, the scenario that checks delivery fails', async () => {
    const r = await scenario('wait', 'uv', { ERRNOS: 'EINVAL', WAIT_FAULTS: '1000000000' });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/round 1 after EINVAL: nothing within/);
  }, 30000);
});
