/**
 * A folio of n pages is compressed as ceil(n / maxBatch) batches: the unit a
 * backend hands to one codec call or one device submission (zswap's
 * ZSWAP_MAX_BATCH_SIZE, 8). The synchronous backend and the pool's workers
 * both compress through compressInBatches, so the split is the same on every
 * CPU path.
 */
import type { NativeCodec } from '../native.js'
import { nativeAllocator, type NativePool } from '../allocator/native-pool.js'

export interface BatchTarget {
  /** Output slots and status words, addressed from `page`. */
  out: Uint8Array
  status: Int32Array
  page: number
}

/** Compresses `count` pages of `src` from page `srcPage`, one native call per batch. */
export function compressInBatches(
  codec: NativeCodec, src: Uint8Array, srcPage: number, count: number, target: BatchTarget,
  maxBatch: number, threshold: number, sameFilled: boolean,
): void {
  for (let first = 0; first < count; first += maxBatch) {
    const n = Math.min(maxBatch, count - first)
    const at = target.page + first
    codec.compressBatch(src, srcPage + first, n, target.out, at, target.status, at, threshold, sameFilled)
  }
}

/** Calls fn(firstPage, count) for each batch of the folio, in order (device submissions). */
export function forEachBatch(pages: number, maxBatch: number, fn: (first: number, count: number) => void): void {
  for (let first = 0; first < pages; first += maxBatch) fn(first, Math.min(maxBatch, pages - first))
}

export const POOL_CALL_PAGES = 64

/** Where a pooled compress writes its per-page results (shared memory when a worker writes them). */
export interface PoolTarget {
  status: Int32Array
  lo: Uint32Array
  hi: Uint32Array
  sums: Uint32Array | null
  /** Index of the folio's page 0 in the arrays above. */
  page: number
}

/**
 * Compresses `count` pages of `src` from page `srcPage` straight into `pool`,
 * one native call per batch: each call allocates its objects and writes their
 * handles into `target` before it returns (docs/allocator.md). A call takes
 * at least POOL_CALL_PAGES pages whatever maxBatch says: the pool locks once
 * per 16 pages inside a call, and 64 pages per call measured best
 * (docs/allocator.md); zswap's batch of 8 is a device submission size.
 */
export function compressInBatchesToPool(
  codec: NativeCodec, pool: NativePool, src: Uint8Array, srcPage: number, count: number, target: PoolTarget,
  maxBatch: number, threshold: number, flags: number,
): void {
  const A = nativeAllocator()
  const batch = Math.max(maxBatch, POOL_CALL_PAGES)
  for (let first = 0; first < count; first += batch) {
    const n = Math.min(batch, count - first)
    A.compressBatchToPool(codec, pool, src, srcPage + first, n, target.status, target.lo, target.hi, target.page + first, target.sums, threshold, flags)
  }
}
