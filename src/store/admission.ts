/**
 * zswap's pool limit, made to hold under concurrency. zswap checks the limit
 * when a store starts (zswap_check_limits) and the store then allocates
 * synchronously; here compression happens off-thread, so many stores can be
 * past the check at once. Each admitted folio therefore reserves its worst
 * case (every page raw) until it has published or failed, and a folio is
 * admitted only if the pool plus every reservation plus its own worst case
 * stays within the limit. Rejection is immediate; nothing waits.
 *
 * The hysteresis is zswap's: once the limit is hit, stores are refused until
 * usage falls below accept_threshold_percent of it.
 */
import { PAGE_SIZE } from '../codecs/status.js'

/** The pool's own reservation counter (native, atomic): admission keeps no second one. */
export interface Reservations {
  reserve(bytes: number): boolean
  unreserve(bytes: number): void
  readonly reservedBytes: number
  totalSize(): number
}

export class Admission {
  private reachedFull = false
  /** Usage below which stores are accepted again after the limit was hit (accept_threshold_percent). */
  readonly acceptBytes: number

  constructor(private readonly pool: Reservations, readonly maxBytes: number, acceptThresholdPercent: number) {
    this.acceptBytes = (maxBytes * acceptThresholdPercent) / 100
  }

  get limited(): boolean {
    return Number.isFinite(this.maxBytes)
  }

  /** Bytes reserved by folios in flight. */
  get reservedBytes(): number {
    return this.pool.reservedBytes
  }

  /** Reserves room for `pages` pages in the pool, or returns false (the caller counts pool_limit_hit and rejects). */
  admit(pages: number): boolean {
    const worst = pages * PAGE_SIZE
    if (this.limited) {
      const used = this.pool.totalSize() + this.pool.reservedBytes
      if (used >= this.maxBytes) this.reachedFull = true
      else if (this.reachedFull && used <= this.acceptBytes) this.reachedFull = false
      if (this.reachedFull || used + worst > this.maxBytes) return false
    }
    // The pool checks the same bound again, atomically (its limit is maxBytes when limited).
    return this.pool.reserve(worst)
  }

  release(pages: number): void {
    this.pool.unreserve(pages * PAGE_SIZE)
    const wake = this.waiters
    this.waiters = []
    for (const w of wake) w()
  }

  private waiters: (() => void)[] = []

  /**
   * Resolves at the next release(): a store waiting at the limit whose room is
   * held by reservations (folios still compressing, worst case raw) can only
   * wait for them; writing back more of the pool would not help.
   */
  nextRelease(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve))
  }
}
