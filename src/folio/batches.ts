/**
 * A folio of n pages is compressed as ceil(n / maxBatch) batches: the unit a
 * backend hands to one codec call or one device submission (zswap's
 * ZSWAP_MAX_BATCH_SIZE, 8). The synchronous backend and the pool's workers
 * both compress through compressInBatches, so the split is the same on every
 * CPU path.
 */
import type { NativeCodec } from '../native.js'

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
