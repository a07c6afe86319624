// closeAll and closeFrom: a test's descriptors closed once each. A double close goes unseen
// where the number is still free, and closes someone else's descriptor where it has been reused
// (on libkqueue, a poller's kqueue: its next wait failed with ENOENT), so closeAll refuses it.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { closeAll, closeFrom, rawfs, sys } from '@poll/testkit';

const isOpen = (fd: number) => {
  try {
    fs.fstatSync(fd);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EBADF') return false;
    throw err;
  }
};

describe('closeAll', () => {
  it('closes every descriptor it is given, in lists or one by one', () => {
    const [r, w] = sys.pipe();
    const [a, b] = sys.socketpair();
    closeAll([r, w], a, [b]);
    expect([r, w, a, b].map(isOpen)).toEqual([false, false, false, false]);
  });

  it('a descriptor closed twice is an error naming it, raised after the others are closed (negative control)', () => {
    const [r, w] = sys.pipe();
    rawfs.closeSync(r); // closed by "the test" and left on the list
    expect(() => closeAll([r, w])).toThrow(new RegExp(`fd ${r} already closed`));
    expect(isOpen(w)).toBe(false);
  });
});

describe('closeFrom', () => {
  it('closes a descriptor and takes it off the list, so that closeAll does not close it again', () => {
    const open = [...sys.pipe()];
    const [r, w] = open as [number, number];
    closeFrom(open, r);
    expect(isOpen(r)).toBe(false);
    expect(open).toEqual([w]);
    expect(() => closeAll(open)).not.toThrow();
    expect(isOpen(w)).toBe(false);
  });

  it('refuses a descriptor that is not on the list, closing nothing', () => {
    const [r, w] = sys.pipe();
    expect(() => closeFrom([w], r)).toThrow(`closeFrom: fd ${r} is not on the list`);
    expect(isOpen(r)).toBe(true);
    closeAll(r, w);
  });
});
