/**
 * The synchronous CPU backend: one native call per batch on the calling thread.
 * It is the `workers: 0` path and the reference every other backend is checked
 * against. It compresses before compress() returns, so the store hands it the
 * caller's memory directly: nothing outlives the call.
 */
import { PAGE_SIZE } from './status.js'
import type { BackendInfo, CompressBackend, CompressOptions, CompressResult } from './backend.js'
import type { StreamFormat } from './formats.js'
import { loadNative, type NativeCodec } from '../native.js'
import { compressInBatches } from '../folio/batches.js'
import { openDictionaryCodec } from './dictionary.js'
import type { SlotDictionary } from '../store/codec-slots.js'

export class CpuBackend implements CompressBackend {
  readonly info: BackendInfo
  readonly synchronous = true
  readonly minDecompressBatch = Infinity
  private readonly codec: NativeCodec
  // One staging area, reused: results are consumed before compress() is called again.
  private out = new Uint8Array(0)
  private status = new Int32Array(0)
  private inUse = false

  constructor(format: StreamFormat, level: number, maxBatch: number, dictionary?: SlotDictionary) {
    const native = loadNative()
    this.codec = dictionary ? openDictionaryCodec(dictionary.format, level, dictionary.bytes, dictionary.id) : new native.Codec(format, level)
    const name = dictionary ? `${format}+dict${dictionary.id}` : format
    this.info = { name, format, level, maxBatch, path: 'cpu', version: native.codecLibraries }
  }

  compress(pages: Uint8Array, count: number, options: CompressOptions): CompressResult {
    if (this.inUse) throw new Error('CpuBackend staging is still in use: release() the previous result first')
    if (this.status.length < count) {
      this.out = new Uint8Array(count * PAGE_SIZE)
      this.status = new Int32Array(count)
    }
    const { codec, out, status } = this
    compressInBatches(codec, pages, 0, count, { out, status, page: 0 }, this.info.maxBatch, options.threshold, options.detectSameFilled)
    this.inUse = true
    return { status, out, release: () => { this.inUse = false } }
  }

  stats(): Record<string, number> {
    return {}
  }

  async close(): Promise<void> {}
}
