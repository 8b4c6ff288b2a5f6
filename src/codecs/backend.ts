/**
 * A compress backend turns the pages of one folio into per-page results, and
 * decodes batches of stored objects. The PageStore does not care whether that
 * ran on this thread, in a worker pool, or on an accelerator: it reads the
 * results and publishes them.
 *
 * CPU backends (this thread, the worker pool) compress straight into the
 * store's pool and hand back handles (PooledResult); a device compresses into
 * its own buffers (CompressResult) and the store puts them into the pool in one
 * native call.
 */
import type { StreamFormat } from './formats.js'
import type { StorePool } from '../allocator/object-pool.js'
import type { SlotDictionary } from '../store/codec-slots.js'

export type BackendPath = 'cpu' | 'hardware' | 'software' | 'simulated'

export interface BackendInfo {
  /** The compressor name the store was opened with, e.g. 'lz4', 'dpdk:isal', 'sim'. */
  name: string
  /** Stream format of every object this backend writes. */
  format: StreamFormat
  level: number
  /** Largest number of pages compressed in one batch. */
  maxBatch: number
  /** What actually runs: the CPU codec, a device, a library's software path, or a simulation. */
  path: BackendPath
  /** Library and driver versions, for reports. */
  version: string
}

export interface CompressOptions {
  /** Largest accepted compressed length; longer results are reported Incompressible. */
  threshold: number
  detectSameFilled: boolean
  /** Pooled backends: keep an incompressible page as a raw 4096-byte object (else report it and allocate nothing). */
  storeIncompressible?: boolean
}

/**
 * Results for `count` pages. status[i] is a compressed length (> 0) or a
 * PageStatus; output slot i is out[i*PAGE_SIZE, (i+1)*PAGE_SIZE), and holds the
 * 8-byte fill word for a same-filled page. The views stay valid until release().
 */
export interface CompressResult {
  status: Int32Array
  out: Uint8Array
  release(): void
}

/**
 * Results for `count` pages already in the store's pool (allocated by
 * compressBatchToPool, docs/allocator.md): per page, status[i] is the
 * compressed length, PageStatus.SameFilled (lo/hi: the fill word),
 * Incompressible (a raw 4096-byte object when lo ≠ 0, else rejected), or a
 * failure (CompressError, PoolStatus.AllocFail); lo[i] is the handle, hi[i] the
 * object's length, sums[i] its checksum. A page owns an object iff
 * status ≠ SameFilled and lo ≠ 0: whoever gives up the result frees those.
 * A page that was never reached reads status NotReached and lo 0.
 */
export interface PooledResult {
  pooled: true
  status: Int32Array
  lo: Uint32Array
  hi: Uint32Array
  sums: Uint32Array | undefined
  release(): void
}

/** status of a page a pooled compress never reached (its task failed first). */
export const NOT_REACHED = -100

/**
 * A batch of pool objects to decode: job i is object handles[i] of lengths[i]
 * bytes (4096: a raw page) in the stream format FORMATS[slots[i]], checked
 * against sums[i] when `sums` is given, decoded into page dstPages[i] of dst.
 * status[i] becomes PAGE_SIZE or a DecodeStatus. The arrays may be shared
 * memory (workers read them in place).
 */
export interface DecompressRequest {
  pool: StorePool
  handles: Uint32Array
  lengths: Uint32Array
  slots: Uint8Array
  sums: Uint32Array | undefined
  dstPages: Uint32Array
  count: number
  /** Shared memory: the backend may write it from other threads. */
  dst: Uint8Array
  status: Int32Array
  /** Dictionaries of the dictionary slots (5..15) the jobs name. */
  dicts?: Record<number, SlotDictionary>
}

/**
 * A batch of objects already in memory (a device's own decode API): job i is
 * [arena, offset, length, dstPage] in `jobs`, in the stream format
 * FORMATS[slots[i]], checked against sums[i] when `sums` is given.
 */
export interface ArenaDecompressRequest {
  arenas: readonly (Uint8Array | undefined)[]
  jobs: Int32Array
  slots: Uint8Array
  sums: Uint32Array | undefined
  count: number
  /** Shared memory: the backend may write it from other threads. */
  dst: Uint8Array
  status: Int32Array
  /** Dictionaries of the dictionary slots (5..15) the jobs name. */
  dicts?: Record<number, SlotDictionary>
}

/**
 * How a decode batch is split between threads: jobs are sorted largest first
 * and dealt round-robin, job k to share k % shares, and each share's jobs are
 * contiguous (share s starts at shareStart(count, shares, s)), so every share
 * starts with its longest job. The last share is the calling thread's.
 */
export function shareStart(count: number, shares: number, s: number): number {
  let start = 0
  for (let r = 0; r < s; r++) start += Math.ceil((count - r) / shares)
  return start
}

export function shareCount(count: number, shares: number, s: number): number {
  return Math.max(0, Math.ceil((count - s) / shares))
}

export interface CompressBackend {
  readonly info: BackendInfo
  /**
   * True when compress() returns its result before returning (no promise):
   * the store may then hand it the caller's memory. Otherwise the store hands
   * it a copy the store owns, so the caller's buffer is free the moment
   * storeFolio() returns.
   */
  readonly synchronous: boolean
  compress(pages: Uint8Array, count: number, options: CompressOptions): CompressResult | PooledResult | Promise<CompressResult | PooledResult>
  /**
   * Decodes a batch off the calling thread (worker pool, device). Absent on
   * backends that have nothing better than the calling thread.
   */
  decompressMany?(request: DecompressRequest): Promise<void>
  /**
   * Shared memory the backend's threads already map (given to them once, at
   * start): the store stages folios here when it can, so a task names its pages
   * by offset and carries no buffer (posting a SharedArrayBuffer costs tens of µs).
   */
  readonly stagingBuffer?: SharedArrayBuffer
  /** How many shares decompressMany splits a batch into (see shareStart); the store lays jobs out so. Default 1. */
  readonly decodeShares?: number
  /** Below this many objects a batch is decoded on the calling thread instead. */
  readonly minDecompressBatch: number
  /** Whether decompressMany can decode objects of this slot (default: every slot). */
  decodes?(slot: number): boolean
  /** Backend-specific counters, merged into PageStore.stats().backend. */
  stats(): Record<string, number>
  /** Settles (rejects) whatever it still has in flight, then releases its resources. */
  close(): Promise<void>
}
