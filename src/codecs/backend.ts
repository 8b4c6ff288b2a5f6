/**
 * A compress backend turns the pages of one folio into per-page results, and
 * decodes batches of stored objects. The PageStore does not care whether that
 * ran on this thread, in a worker pool, or on an accelerator: it reads the
 * results and publishes them.
 */
import type { StreamFormat } from './formats.js'
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
 * A batch of stored objects to decode: job i is [arena, offset, length, dstPage]
 * in `jobs`, in the stream format FORMATS[slots[i]], checked against sums[i]
 * when `sums` is given. status[i] becomes PAGE_SIZE or a DecodeStatus.
 */
export interface DecompressRequest {
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

export interface CompressBackend {
  readonly info: BackendInfo
  /**
   * True when compress() returns its result before returning (no promise):
   * the store may then hand it the caller's memory. Otherwise the store hands
   * it a copy the store owns, so the caller's buffer is free the moment
   * storeFolio() returns.
   */
  readonly synchronous: boolean
  compress(pages: Uint8Array, count: number, options: CompressOptions): CompressResult | Promise<CompressResult>
  /**
   * Decodes a batch off the calling thread (worker pool, device). Absent on
   * backends that have nothing better than the calling thread.
   */
  decompressMany?(request: DecompressRequest): Promise<void>
  /** Below this many objects a batch is decoded on the calling thread instead. */
  readonly minDecompressBatch: number
  /** Whether decompressMany can decode objects of this slot (default: every slot). */
  decodes?(slot: number): boolean
  /** Backend-specific counters, merged into PageStore.stats().backend. */
  stats(): Record<string, number>
  /** Settles (rejects) whatever it still has in flight, then releases its resources. */
  close(): Promise<void>
}
