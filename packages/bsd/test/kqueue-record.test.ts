// KqueueKernel's record of which filters the kernel holds, checked where no real kqueue is
// needed: on Linux, against a fake kevent() whose changes can be made to fail (native/, built
// here by the compiler). What must hold: whatever fails, remove() leaves no filter behind, so
// the waiter thread never spins on a registration nobody can delete. The real kernels run the
// behaviour suite in the macOS and FreeBSD workflows.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { findNodedir } from '@poll/build-native/lib';
import { closeAll, sys } from '@poll/testkit';

const R = 1;
const W = 2;
const EDGE = 32;
const ENOMEM = 12;
const EINTR = 4;
const EINVAL = 22;
const FD = 40;

type Record = {
  reset(): number;
  call(op: 'add' | 'modify' | 'remove', fd: number, mask?: number): number;
  failNext(op: 'add' | 'delete', filter: 'read' | 'write', errno: number, times: number): void;
  held(fd: number): number;
};

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));

// The compiler on native/kqueue-record.cc: KqueueKernel (../native/src/kqueue.h) over the
// <sys/event.h> of native/fake-kqueue, whose kevent() kqueue-record.cc supplies. Built into the
// addon the tests below drive, and checked again in NetBSD's shape.
const compile = (...extra: string[]) =>
  spawnSync(
    process.env.CXX ?? 'c++',
    [
      '-std=c++17', '-Wall', '-Wextra', '-Werror', ...extra,
      '-DNAPI_VERSION=8', '-DNAPI_DISABLE_CPP_EXCEPTIONS', '-DNODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS',
      `-I${path.join(findNodedir()!, 'include', 'node')}`, `-I${path.dirname(require.resolve('node-addon-api/package.json'))}`,
      `-I${require('@poll/native-glue').include_dir}`, `-I${path.join(here, '..', 'native', 'src')}`,
      `-I${path.join(here, 'native', 'fake-kqueue')}`, path.join(here, 'native', 'kqueue-record.cc'),
    ],
    { encoding: 'utf8' },
  );

if (process.platform === 'linux') {
  let kq: Record;
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'poll-kqueue-record-'));
    const addon = path.join(dir, 'kqueue_record.node');
    const result = compile('-shared', '-fPIC', '-pthread', '-o', addon);
    if (result.status !== 0) throw new Error(`building the kqueue record addon failed:\n${result.stderr}`);
    kq = require(addon);
  }, 120_000);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  describe('the kqueue backend records what the kernel holds, whatever fails', () => {
    beforeEach(() => kq.reset());

    it('a failed re-enable of a live filter (and of its restore) still leaves it to remove()', () => {
      expect(kq.call('add', FD, R)).toBe(0);
      expect(kq.held(FD)).toBe(R);
      kq.failNext('add', 'read', ENOMEM, 2); // the change, then the attempt to put it back
      expect(kq.call('modify', FD, R | W)).toBe(ENOMEM);
      expect(kq.held(FD) & R).toBe(R); // the kernel still has it...
      expect(kq.call('remove', FD)).toBe(0);
      expect(kq.held(FD)).toBe(0); // ...and remove() took it away
    });

    it('a change of mode that fails half way leaves every filter it created to remove()', () => {
      expect(kq.call('add', FD, R | W)).toBe(0);
      kq.failNext('add', 'write', ENOMEM, 2);
      expect(kq.call('modify', FD, R | W | EDGE)).toBe(ENOMEM);
      expect(kq.call('remove', FD)).toBe(0);
      expect(kq.held(FD)).toBe(0);
    });

    it('a descriptor kqueue refuses (EINVAL, as macOS answers for some devices) goes to select(2) and holds no filter', () => {
      const [r, w] = sys.pipe();
      try {
        kq.failNext('add', 'read', EINVAL, 1);
        expect(kq.call('add', r, R)).toBe(0);
        expect(kq.held(r)).toBe(0);
        expect(kq.call('modify', r, R | EDGE)).toBe(EINVAL); // select(2) has no edges
        expect(kq.call('modify', r, R | W)).toBe(0);
        expect(kq.call('remove', r)).toBe(0);
        // One filter of two refused: the one taken is deleted again, and select(2) has both.
        kq.failNext('add', 'write', EINVAL, 1);
        expect(kq.call('add', r, R | W)).toBe(0);
        expect(kq.held(r)).toBe(0);
        expect(kq.call('remove', r)).toBe(0);
        // Edge-triggered: the kernel's EINVAL stands, and nothing is held or recorded.
        kq.failNext('add', 'read', EINVAL, 1);
        expect(kq.call('add', r, R | EDGE)).toBe(EINVAL);
        expect(kq.held(r)).toBe(0);
        expect(kq.call('remove', r)).toBe(2); // ENOENT: not watched
      } finally {
        closeAll(r, w);
      }
    });

    it('a remove() whose delete fails keeps the record, so a second remove() deletes the filter', () => {
      expect(kq.call('add', FD, R)).toBe(0);
      kq.failNext('delete', 'read', EINTR, 1);
      expect(kq.call('remove', FD)).toBe(EINTR);
      expect(kq.held(FD)).toBe(R);
      expect(kq.call('remove', FD)).toBe(0);
      expect(kq.held(FD)).toBe(0);
    });

    it('an add() that fails on its second filter takes the first one back', () => {
      kq.failNext('add', 'write', ENOMEM, 1);
      expect(kq.call('add', FD, R | W)).toBe(ENOMEM);
      expect(kq.held(FD)).toBe(0);
      expect(kq.call('remove', FD)).toBe(2); // ENOENT: nothing is watched
    });

    it('an add() whose undo fails too keeps a record of what is left, for remove()', () => {
      kq.failNext('add', 'write', ENOMEM, 1);
      kq.failNext('delete', 'read', EINTR, 1); // taking the read filter back fails as well
      expect(kq.call('add', FD, R | W)).toBe(ENOMEM);
      expect(kq.held(FD)).toBe(R);
      expect(kq.call('remove', FD)).toBe(0);
      expect(kq.held(FD)).toBe(0);
    });
  });

  it('kqueue.h compiles, warnings as errors, where kevent\'s filter is unsigned (NetBSD\'s uint32_t)', () => {
    const result = compile('-fsyntax-only', '-DPOLL_FAKE_NETBSD_KEVENT');
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
}
