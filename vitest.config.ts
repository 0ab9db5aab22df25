import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts', 'ui/**/*.test.tsx', 'ui/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores here: QEMU and gdb processes run beside the tests.
    maxWorkers: 2,
    // The persistent translation cache is off unless a test turns it on (tests/tb/tb-store*):
    // a user's ~/.cache is no place for the suite's thousands of guests. BMBT_TB_CACHE=DIR
    // npm test runs every guest with it, warm across tests.
    env: { BMBT_TB_CACHE: process.env['BMBT_TB_CACHE'] ?? 'off' },
  },
});
