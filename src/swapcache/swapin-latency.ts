/**
 * How long a swap-in takes, by the tier it read from: the pool (the
 * synchronous fault path, loadSync, or a batched loadMany of pool pages
 * only) or the backing store (a loadMany that read at least one written-back
 * page). One sample is one swap-in call as the task waits for it — a fault
 * that loads a folio's run of pages, or one readahead batch — so a batch that
 * mixes tiers counts as a backing-store sample: its wait is the I/O.
 *
 * Counted into log-scale histograms (typed arrays, ~9% bucket resolution),
 * two performance.now() calls per swap-in call: no allocation per page.
 */
import { LogHistogram, type HistogramSummary } from '../tier/histogram.js'

export interface SwapInLatencySummary extends HistogramSummary {
  /** Pages those calls brought in from that tier. */
  pages: number
}

export interface SwapInLatencyStats {
  /** µs per swap-in call that read only pool pages. */
  pool: SwapInLatencySummary
  /** µs per swap-in call that read from the backing store. */
  backing: SwapInLatencySummary
}

export class SwapInLatency {
  private readonly pool = new LogHistogram()
  private readonly backing = new LogHistogram()
  private poolPages = 0
  private backingPages = 0

  /** One swap-in call of `us` µs that brought in `pages` pages from the pool, or from the backing store. */
  record(fromBacking: boolean, us: number, pages: number): void {
    if (fromBacking) {
      this.backing.record(us)
      this.backingPages += pages
    } else {
      this.pool.record(us)
      this.poolPages += pages
    }
  }

  stats(): SwapInLatencyStats {
    return {
      pool: { ...this.pool.summary(), pages: this.poolPages },
      backing: { ...this.backing.summary(), pages: this.backingPages },
    }
  }
}
