/**
 * SwapCache errors. Bad input reuses InvalidArgumentError's codes; running out of
 * frames gets its own code because it is a condition callers are expected to
 * handle (await cache.reserve() and retry), not a bug.
 */
import { ZstashError } from '../errors.js'

/**
 * A synchronous access needed more free frames than there are, or reclaim could
 * not free enough (every cold folio was rejected by the store). A synchronous
 * call that throws it read or wrote nothing; readAsync/writeAsync work piece by
 * piece and report in `bytesDone` how many leading bytes they completed.
 */
export class ResidentLimitError extends ZstashError {
  /** Frames (folio slots) the operation needed. */
  readonly needed: number
  /** Frames that were free. */
  readonly free: number
  /** Leading bytes an async read/write completed before giving up (0 for synchronous calls). */
  override bytesDone: number
  constructor(message: string, needed: number, free: number, bytesDone = 0) {
    super('ERR_ZSTASH_RESIDENT_LIMIT', message)
    this.needed = needed
    this.free = free
    this.bytesDone = bytesDone
  }
}

/** A region was used after free() (or after the cache was closed). */
export class RegionFreedError extends ZstashError {
  constructor(what = 'region') {
    super('ERR_ZSTASH_REGION_FREED', `${what} has been freed`)
  }
}

/**
 * A page the cache had swapped out was not in the store when faulted back.
 * This is never expected: it means something else invalidated the cache's keys.
 */
export class SwapCacheLostPageError extends ZstashError {
  readonly key: number
  constructor(key: number) {
    super('ERR_ZSTASH_SWAPCACHE_LOST', `swapped-out page (store key ${key}) is missing from the store`)
    this.key = key
  }
}
