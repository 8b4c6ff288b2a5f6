/**
 * The synchronous CPU backend: compresses on the calling thread straight into
 * the store's pool, one native call per batch. It is the `workers: 0` path and
 * the reference every other backend is checked against. It compresses before
 * compress() returns, so the store hands it the caller's memory directly:
 * nothing outlives the call, and no page is copied but into its slot.
 */
import type { BackendInfo, CompressBackend, CompressOptions, PooledResult } from './backend.js'
import type { StreamFormat } from './formats.js'
import { loadNative, type NativeCodec } from '../native.js'
import { compressInBatchesToPool } from '../folio/batches.js'
import { CompressToPool } from '../allocator/native-pool.js'
import type { StorePool } from '../allocator/object-pool.js'
import { openDictionaryCodec } from './dictionary.js'
import type { SlotDictionary } from '../store/codec-slots.js'

export class CpuBackend implements CompressBackend {
  readonly info: BackendInfo
  readonly synchronous = true
  readonly minDecompressBatch = Infinity
  private readonly codec: NativeCodec
  // One result area, reused: results are consumed before compress() is called again.
  private status = new Int32Array(0)
  private lo = new Uint32Array(0)
  private hi = new Uint32Array(0)
  private sums = new Uint32Array(0)
  private inUse = false

  constructor(format: StreamFormat, level: number, maxBatch: number, private readonly pool: StorePool, dictionary?: SlotDictionary) {
    const native = loadNative()
    this.codec = dictionary ? openDictionaryCodec(dictionary.format, level, dictionary.bytes, dictionary.id) : new native.Codec(format, level)
    const name = dictionary ? `${format}+dict${dictionary.id}` : format
    this.info = { name, format, level, maxBatch, path: 'cpu', version: native.codecLibraries }
  }

  compress(pages: Uint8Array, count: number, options: CompressOptions): PooledResult {
    if (this.inUse) throw new Error('CpuBackend results are still in use: release() the previous result first')
    if (this.status.length < count) {
      this.status = new Int32Array(count)
      this.lo = new Uint32Array(count)
      this.hi = new Uint32Array(count)
      this.sums = new Uint32Array(count)
    }
    const { status, lo, hi } = this
    const sums = this.pool.checksummed ? this.sums : null
    const flags = (options.detectSameFilled ? CompressToPool.SameFilled : 0) | (options.storeIncompressible ? CompressToPool.StoreRaw : 0)
    compressInBatchesToPool(this.codec, this.pool.native, pages, 0, count, { status, lo, hi, sums, page: 0 }, this.info.maxBatch, options.threshold, flags)
    this.inUse = true
    return { pooled: true, status, lo, hi, sums: sums ?? undefined, release: () => { this.inUse = false } }
  }

  stats(): Record<string, number> {
    return {}
  }

  async close(): Promise<void> {}
}
