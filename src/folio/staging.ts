/**
 * The store's own copy of a folio in flight. storeFolio() copies the caller's
 * pages here before it returns, so the caller may reuse, overwrite, transfer
 * or shrink its buffer at once, and a load of a key whose store is still in
 * flight reads the bytes from here. The copy lives in shared memory, so worker
 * threads and devices read it in place: the folio is copied exactly once.
 *
 * A ring of page slots serves the common case without allocating; a folio
 * that does not fit (a burst of unawaited stores) gets a buffer of its own
 * instead of waiting, so issuing a store never blocks on another's progress.
 */
import { PAGE_SIZE } from '../codecs/status.js'
import { PageRing, type PageRun } from '../util/page-ring.js'

export class StagedFolio {
  /** The pages, in shared memory owned by the store. */
  readonly bytes: Uint8Array
  private run: PageRun | undefined
  private readonly ring: PageRing | undefined

  constructor(bytes: Uint8Array, ring?: PageRing, run?: PageRun) {
    this.bytes = bytes
    this.ring = ring
    this.run = run
  }

  /** Gives the slots back; idempotent. */
  release(): void {
    if (this.run) this.ring!.release(this.run)
    this.run = undefined
  }
}

export class Staging {
  private readonly ring: PageRing
  private readonly memory: Uint8Array
  overflowFolios = 0

  constructor(capacityPages: number) {
    this.ring = new PageRing(capacityPages)
    // Virtual until touched: pages never used by a folio are never backed.
    this.memory = new Uint8Array(new SharedArrayBuffer(capacityPages * PAGE_SIZE))
  }

  /** Copies `src` (whole pages; the caller validated it) and returns the store's copy. */
  copy(src: Uint8Array, pages: number): StagedFolio {
    const run = this.ring.take(pages)
    let staged: StagedFolio
    if (run) {
      staged = new StagedFolio(this.memory.subarray(run.start * PAGE_SIZE, (run.start + pages) * PAGE_SIZE), this.ring, run)
    } else {
      this.overflowFolios++
      staged = new StagedFolio(new Uint8Array(new SharedArrayBuffer(pages * PAGE_SIZE)))
    }
    staged.bytes.set(src)
    return staged
  }

  stats(): Record<string, number> {
    return {
      staging_capacity_pages: this.ring.capacity,
      staging_pages_in_use: this.ring.pagesInUse,
      staging_peak_pages: this.ring.peakPages,
      staging_overflow_folios: this.overflowFolios,
    }
  }
}
