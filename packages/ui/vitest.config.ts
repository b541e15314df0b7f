import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'ui',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 120_000,
    // Browser tests poll the page; on a loaded machine the page can need seconds, not the 1 s default.
    expect: { poll: { timeout: 20_000 } },
  },
});
