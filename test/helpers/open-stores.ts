import { afterEach } from 'vitest'
import { PageStore } from 'zstash/internals'

/**
 * Stores a test file opens, closed after each test whatever the test did (a
 * failed expectation must not leave worker threads or a tier file behind).
 * `stores` also takes stores opened another way (e.g. openFaultyTieredStore).
 */
export function storesClosedAfterEach(): {
  stores: PageStore[]
  open: (options: Parameters<typeof PageStore.open>[0]) => Promise<PageStore>
} {
  const stores: PageStore[] = []
  afterEach(async () => {
    while (stores.length) await stores.pop()!.close()
  })
  return {
    stores,
    open: async (options) => {
      const s = await PageStore.open(options)
      stores.push(s)
      return s
    },
  }
}
