/**
 * Shared staging memory for folios in flight to the worker pool: a ring of
 * page slots in SharedArrayBuffers (input pages, output slots, per-page status)
 * handed to workers once at start, so a task carries offsets and counts only.
 *
 * Allocation is FIFO-ish (folios complete roughly in order); a run never wraps,
 * so the slack at the end of the ring is skipped. When there is no room the
 * caller waits: this is the backpressure that bounds memory in flight.
 */
import { PAGE_SIZE } from '../codecs/status.js'

export interface StagingRun {
  start: number
  pages: number
  released: boolean
}

export class StagingRing {
  readonly capacity: number
  readonly input: SharedArrayBuffer
  readonly output: SharedArrayBuffer
  readonly status: SharedArrayBuffer
  readonly inputBytes: Uint8Array
  readonly outputBytes: Uint8Array
  readonly statusWords: Int32Array
  private head = 0
  private readonly live: StagingRun[] = []
  private readonly waiters: { pages: number; resolve: (run: StagingRun) => void }[] = []
  /** Highest number of pages ever in flight, and how often a caller had to wait. */
  peakPages = 0
  waits = 0
  private inUse = 0

  constructor(capacityPages: number) {
    this.capacity = capacityPages
    this.input = new SharedArrayBuffer(capacityPages * PAGE_SIZE)
    this.output = new SharedArrayBuffer(capacityPages * PAGE_SIZE)
    this.status = new SharedArrayBuffer(capacityPages * 4)
    this.inputBytes = new Uint8Array(this.input)
    this.outputBytes = new Uint8Array(this.output)
    this.statusWords = new Int32Array(this.status)
  }

  get pagesInFlight(): number {
    return this.inUse
  }

  /** A run of `pages` contiguous slots; waits (FIFO) while the ring is full. */
  acquire(pages: number): Promise<StagingRun> | StagingRun {
    if (pages > this.capacity) throw new RangeError(`${pages} pages exceed the staging ring (${this.capacity})`)
    if (this.waiters.length === 0) {
      const run = this.take(pages)
      if (run) return run
    }
    this.waits++
    return new Promise((resolve) => this.waiters.push({ pages, resolve }))
  }

  release(run: StagingRun): void {
    if (run.released) return
    run.released = true
    this.inUse -= run.pages
    while (this.live.length > 0 && this.live[0].released) this.live.shift()
    if (this.live.length === 0) this.head = 0
    // Serve waiters in order; stop at the first that does not fit, so a large folio is not starved.
    while (this.waiters.length > 0) {
      const next = this.take(this.waiters[0].pages)
      if (!next) break
      this.waiters.shift()!.resolve(next)
    }
  }

  private take(pages: number): StagingRun | undefined {
    const start = this.findStart(pages)
    if (start < 0) return undefined
    const run = { start, pages, released: false }
    this.live.push(run)
    this.head = start + pages
    this.inUse += pages
    if (this.inUse > this.peakPages) this.peakPages = this.inUse
    return run
  }

  private findStart(pages: number): number {
    if (this.live.length === 0) return pages <= this.capacity ? 0 : -1
    const tail = this.live[0].start
    if (this.head > tail) {
      if (this.head + pages <= this.capacity) return this.head
      return pages <= tail ? 0 : -1
    }
    if (this.head < tail) return this.head + pages <= tail ? this.head : -1
    // head === tail with live runs: the ring is exactly full.
    return -1
  }
}
