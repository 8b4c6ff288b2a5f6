/**
 * Key ranges handed to the store's users (each SwapCache region gets one), so
 * that two users of one store can never write each other's keys: a range is
 * reserved before any key of it is stored, an explicit range that overlaps
 * another is refused, and a freed range can be handed out again. Ranges are
 * few (one per region), so a sorted array is enough.
 */
import { InvalidArgumentError } from '../errors.js'
import { MAX_KEY } from './arguments.js'

export class KeyRanges {
  // Sorted by start: [start, end) pairs.
  private readonly starts: number[] = []
  private readonly ends: number[] = []

  /**
   * Reserves `count` keys: exactly at `at` when given (refused if any key is
   * taken), else at the first gap at or after `from`. Returns the first key.
   */
  reserve(count: number, options: { at?: number; from?: number } = {}): number {
    if (!Number.isSafeInteger(count) || count < 1 || count > MAX_KEY + 1) {
      throw new InvalidArgumentError(`a key range needs 1..${MAX_KEY + 1} keys, got ${count}`, 'ERR_ZSTASH_OUT_OF_RANGE')
    }
    let start: number
    if (options.at !== undefined) {
      start = options.at
      if (start + count - 1 > MAX_KEY) throw new InvalidArgumentError(`keys ${start}+${count} run past ${MAX_KEY}`, 'ERR_ZSTASH_OUT_OF_RANGE')
      const i = this.indexAfter(start)
      const overlapsPrev = i > 0 && this.ends[i - 1] > start
      const overlapsNext = i < this.starts.length && this.starts[i] < start + count
      if (overlapsPrev || overlapsNext) {
        const j = overlapsPrev ? i - 1 : i
        throw new InvalidArgumentError(
          `keys ${start}..${start + count - 1} overlap the reserved range ${this.starts[j]}..${this.ends[j] - 1}`,
          'ERR_ZSTASH_KEYS_IN_USE',
        )
      }
    } else {
      start = options.from ?? 0
      let i = this.indexAfter(start)
      if (i > 0 && this.ends[i - 1] > start) start = this.ends[i - 1]
      while (i < this.starts.length && this.starts[i] < start + count) start = Math.max(start, this.ends[i++])
      if (start + count - 1 > MAX_KEY) {
        throw new InvalidArgumentError(`no free range of ${count} keys is left`, 'ERR_ZSTASH_OUT_OF_RANGE')
      }
    }
    const i = this.indexAfter(start)
    this.starts.splice(i, 0, start)
    this.ends.splice(i, 0, start + count)
    return start
  }

  /** Releases the range that starts at `start`; returns whether there was one. */
  release(start: number): boolean {
    const i = this.indexAfter(start) - 1
    if (i < 0 || this.starts[i] !== start) return false
    this.starts.splice(i, 1)
    this.ends.splice(i, 1)
    return true
  }

  get count(): number {
    return this.starts.length
  }

  /** Index of the first range starting after `key`. */
  private indexAfter(key: number): number {
    let lo = 0
    let hi = this.starts.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.starts[mid] <= key) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}
