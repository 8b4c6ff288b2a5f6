/**
 * The cache's own event counters, named after the memcg/vmstat counters the
 * zswap cover letters print. Store-side counters (zswpout, zswpin, rejects)
 * stay in PageStore.stats(); the cache never double-counts them.
 */
export class SwapCacheCounters {
  /** Reclaim runs started because resident frames were above the high watermark (memory.high events). */
  memcg_high = 0
  /** A synchronous access or reserve() found no free frame and could not get one (memory.max-like). */
  memcg_max = 0
  /** Large-folio stores the store rejected, after which the folio was split (memcg_swap_fail). */
  memcg_swap_fail = 0
  /** Large-folio store rejections by folio size ('64kB', '2048kB'): the N_swpout_fallback counters. */
  readonly swpout_fallback: Record<string, number> = {}
  /** Folios that stayed resident because even their 4K stores failed. */
  reclaim_fail = 0
  /** Folios (and pages) swapped out by reclaim. */
  reclaimed_folios = 0
  reclaimed_pages = 0
  /** Every fault: first touch (zero fill) or swap-in. */
  pgfault = 0
  /** Faults that needed a load from the store. */
  pgmajfault = 0
  /** Pages brought in by a fault besides the faulting page. */
  readahead_pages = 0
  /** Writebacks whose folio was written (or faulted into) while its store was in flight: kept resident, store copy dropped. */
  writeback_redirtied = 0
  /** chargePool: pages written back to the store's tier to make the floor of frames fit (zswap writeback under memcg). */
  charge_shrunk_pages = 0
  /** chargePool: reclaim runs that found the pool alone over limit − floor with no tier to shrink it into (a memcg's OOM). */
  charge_oom = 0

  countFallback(sizeName: string): void {
    this.memcg_swap_fail++
    this.swpout_fallback[sizeName] = (this.swpout_fallback[sizeName] ?? 0) + 1
  }
}
