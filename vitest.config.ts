import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Native addon + worker threads: separate processes keep a crash contained.
    pool: 'forks',
    reporters: ['default'],
  },
})
