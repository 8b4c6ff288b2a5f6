/**
 * The store's compressed pool as a SwapCache charges it to its limit
 * (chargePool), the way memcg charges zswap's pool to memory.max.
 *
 * The exact figure is PageStore.stats().pool_total_size, which builds every
 * size class (hundreds of µs), so it is read once per reclaim wave, not per
 * frame. Between reads the charge is an upper bound: every folio store that
 * settled since counts at its raw size (a compressed copy is never larger:
 * an incompressible page is kept raw or rejected). Frees in between (swap-ins,
 * freed regions) are only seen at the next read, which errs on the safe side.
 *
 * The pool grows in slabs, not objects: one store can open a slab of up to
 * maxSlabPages pages (64 KiB by default) in a size class that had no free slot.
 * One slab of the largest kind is kept as slack on top of the bound; several
 * classes each opening a slab between two reads could still pass it (the next
 * read corrects the charge), which the tests check does not happen in practice.
 */
import { PAGE_SIZE } from '../codecs/status.js'
import type { PageStore } from '../store/page-store.js'

export class PoolCharge {
  /** pool_total_size at the last read. */
  private readBytes = 0
  /** Raw bytes of the folio stores that settled since the last read. */
  private pendingBytes = 0
  /** Compressed bytes per raw byte of what the pool held at the last read (sizes reclaim waves). */
  ratio = 0.5
  /** Reads of the store's stats. */
  reads = 0

  constructor(private readonly store: PageStore) {}

  /** Bytes of the largest slab the pool opens: slack for a store that opens one. */
  slabBytes = 0

  /** Pool bytes charged now: exact after read() (plus one slab of slack), an upper bound in between. */
  get bytes(): number {
    return this.readBytes + this.pendingBytes + this.slabBytes
  }

  /** Reads the store's pool size; returns it. */
  read(): number {
    const s = this.store.stats()
    this.reads++
    this.readBytes = s.pool_total_size
    this.pendingBytes = 0
    if (this.slabBytes === 0) for (const c of s.pool.classes) this.slabBytes = Math.max(this.slabBytes, c.pagesPerSlab * PAGE_SIZE)
    const pages = s.stored_pages - s.tier_pages - s.same_filled_pages
    if (pages > 0 && s.pool_total_size > 0) this.ratio = Math.min(1, s.pool_total_size / (pages * PAGE_SIZE))
    return this.readBytes
  }

  /** A folio store of `bytes` raw bytes settled (stored, split, or failed: its objects may have grown the pool). */
  settled(bytes: number): void {
    this.pendingBytes += bytes
  }
}
