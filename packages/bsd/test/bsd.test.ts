// On macOS and the BSDs: the behaviour suite every backend passes, against @poll/bsd itself.
// Anywhere else: the package says plainly that it is not for this platform.
import { describe, expect, it } from 'vitest';
import { behaviourSuite, targetFor } from '@poll/behaviour';

const KQUEUE_PLATFORMS = ['darwin', 'freebsd', 'openbsd', 'netbsd'];

if (KQUEUE_PLATFORMS.includes(process.platform)) {
  behaviourSuite(await targetFor('kqueue via @poll/bsd', '@poll/bsd', import.meta.url));
} else {
  describe(`@poll/bsd on ${process.platform}`, () => {
    it('refuses to load with ERR_POLL_NO_BACKEND, naming the platform and what to use instead', async () => {
      const loading = import('@poll/bsd');
      await expect(loading).rejects.toMatchObject({ code: 'ERR_POLL_NO_BACKEND' });
      const err = await loading.catch((e: Error) => e);
      expect((err as Error).message).toContain(`this is ${process.platform}`);
      expect((err as Error).message).toContain('@poll/poller');
    });
  });
}
