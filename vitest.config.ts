import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Slow tests (model training, real processes) set their own timeouts; this is the default for the rest.
    testTimeout: 30_000,
    pool: 'forks',
  },
});
