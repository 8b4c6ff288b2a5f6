/**
 * What PageStore tells the metrics: one call per folio store, load or compress
 * batch, never one per page, and no allocation in any of them (the histograms
 * behind them count into typed arrays). A store without metrics uses
 * NOOP_OBSERVER, so its calls cost a function call and nothing else.
 */
export interface StoreObserver {
  /** A storeFolio finished (stored or rejected): its wall time and page count. */
  observeStore(seconds: number, pages: number): void
  /** A load, loadSync or loadMany finished: its wall time and the pages it returned. */
  observeLoad(seconds: number, pages: number): void
  /** One compress batch went to the backend with `pages` pages. */
  observeBatch(pages: number): void
  /**
   * Per-page results of a batch, read in place: status[from … from+count) as the
   * backends report them (length > 0: compressed to that many bytes; 0:
   * same-filled; −1: incompressible, kept raw as PAGE_SIZE; other negatives:
   * failures, not counted).
   */
  observeCompressed(status: Int32Array, from: number, count: number): void
}

export const NOOP_OBSERVER: StoreObserver = Object.freeze({
  observeStore() {},
  observeLoad() {},
  observeBatch() {},
  observeCompressed() {},
})
