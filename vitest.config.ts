import { defineConfig } from 'vitest/config'

// Integration tests share one Redis and each open their own embedded ClickHouse (one chdb data
// directory per process), so every test file runs in its own forked process. After each of those
// files, the setup file removes the Redis keys of the queue prefixes it used (test/helpers/redis-keys.ts).
const removeRedisKeys = 'test/helpers/redis-cleanup.setup.ts'
export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    fileParallelism: true,
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      { extends: true, test: { name: 'integration', include: ['test/integration/**/*.test.ts'], setupFiles: [removeRedisKeys] } },
      // Faults injected into the running system (test/chaos/bed.ts); a table of figures at the end.
      {
        extends: true,
        test: { name: 'chaos', include: ['test/chaos/**/*.test.ts'], setupFiles: [removeRedisKeys], globalSetup: ['test/chaos/summary.ts'], testTimeout: 240_000, hookTimeout: 120_000 },
      },
    ],
  },
})
