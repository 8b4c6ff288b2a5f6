/**
 * Allocation-failure injection for zstash's own tests (through
 * 'zstash/internals'): a function under this symbol on a PageStore makes the
 * allocation for chosen keys fail, to prove that a folio store is
 * all-or-nothing. Compression faults and worker deaths are injected by a
 * test-only wrapper backend instead (test/helpers/faulty-backend.ts); nothing
 * of this reaches the native addon.
 */
export const TEST_HOOKS: unique symbol = Symbol.for('zstash.testHooks')

export interface TestHooks {
  /** Return true to make the allocation for this key fail. */
  failAlloc?: (key: number) => boolean
}
