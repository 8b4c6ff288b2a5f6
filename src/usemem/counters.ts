/**
 * The counters the zswap cover letters print, under their names, from a
 * SwapCache + PageStore snapshot. pswpout/pswpin are the pages written to and
 * read from the backing store (0 without one); SWPOUT is 0 by construction
 * (writeback moves single compressed pages, never a folio), kept so tables
 * line up with the letters'.
 */
import type { SwapCacheStats } from '../swapcache/swap-cache.js'

export function coverLetterCounters(s: SwapCacheStats): Record<string, number> {
  const store = s.store
  const folio = s.folio_size
  const fallback = (size: string) => s.swpout_fallback[size] ?? 0
  const out: Record<string, number> = {
    memcg_high: s.memcg_high,
    memcg_swap_fail: s.memcg_swap_fail,
  }
  if (folio === '64kB') out['64kB_swpout_fallback'] = fallback('64kB')
  if (folio === '2048kB') out.thp_swpout_fallback = fallback('2048kB')
  out.zswpout = store.zswpout
  out.zswpin = store.zswpin
  out.pswpout = store.pswpout
  out.pswpin = store.pswpin
  // zswap's written_back_pages (memcg's zswpwb): only with a backing store, as the kernel shows it only with writeback.
  if (store.backing) out.written_back_pages = store.written_back_pages
  out[`ZSWPOUT-${folio}`] = store.zswpout_folios[folio] ?? 0
  if (folio === '2048kB') out.thp_swpout = 0
  else if (folio !== '4kB') out[`SWPOUT-${folio}`] = 0
  // Single pages: fallbacks and partly swapped-in folios going out again.
  if (folio !== '4kB') out['ZSWPOUT-4kB'] = store.zswpout_folios['4kB'] ?? 0
  out.pgmajfault = s.pgmajfault
  out.zswap_reject_compress_fail = store.reject_compress_fail
  out.zswap_reject_compress_poor = store.reject_compress_poor
  out.zswap_reject_alloc_fail = store.reject_alloc_fail
  out.zswap_pool_limit_hit = store.pool_limit_hit
  out.zswap_decompress_fail = store.decompress_fail
  out['incompressible pages'] = store.stored_incompressible_pages
  out.memcg_max = s.memcg_max
  out.reclaim_fail = s.reclaim_fail
  out.pgfault = s.pgfault
  out.readahead_pages = s.readahead_pages
  out.writeback_redirtied = s.writeback_redirtied
  // --charge-pool: how the one limit split between frames and pool at the end, and what it cost.
  if (s.charge_pool) {
    out.charged_bytes = s.charged_bytes
    out.frame_limit = s.frame_limit
    out.charge_pool_reads = s.charge_pool_reads
    out.charge_shrunk_pages = s.charge_shrunk_pages
    out.charge_oom = s.charge_oom
  }
  return out
}
