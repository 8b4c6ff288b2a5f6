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
 * First the ring grows (doubling, bounded by MAX_STAGING_PAGES), so a burst
 * that recurs finds memory that is already backed.
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

/**
 * Largest the staging ring grows to (64 MiB). It starts at the capacity it is
 * given and doubles when a burst of unawaited stores does not fit, up to this;
 * past it a folio gets a buffer of its own. It never shrinks: on this VM the
 * first touch of a fresh page costs 20–60 µs (docs/allocator.md), far more
 * than the copy into it, so a burst that recurs must find its memory there.
 */
export const MAX_STAGING_PAGES = 16384

/** A SharedArrayBuffer of `pages` pages that can grow to MAX_STAGING_PAGES (threads that map it see it grow). */
export function growableStaging(pages: number): SharedArrayBuffer {
  const Growable = SharedArrayBuffer as unknown as new (bytes: number, options: { maxByteLength: number }) => SharedArrayBuffer
  return new Growable(pages * PAGE_SIZE, { maxByteLength: Math.max(pages, MAX_STAGING_PAGES) * PAGE_SIZE })
}

export class Staging {
  private readonly ring: PageRing
  /** The shared memory folios are staged in. */
  readonly buffer: SharedArrayBuffer
  private memory: Uint8Array
  overflowFolios = 0
  growths = 0

  /** `buffer`: memory to stage into (a backend's, which its threads map already); else a new one of capacityPages. */
  constructor(capacityPages: number, buffer?: SharedArrayBuffer) {
    // Virtual until touched: pages never used by a folio are never backed.
    this.buffer = buffer ?? growableStaging(capacityPages)
    this.memory = new Uint8Array(this.buffer, 0, this.buffer.byteLength)
    this.ring = new PageRing(Math.floor(this.memory.length / PAGE_SIZE))
  }

  /** Copies `src` (whole pages; the caller validated it) and returns the store's copy. */
  copy(src: Uint8Array, pages: number): StagedFolio {
    let run = this.ring.take(pages)
    if (!run && this.grow(pages)) run = this.ring.take(pages)
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

  /** Doubles the ring (at least by `pages`) while the buffer can grow. */
  private grow(pages: number): boolean {
    const b = this.buffer as SharedArrayBuffer & { growable?: boolean; maxByteLength?: number; grow?(bytes: number): void }
    const max = b.growable ? Math.floor(b.maxByteLength! / PAGE_SIZE) : 0
    const now = this.ring.capacity
    const want = Math.min(max, Math.max(now * 2, now + pages))
    if (want <= now) return false
    b.grow!(want * PAGE_SIZE)
    this.memory = new Uint8Array(this.buffer, 0, want * PAGE_SIZE)
    this.ring.grow(want)
    this.growths++
    return true
  }

  stats(): Record<string, number> {
    return {
      staging_capacity_pages: this.ring.capacity,
      staging_pages_in_use: this.ring.pagesInUse,
      staging_peak_pages: this.ring.peakPages,
      staging_overflow_folios: this.overflowFolios,
      staging_growths: this.growths,
    }
  }
}
