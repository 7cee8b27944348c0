import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-build.ts', 'test/support/global-redis.ts'],
    pool: 'forks',
    testTimeout: 20_000,
    hookTimeout: 60_000,
    // Real processes and real Redis: keep the suite's load reasonable on a 2-core machine.
    maxWorkers: 2,
  },
});
