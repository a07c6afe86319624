// The soak is one long test (soak.ts), not part of the default include: `pnpm test` runs it for
// 15 seconds after its warm-up (the machinery and its checks), `POLL_SOAK_MINUTES=30 pnpm soak` for as long as asked.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['soak.ts'],
    // A fork with --expose-gc, so that the samples are taken after a full collection.
    pool: 'forks',
    execArgv: ['--expose-gc'],
  },
});
