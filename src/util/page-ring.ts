/**
 * Runs of contiguous page slots handed out in FIFO-ish order from a fixed ring
 * (folios complete roughly in the order they were issued). A run never wraps:
 * the slack at the end of the ring is skipped. take() never waits — it returns
 * undefined when there is no room, and the caller decides what to do (the
 * store and the worker pool fall back to a buffer of the folio's own).
 */
export interface PageRun {
  readonly start: number
  readonly pages: number
  released: boolean
}

export class PageRing {
  private cap: number
  private head = 0
  private readonly live: PageRun[] = []
  private inUse = 0
  /** Highest number of pages ever in use, and how often take() found no room. */
  peakPages = 0
  misses = 0

  constructor(capacityPages: number) {
    this.cap = capacityPages
  }

  get capacity(): number {
    return this.cap
  }

  /**
   * Adds slots at the end. Safe at any time: a ring that has not wrapped uses
   * them at once; a wrapped one reaches them once its head passes the end again.
   */
  grow(capacityPages: number): void {
    if (capacityPages > this.cap) this.cap = capacityPages
  }

  get pagesInUse(): number {
    return this.inUse
  }

  take(pages: number): PageRun | undefined {
    const start = this.findStart(pages)
    if (start < 0) {
      this.misses++
      return undefined
    }
    const run: PageRun = { start, pages, released: false }
    this.live.push(run)
    this.head = start + pages
    this.inUse += pages
    if (this.inUse > this.peakPages) this.peakPages = this.inUse
    return run
  }

  /** Idempotent: releasing a run twice is harmless. */
  release(run: PageRun): void {
    if (run.released) return
    run.released = true
    this.inUse -= run.pages
    while (this.live.length > 0 && this.live[0].released) this.live.shift()
    if (this.live.length === 0) this.head = 0
  }

  private findStart(pages: number): number {
    if (pages > this.cap) return -1
    if (this.live.length === 0) return 0
    const tail = this.live[0].start
    if (this.head > tail) {
      if (this.head + pages <= this.cap) return this.head
      return pages <= tail ? 0 : -1
    }
    if (this.head < tail) return this.head + pages <= tail ? this.head : -1
    return -1 // head === tail with live runs: the ring is exactly full
  }
}
