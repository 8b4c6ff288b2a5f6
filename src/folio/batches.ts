/**
 * A folio of n pages is compressed as ceil(n / maxBatch) batches: the unit a
 * backend hands to one codec call or one device submission (zswap's
 * ZSWAP_MAX_BATCH_SIZE, 8). Callers iterate without allocating.
 */
export function batchCount(pages: number, maxBatch: number): number {
  return Math.ceil(pages / maxBatch)
}

/** Calls fn(firstPage, count) for each batch of the folio, in order. */
export function forEachBatch(pages: number, maxBatch: number, fn: (first: number, count: number) => void): void {
  for (let first = 0; first < pages; first += maxBatch) fn(first, Math.min(maxBatch, pages - first))
}
