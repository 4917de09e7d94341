import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Interop and LAN tests bind fixed ports and namespaces: run files one at a time.
    fileParallelism: false,
  },
});
