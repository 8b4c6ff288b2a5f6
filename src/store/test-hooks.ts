/**
 * Failure injection for tests: a property under this symbol on a PageStore
 * makes chosen pages fail at chosen steps, to prove that a folio store is
 * all-or-nothing. Never set in production code.
 */
export const TEST_HOOKS: unique symbol = Symbol.for('zstash.testHooks')

export interface TestHooks {
  /** Index (within the folio) of a page whose compression must fail, or -1. */
  failCompress?: (firstKey: number, pages: number) => number
  /** Return true to make the allocation for this key fail. */
  failAlloc?: (key: number) => boolean
  /** Return true to end the worker thread that compresses this folio, mid-task (worker pool only). */
  crashWorker?: (firstKey: number, pages: number) => boolean
}
