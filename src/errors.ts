/**
 * Every error zstash throws is a ZstashError with a stable `code`, so callers
 * can branch on `err.code` instead of parsing messages.
 */
export class ZstashError extends Error {
  readonly code: string
  /**
   * Set when an operation that works piece by piece (a SwapCache region's
   * readAsync/writeAsync) failed part-way: how many leading bytes it completed.
   */
  bytesDone?: number
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.name = new.target.name
  }
}

/** An argument or option is of the wrong type, out of range, or unknown. */
export class InvalidArgumentError extends ZstashError {
  constructor(message: string, code = 'ERR_ZSTASH_INVALID_ARGUMENT') {
    super(code, message)
  }
}

/** A folio store was rejected as a whole; no page of it (nor any stale older entry) remains. */
export class StoreRejectedError extends ZstashError {
  /** Key of the first page that could not be stored, when one page caused it. */
  readonly key: number | undefined
  /** The zswap counter that was bumped for this rejection. */
  readonly reason: RejectReason
  constructor(reason: RejectReason, message: string, key?: number, options?: { cause?: unknown }) {
    super(REJECT_CODES[reason], message, options)
    this.reason = reason
    this.key = key
  }
}

export type RejectReason =
  | 'compress_fail'
  | 'compress_poor'
  | 'alloc_fail'
  | 'pool_limit'
  | 'worker_fail'
  | 'device_fail'
  | 'reclaim_fail'

const REJECT_CODES: Record<RejectReason, string> = {
  compress_fail: 'ERR_ZSTASH_COMPRESS_FAIL',
  compress_poor: 'ERR_ZSTASH_COMPRESS_POOR',
  alloc_fail: 'ERR_ZSTASH_ALLOC_FAIL',
  pool_limit: 'ERR_ZSTASH_POOL_LIMIT',
  worker_fail: 'ERR_ZSTASH_WORKER_FAIL',
  device_fail: 'ERR_ZSTASH_DEVICE_FAIL',
  reclaim_fail: 'ERR_ZSTASH_RECLAIM_FAIL',
}

/** A stored object did not decode to exactly one page. The entry is kept (zswap's -EIO). */
export class DecompressError extends ZstashError {
  readonly key: number
  readonly status: number
  constructor(key: number, status: number, detail: string, options?: { cause?: unknown }) {
    super('ERR_ZSTASH_DECOMPRESS', `page ${key} failed to decompress (${detail}, status ${status})`, options)
    this.key = key
    this.status = status
  }
}

/**
 * A synchronous load found the page in the backing store: reading it needs
 * I/O, which a synchronous call cannot wait for. Nothing was changed; use
 * load() or loadMany().
 */
export class WouldBlockError extends ZstashError {
  readonly key: number
  constructor(key: number) {
    super('ERR_ZSTASH_WOULD_BLOCK', `page ${key} is in the backing store: read it with load() or loadMany()`)
    this.key = key
  }
}

/** The store (or a backend) was used after close(). */
export class ClosedError extends ZstashError {
  constructor(what = 'PageStore') {
    super('ERR_ZSTASH_CLOSED', `${what} is closed`)
  }
}

/** The native addon could not be loaded or a backend is not available on this machine. */
export class BackendUnavailableError extends ZstashError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_ZSTASH_BACKEND_UNAVAILABLE', message, options)
  }
}

/** Why a backing-store operation failed (see BackingStoreError). */
export type BackingStoreReason =
  | 'timeout'      // the store did not answer in time (a paused or overloaded cluster node)
  | 'unavailable'  // the store cannot be reached (a node down, a connection lost, cluster down)
  | 'auth'         // the store refused our credentials (AUTH/ACL, NOPERM)
  | 'corrupt'      // an object failed authentication or its checksum: tampered, swapped, stale or foreign
  | 'missing'      // no object where one should be (deleted, evicted, or lost with a node)
  | 'full'         // no space left (file store's maxBytes or ENOSPC; Redis OOM)
  | 'io'           // any other I/O failure

/**
 * The tier below the pool failed: a writeback batch was not written (nothing of it
 * is readable and the entries stay in the pool), or an object could not be read back.
 */
export class BackingStoreError extends ZstashError {
  readonly reason: BackingStoreReason
  constructor(reason: BackingStoreReason, message: string, options?: { cause?: unknown }) {
    super('ERR_ZSTASH_BACKING_STORE', message, options)
    this.reason = reason
  }
}
