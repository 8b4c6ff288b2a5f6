/**
 * A compress backend turns the pages of one folio into per-page results. The
 * PageStore does not care whether that ran on this thread, in a worker pool, or
 * on an accelerator: it only reads the results and publishes them.
 */
import type { StreamFormat } from './formats.js'

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
  /** Test hook: index of a page in this folio that must fail (-1 for none). */
  failPage: number
  /** Test hook: end the worker thread that runs this folio (worker pool only). */
  crashWorker?: boolean
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

export interface CompressBackend {
  readonly info: BackendInfo
  compress(pages: Uint8Array, count: number, options: CompressOptions): CompressResult | Promise<CompressResult>
  /** Backend-specific counters, merged into PageStore.stats().backend. */
  stats(): Record<string, number>
  close(): Promise<void>
}
