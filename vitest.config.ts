import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Suites start real servers and real clients; two cores are the norm.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
