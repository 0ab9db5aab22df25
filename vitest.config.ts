import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts', 'ui/**/*.test.tsx', 'ui/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores here: QEMU and gdb processes run beside the tests.
    maxWorkers: 2,
  },
});
