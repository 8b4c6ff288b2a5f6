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
