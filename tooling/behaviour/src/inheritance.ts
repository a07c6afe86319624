import { afterEach, describe, expect, it } from 'vitest';
import { childFds, closeAll, isOpen, rawfs, sys } from '@poll/testkit';
import type { Target } from './target.js';

export function inheritance(target: Target): void {
  describe('the poller descriptor never reaches a child process', () => {
    const open: number[] = [];
    afterEach(() => closeAll(open.splice(0)));

    it('has FD_CLOEXEC set from birth', () => {
      using poller = new target.Poller();
      expect(sys.fdFlags(poller.fd).cloexec).toBe(true);
    });

    it('is absent from a spawned child, while a deliberately inheritable pipe is present', async () => {
      using poller = new target.Poller();
      const [r, w] = sys.pipe({ cloexec: false });
      open.push(r, w);
      poller.add(r, { readable: true }, () => {});

      const fds = await childFds();

      // Negative control: the same check sees a descriptor that is inheritable...
      expect(fds.has(r)).toBe(true);
      expect(fds.has(w)).toBe(true);
      // ...and not the poller's.
      expect(fds.has(poller.fd)).toBe(false);
    });

    it('stays out of children spawned while it watches and after it has delivered events', async () => {
      using poller = new target.Poller();
      const [r, w] = sys.pipe();
      open.push(r, w);
      const got = new Promise((resolve) => poller.add(r, { readable: true }, resolve));
      rawfs.writeSync(w, 'x');
      await got;
      const fds = await childFds();
      expect(fds.has(poller.fd)).toBe(false);
      expect(fds.has(r)).toBe(false); // a close-on-exec pipe stays out too: the check is specific
    });

    it('is closed by close() and reported as -1', () => {
      const poller = new target.Poller();
      const fd = poller.fd;
      expect(isOpen(fd)).toBe(true);
      poller.close();
      expect(poller.fd).toBe(-1);
      expect(isOpen(fd)).toBe(false);
    });
  });
}
