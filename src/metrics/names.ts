/**
 * Every metric taken from stats(), named once, in one table. zswap's debugfs
 * files and vmstat events give the names (stored_pages → zswap_stored_pages,
 * the zswpout event → zswpout_total …); Prometheus conventions give the unit
 * and _total suffixes. A new field in stats() is one more row here: a row
 * whose field is absent from the source's stats() is not registered.
 */
import type { PageStoreStats } from '../store/page-store.js'
import type { SwapCacheStats } from '../swapcache/swap-cache.js'

export type MetricKind = 'counter' | 'gauge'

/** A number (or a record of numbers, exposed with `label`) read from a stats snapshot. */
export interface StatsMetric<S> {
  name: string
  kind: MetricKind
  help: string
  /** The field, as a function so nested and computed values fit; undefined when the source lacks it. */
  read: (s: S) => number | undefined
}

export interface LabelledStatsMetric<S> {
  name: string
  kind: MetricKind
  help: string
  label: string
  /** One sample per key; undefined when the source lacks the field. */
  read: (s: S) => Record<string, number> | undefined
}

type Field<S> = StatsMetric<S> | LabelledStatsMetric<S>

const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined)
/** For fields the store may add later (zswap has them; PageStoreStats does not yet). */
const optional = (s: object, key: string): number | undefined => num((s as Record<string, unknown>)[key])

/** zswap's reject reasons, as label values, and the stats() field of each. */
export const REJECT_REASONS = {
  compress_fail: 'reject_compress_fail',
  compress_poor: 'reject_compress_poor',
  alloc_fail: 'reject_alloc_fail',
  backend_fail: 'reject_backend_fail',
  reclaim_fail: 'reject_reclaim_fail',
  kmemcache_fail: 'reject_kmemcache_fail',
} as const

export const STORE_METRICS: Field<PageStoreStats>[] = [
  { name: 'zswap_stored_pages', kind: 'gauge', help: 'Pages currently stored (zswap stored_pages).', read: (s) => s.stored_pages },
  { name: 'zswap_pool_total_size_bytes', kind: 'gauge', help: 'Bytes of the compressed pool, fragmentation included (zswap pool_total_size).', read: (s) => s.pool_total_size },
  { name: 'zswap_compressed_bytes', kind: 'gauge', help: 'Bytes of stored objects, raw pages as 4096 (memcg zswap).', read: (s) => s.compressed_bytes },
  { name: 'zswap_same_filled_pages', kind: 'gauge', help: 'Stored pages kept as their fill word (zswap same_filled_pages).', read: (s) => s.same_filled_pages },
  { name: 'zswap_stored_incompressible_pages', kind: 'gauge', help: 'Stored pages kept raw because they did not compress (zswap stored_incompressible_pages).', read: (s) => s.stored_incompressible_pages },
  { name: 'zswpout_total', kind: 'counter', help: 'Pages stored (vmstat zswpout).', read: (s) => s.zswpout },
  { name: 'zswpin_total', kind: 'counter', help: 'Pages loaded (vmstat zswpin).', read: (s) => s.zswpin },
  { name: 'zswpout_folios_total', kind: 'counter', help: 'Folios stored, by folio size (mTHP per-size zswpout).', label: 'size', read: (s) => s.zswpout_folios },
  {
    name: 'zswap_reject_total', kind: 'counter', help: 'Stores rejected, by zswap reject reason (zswap reject_*).', label: 'reason',
    read: (s) => {
      const out: Record<string, number> = {}
      for (const [reason, field] of Object.entries(REJECT_REASONS)) {
        const v = optional(s, field)
        if (v !== undefined) out[reason] = v
      }
      return out
    },
  },
  { name: 'zswap_pool_limit_hit_total', kind: 'counter', help: 'Stores refused at the pool limit (zswap pool_limit_hit).', read: (s) => s.pool_limit_hit },
  { name: 'zswap_decompress_fail_total', kind: 'counter', help: 'Loads whose object did not decode to one page (zswap decompress_fail).', read: (s) => s.decompress_fail },
  { name: 'zswap_written_back_pages_total', kind: 'counter', help: 'Pages written back to the backing store (zswap written_back_pages, memcg zswpwb).', read: (s) => optional(s, 'written_back_pages') },
  { name: 'pswpout_total', kind: 'counter', help: 'Pages written to the backing store (vmstat pswpout).', read: (s) => optional(s, 'pswpout') },
  { name: 'pswpin_total', kind: 'counter', help: 'Pages read back from the backing store (vmstat pswpin).', read: (s) => optional(s, 'pswpin') },
  { name: 'zswap_writeback_batches_total', kind: 'counter', help: 'Writeback batches written to the backing store.', read: (s) => optional(s, 'writeback_batches') },
  { name: 'zswap_writeback_fail_total', kind: 'counter', help: 'Writeback batches the backing store refused (their entries stayed in the pool).', read: (s) => optional(s, 'writeback_fail') },
  { name: 'zswap_backing_load_fail_total', kind: 'counter', help: 'Loads that failed in the backing store (unreachable, timed out, missing, corrupt).', read: (s) => optional(s, 'backing_load_fail') },
  { name: 'zswap_backing_pages', kind: 'gauge', help: 'Stored pages whose object is in the backing store.', read: (s) => optional(s, 'tier_pages') },
  { name: 'zswap_backing_payload_bytes', kind: 'gauge', help: 'Bytes of the objects in the backing store.', read: (s) => optional(s, 'tier_bytes') },
  { name: 'zswap_backing_store_bytes', kind: 'gauge', help: 'Bytes the backing store holds (file size, or record bytes in the cluster).', read: (s) => s.backing?.backing_bytes },
  { name: 'zswap_stores_in_flight', kind: 'gauge', help: 'Folio stores in flight (compressing or waiting to publish).', read: (s) => optional(s, 'stores_in_flight') },
  { name: 'zswap_reserved_bytes', kind: 'gauge', help: 'Pool bytes reserved by stores in flight (counted against the pool limit).', read: (s) => optional(s, 'reserved_bytes') },
  { name: 'zswap_metadata_bytes', kind: 'gauge', help: 'Entry table and allocator metadata.', read: (s) => s.metadata_bytes },
  { name: 'zswap_pool_object_bytes', kind: 'gauge', help: 'Sum of the stored objects\' sizes in the pool.', read: (s) => s.pool?.object_bytes },
  { name: 'zswap_pool_objects', kind: 'gauge', help: 'Objects in the pool.', read: (s) => s.pool?.objects },
  { name: 'zswap_pool_region_bytes', kind: 'gauge', help: 'Address space reserved for the pool\'s slab pages (virtual).', read: (s) => s.pool?.region_bytes },
  { name: 'zswap_pool_cached_bytes', kind: 'gauge', help: 'Freed slab pages kept resident for reuse until compaction.', read: (s) => s.pool?.cached_bytes },
  { name: 'zswap_overhead_bytes_per_page', kind: 'gauge', help: 'Bytes per stored page beyond the compressed data: fragmentation and metadata.', read: (s) => s.overhead_bytes_per_page },
  { name: 'zswap_pool_pages_compacted_total', kind: 'counter', help: 'Pages freed by compaction (zsmalloc pages_compacted).', read: (s) => s.pool?.pages_compacted },
]

