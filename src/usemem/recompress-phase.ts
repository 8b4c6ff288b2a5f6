/**
 * usemem --recompress / --dictionary: after the timed phases, operate the
 * store live as an operator would (docs/recompress.md) and measure what it
 * bought. --recompress C[:LEVEL] rewrites the pool's pages with C (zram's
 * recompress: a page is kept only where it got smaller); --dictionary first
 * trains a dictionary from the stored pages and switches the store to it
 * (setCompressor(…, { dictionary: true })), then recompresses the pool into
 * it, then compacts the pool. The pool is read before and after, so the report shows both rows; the
 * --verify pass that follows reads every page back through the new objects.
 */
import { PAGE_SIZE } from '../codecs/status.js'
import type { PageStore, PageStoreStats } from '../store/page-store.js'
import type { UsememOptions } from './options.js'
import type { PoolSnapshot, RecompressResult } from './result.js'

/** zstd's default level for a dictionary when --recompress names no level (zram's and the bench's zstd-3). */
const DICTIONARY_LEVEL = 3

export async function recompressPhase(o: UsememOptions, store: PageStore, line: (text: string) => void): Promise<RecompressResult> {
  const before = poolSnapshot(store.stats())
  const start = performance.now()
  let target: string
  let r: { pages: number; savedBytes: number }
  if (o.dictionary) {
    const compressor = o.recompress?.compressor ?? 'zstd'
    const level = o.recompress?.level ?? (compressor === 'zstd' ? DICTIONARY_LEVEL : undefined)
    await store.setCompressor(compressor, { ...(level !== undefined ? { level } : {}), dictionary: true })
    // No compressor named: recompress into the current slot, the dictionary's.
    r = await store.recompress()
    target = `${compressor}${level !== undefined ? `:${level}` : ''}+dictionary`
  } else {
    const { compressor, level } = o.recompress!
    r = await store.recompress({ compressor, ...(level !== undefined ? { level } : {}) })
    target = `${compressor}${level !== undefined ? `:${level}` : ''}`
  }
  // Rewritten objects leave holes in their old slabs; the pool keeps those pages until it is compacted
  // (zram: echo 1 > compact after recompress). Compact so "after" shows the memory the rewrite gave back.
  const compactedBytes = store.compact()
  const elapsed = (performance.now() - start) / 1000
  const s = store.stats()
  const after = poolSnapshot(s)
  const dict = s.compressors.find((c) => c.current && c.name.includes('+dict'))
  line(`recompress ${target}: ${r.pages} pages rewritten, ${r.savedBytes} bytes saved, pool ${before.pool_total_size} -> ${after.pool_total_size} bytes (${compactedBytes} compacted), ${elapsed.toFixed(2)} s`)
  return {
    target,
    dictionary: o.dictionary,
    dictionary_name: dict?.name ?? null,
    pages: r.pages,
    saved_bytes: r.savedBytes,
    kept: s.recompress_kept,
    dictionaries_trained: s.dictionaries_trained,
    elapsed_sec: elapsed,
    before,
    after,
  }
}

/** The pool's pages and bytes: compression ratio = pages in the pool × 4096 / pool bytes. */
export function poolSnapshot(s: PageStoreStats): PoolSnapshot {
  const poolPages = s.stored_pages - s.tier_pages
  return {
    pool_total_size: s.pool_total_size,
    compressed_bytes: s.compressed_bytes,
    pool_pages: poolPages,
    compression_ratio: s.pool_total_size ? (poolPages * PAGE_SIZE) / s.pool_total_size : 0,
  }
}
