/**
 * What PageStore.stats() reports: zswap's counters by their names (counted
 * in counters.ts), and the gauges read when asked from the entry table, the
 * pool, the codec slots, the stores in flight and the backend.
 */
import type { PoolStats, StorePool } from '../allocator/object-pool.js'
import type { BackendInfo } from '../codecs/backend.js'
import type { EntryTable } from '../entries/entry-table.js'
import type { BackingStoreStats } from '../tier/index.js'
import { folioSizeName, type ZswapCounters } from './counters.js'
import type { CodecSlots, SlotStats } from './codec-slots.js'
import type { Inflight } from './inflight.js'
import type { Admission } from './admission.js'
import type { Backends } from './backend-lifecycle.js'
import type { Writeback } from './writeback.js'

export interface PageStoreStats {
  stored_pages: number
  pool_total_size: number
  same_filled_pages: number
  stored_incompressible_pages: number
  /** Bytes of compressed objects (memcg's `zswap`); raw pages count PAGE_SIZE. */
  compressed_bytes: number
  reject_compress_fail: number
  reject_compress_poor: number
  reject_alloc_fail: number
  reject_backend_fail: number
  pool_limit_hit: number
  decompress_fail: number
  zswpout: number
  zswpin: number
  /** Successful folio stores by folio size: { '4kB': n, '64kB': n, … } (per-order zswpout). */
  zswpout_folios: Record<string, number>
  /** zswap's written_back_pages; pages written to and read from the backing store (pswpout/pswpin). */
  written_back_pages: number
  pswpout: number
  pswpin: number
  reject_reclaim_fail: number
  writeback_batches: number
  writeback_fail: number
  backing_load_fail: number
  /** Entries whose object is in the backing store, and the bytes of those objects. */
  tier_pages: number
  tier_bytes: number
  /** The backing store's own counters (objects, bytes on disk or in the cluster, latencies), when there is one. */
  backing?: BackingStoreStats
  /** zram's recompress: pages rewritten smaller, bytes saved, pages that did not shrink. */
  recompressed_pages: number
  recompress_saved_bytes: number
  recompress_kept: number
  /** setCompressor() switches, and dictionaries trained from stored pages. */
  compressor_switches: number
  dictionaries_trained: number
  /** New dictionaries trained because the ratio drifted. */
  dictionary_retrains: number
  /** Per compressor (slot): the objects it wrote that are still stored, their bytes, and which one stores use now. */
  compressors: SlotStats[]
  /** Folios whose store is in flight, and the pool bytes they have reserved. */
  stores_in_flight: number
  reserved_bytes: number
  /** Entry table + allocator metadata, in bytes, and per stored page. */
  metadata_bytes: number
  metadata_bytes_per_page: number
  /**
   * Bytes per stored page beyond the compressed data, fragmentation included:
   * (pool_total_size − Σ object lengths + metadata) / stored pages.
   */
  overhead_bytes_per_page: number
  pool: PoolStats
  backend: BackendInfo & { counters: Record<string, number> }
}

/** Where the stats are read from. */
export interface StatsSources {
  readonly counters: ZswapCounters
  readonly entries: EntryTable
  readonly pool: StorePool
  readonly slots: CodecSlots
  readonly inflight: Inflight
  readonly admission: Admission
  readonly backends: Backends
  readonly writeback: Writeback | undefined
}

/** Counters and gauges now. */
export function storeStats(src: StatsSources): PageStoreStats {
  const c = src.counters
  const pool = src.pool.stats()
  const metadata = src.entries.metadataBytes() + pool.metadata_bytes
  const stored = src.entries.size
  const folios: Record<string, number> = {}
  for (const [pages, count] of [...c.zswpoutByPages].sort((a, b) => a[0] - b[0])) folios[folioSizeName(pages)] = count
  return {
    stored_pages: src.entries.size,
    pool_total_size: pool.pool_total_size,
    same_filled_pages: c.same_filled_pages,
    stored_incompressible_pages: c.stored_incompressible_pages,
    compressed_bytes: c.compressed_bytes,
    reject_compress_fail: c.reject_compress_fail,
    reject_compress_poor: c.reject_compress_poor,
    reject_alloc_fail: c.reject_alloc_fail,
    reject_backend_fail: c.reject_backend_fail,
    pool_limit_hit: c.pool_limit_hit,
    decompress_fail: c.decompress_fail,
    zswpout: c.zswpout,
    zswpin: c.zswpin,
    zswpout_folios: folios,
    written_back_pages: c.written_back_pages,
    pswpout: c.pswpout,
    pswpin: c.pswpin,
    reject_reclaim_fail: c.reject_reclaim_fail,
    writeback_batches: c.writeback_batches,
    writeback_fail: c.writeback_fail,
    backing_load_fail: c.backing_load_fail,
    tier_pages: c.tier_pages,
    tier_bytes: c.tier_bytes,
    ...(src.writeback ? { backing: src.writeback.stats() } : {}),
    recompressed_pages: c.recompressed_pages,
    recompress_saved_bytes: c.recompress_saved_bytes,
    recompress_kept: c.recompress_kept,
    compressor_switches: c.compressor_switches,
    dictionaries_trained: c.dictionaries_trained,
    dictionary_retrains: c.dictionary_retrains,
    compressors: src.slots.stats(),
    stores_in_flight: src.inflight.folios,
    reserved_bytes: src.admission.reservedBytes,
    metadata_bytes: metadata,
    metadata_bytes_per_page: stored ? metadata / stored : 0,
    overhead_bytes_per_page: stored ? (pool.pool_total_size - pool.object_bytes + metadata) / stored : 0,
    pool,
    backend: src.backends.stats(),
  }
}