/** Counters of stats().backend.counters, one sample per counter name (some are levels, hence a gauge). */
export const BACKEND_METRIC = {
  name: 'zswap_backend_counter',
  help: 'Counters and levels the compress backend reports (stats().backend.counters), by backend, path and counter name.',
  labels: ['backend', 'path', 'counter'] as const,
}

export const SWAPCACHE_METRICS: Field<SwapCacheStats>[] = [
  { name: 'swapcache_resident_bytes', kind: 'gauge', help: 'Bytes of resident folios in the swap cache.', read: (s) => s.resident_bytes },
  { name: 'swapcache_resident_limit_bytes', kind: 'gauge', help: 'The resident limit (like memory.high).', read: (s) => s.resident_limit },
  { name: 'swapcache_writeback_folios', kind: 'gauge', help: 'Folios being written to the store.', read: (s) => s.writeback_folios },
  { name: 'memcg_high_total', kind: 'counter', help: 'Reclaim runs started above the high watermark (memory.high events).', read: (s) => s.memcg_high },
  { name: 'memcg_max_total', kind: 'counter', help: 'Accesses that found no free frame and could not get one (memory.max-like events).', read: (s) => s.memcg_max },
  { name: 'memcg_swap_fail_total', kind: 'counter', help: 'Large-folio stores the store rejected, after which the folio was split (memcg swap_fail).', read: (s) => s.memcg_swap_fail },
  { name: 'swpout_fallback_total', kind: 'counter', help: 'Large-folio store rejections, by folio size (mTHP swpout_fallback).', label: 'size', read: (s) => s.swpout_fallback },
  { name: 'swapcache_reclaim_fail_total', kind: 'counter', help: 'Folios that stayed resident because even their 4K stores failed.', read: (s) => s.reclaim_fail },
  { name: 'swapcache_reclaimed_pages_total', kind: 'counter', help: 'Pages reclaimed into the store.', read: (s) => s.reclaimed_pages },
  { name: 'pgfault_total', kind: 'counter', help: 'Faults: first touch or swap-in (vmstat pgfault).', read: (s) => s.pgfault },
  { name: 'pgmajfault_total', kind: 'counter', help: 'Faults that loaded from the store (vmstat pgmajfault).', read: (s) => s.pgmajfault },
  { name: 'swapcache_readahead_pages_total', kind: 'counter', help: 'Pages loaded by readahead.', read: (s) => s.readahead_pages },
]

/** Histograms fed by a StoreObserver. */
export const HISTOGRAMS = {
  store: {
    name: 'zswap_store_duration_seconds',
    help: 'Wall time of one folio store (storeFolio), stored or rejected.',
    buckets: [5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 0.1, 1],
  },
  load: {
    name: 'zswap_load_duration_seconds',
    help: 'Wall time of one load call (load, loadSync or loadMany).',
    buckets: [1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 1e-3, 1e-2, 0.1, 1],
  },
  batch: {
    name: 'zswap_store_batch_pages',
    help: 'Pages per compress batch handed to the backend.',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
  },
  compressed: {
    name: 'zswap_compressed_size_bytes',
    help: 'Stored size of each page that reached the codec (raw pages as 4096).',
    buckets: [64, 128, 256, 512, 1024, 1536, 2048, 2560, 3072, 3584, 4095, 4096],
  },
} as const
