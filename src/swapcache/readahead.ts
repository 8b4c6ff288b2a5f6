/**
 * Swap-in helpers. The synchronous fault path cannot use PageStore.loadMany (it
 * is async), so it loads a run of keys with loadSync, exclusively, straight into
 * frame memory. The async paths batch a whole range through loadMany instead,
 * which decompresses large batches in the worker pool.
 */
import { PAGE_SIZE } from '../codecs/status.js'
import type { PageStore } from '../store/page-store.js'
import { SwapCacheLostPageError } from './errors.js'

/** Loads keys firstKey … firstKey+count−1 into `into`, freeing their entries. */
export function loadRun(store: PageStore, firstKey: number, count: number, into: Uint8Array): void {
  for (let i = 0; i < count; i++) {
    const page = store.loadSync(firstKey + i, { into: into.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE), exclusive: true })
    if (page === undefined) throw new SwapCacheLostPageError(firstKey + i)
  }
}

/**
 * Loads `keys` into a fresh buffer without freeing their entries: the caller
 * installs only pages nobody touched meanwhile, then invalidates those keys
 * itself, so a writeback racing with the load can never lose a page.
 */
export async function loadBatch(store: PageStore, keys: Uint32Array): Promise<{ pages: Uint8Array; present: Uint8Array }> {
  const { pages, present } = await store.loadMany(keys)
  return { pages, present }
}
