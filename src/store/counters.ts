/**
 * zswap's counters, each named once. Event counters only grow; gauges
 * (stored_pages and friends) are computed from the table and pool when read.
 */
export class ZswapCounters {
  zswpout = 0
  zswpin = 0
  reject_compress_fail = 0
  reject_compress_poor = 0
  reject_alloc_fail = 0
  /** Folios refused by the worker pool or device backend (a worker died, the device failed). */
  reject_backend_fail = 0
  pool_limit_hit = 0
  decompress_fail = 0
  /** zswap's written_back_pages (memcg zswpwb): pages whose objects went to the backing store. */
  written_back_pages = 0
  /** Pages written to the backing store, and read back from it (the kernel's pswpout/pswpin). */
  pswpout = 0
  pswpin = 0
  /** Stores refused because writeback could not make room (zswap's reject_reclaim_fail). */
  reject_reclaim_fail = 0
  /** Writeback batches written, and batches the backing store refused (their entries stayed in the pool). */
  writeback_batches = 0
  writeback_fail = 0
  /** Loads that failed in the backing store (unreachable, timed out, missing, did not authenticate). */
  backing_load_fail = 0
  /** Entries whose object is in the backing store, and the bytes of those objects. */
  tier_pages = 0
  tier_bytes = 0
  /** zram's recompress: pages rewritten smaller, the bytes that saved, and pages tried that did not shrink. */
  recompressed_pages = 0
  recompress_saved_bytes = 0
  recompress_kept = 0
  /** setCompressor() calls that took effect, and dictionaries trained from stored pages. */
  compressor_switches = 0
  dictionaries_trained = 0
  dictionary_retrains = 0
  /** Gauges kept incrementally because they cannot be derived cheaply. */
  same_filled_pages = 0
  stored_incompressible_pages = 0
  compressed_bytes = 0
  /** Successful folio stores, by folio size in pages (mTHP's per-size zswpout). */
  readonly zswpoutByPages = new Map<number, number>()

  countFolio(pages: number): void {
    this.zswpout += pages
    this.zswpoutByPages.set(pages, (this.zswpoutByPages.get(pages) ?? 0) + 1)
  }
}

/** '4kB', '64kB', '2048kB' … as mTHP's hugepages-<size>kB directories name them. */
export function folioSizeName(pages: number): string {
  return `${pages * 4}kB`
}
