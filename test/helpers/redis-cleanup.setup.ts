import { afterAll } from 'vitest'
import { removeRegisteredRedisKeys } from './redis-keys.ts'

// A setup file of the integration and chaos projects (vitest.config.ts): after each test file's
// own afterAll hooks (vitest runs after-hooks in reverse order, and this one is registered first),
// the Redis keys of every prefix the file registered are removed.
afterAll(removeRegisteredRedisKeys)
