/**
 * A CompressBackend over one native device engine. A folio is cut into
 * batches of at most info.maxBatch pages; all of them are handed to the engine
 * at once and the folio's result is returned only when every page of every
 * batch has its final status (compressed, CPU fallback, raw or same-filled).
 * The engine thread does the waiting; this thread only awaits a promise.
 */
import { PAGE_SIZE } from '../codecs/status.js'
import type { BackendInfo, CompressBackend, CompressOptions, CompressResult } from '../codecs/backend.js'
import { ClosedError, InvalidArgumentError } from '../errors.js'
import { forEachBatch } from '../folio/batches.js'
import { fromNative } from './errors.js'
import type { DeviceCaps, DeviceCounters, NativeDeviceEngine } from './native-devices.js'

export interface DecompressMany {
  /**
   * Decodes `count` deflate-4k (or raw, length PAGE_SIZE) objects. jobs holds
   * [arena, offset, length, dstPage] per object, as NativeCodec.decompressBatch;
   * status[i] becomes PAGE_SIZE or a DecodeStatus. The two largest inputs go to
   * the device first; a page the device fails is decoded on the CPU.
   */
  decompressMany(arenas: Uint8Array[], jobs: Int32Array, count: number, dst: Uint8Array, status: Int32Array): Promise<void>
}

export type DeviceCompressBackend = CompressBackend & DecompressMany & {
  readonly caps: DeviceCaps
  stats(): Record<string, number> & DeviceCounters
}

export class DeviceBackend implements DeviceCompressBackend {
  readonly info: BackendInfo
  readonly caps: DeviceCaps
  private readonly engine: NativeDeviceEngine
  private closed = false
  // Output buffers handed back by release(), reused by later folios.
  private spare: { out: Uint8Array; status: Int32Array }[] = []

  constructor(engine: NativeDeviceEngine, level: number) {
    this.engine = engine
    this.caps = engine.caps
    this.info = {
      name: engine.caps.name,
      format: 'deflate-4k',
      level,
      maxBatch: engine.caps.maxBatch,
      path: engine.caps.path,
      version: `${engine.caps.libraryVersion} (${engine.caps.driver})`,
    }
  }

  async compress(pages: Uint8Array, count: number, options: CompressOptions): Promise<CompressResult> {
    if (this.closed) throw new ClosedError(`device ${this.info.name}`)
    if (!Number.isInteger(count) || count < 0 || pages.byteLength < count * PAGE_SIZE) {
      throw new InvalidArgumentError(`${this.info.name}: ${count} pages do not fit in a ${pages.byteLength}-byte buffer`)
    }
    const buffers = this.take(count)
    const { out, status } = buffers
    const pending: Promise<void>[] = []
    forEachBatch(count, this.info.maxBatch, (first, n) => {
      const fail = options.failPage >= first && options.failPage < first + n ? options.failPage - first : -1
      pending.push(this.engine.compress(
        pages.subarray(first * PAGE_SIZE, (first + n) * PAGE_SIZE), n,
        out.subarray(first * PAGE_SIZE, (first + n) * PAGE_SIZE), status.subarray(first, first + n),
        options.threshold, options.detectSameFilled, fail,
      ))
    })
    try {
      await Promise.all(pending)
    } catch (err) {
      // Batches still in flight keep their own references to the buffers.
      throw fromNative(this.info.name, err)
    }
    let released = false
    return {
      status: status.subarray(0, count),
      out: out.subarray(0, count * PAGE_SIZE),
      release: () => {
        if (released) return
        released = true
        if (this.spare.length < 4) this.spare.push(buffers)
      },
    }
  }

  async decompressMany(arenas: Uint8Array[], jobs: Int32Array, count: number, dst: Uint8Array, status: Int32Array): Promise<void> {
    if (this.closed) throw new ClosedError(`device ${this.info.name}`)
    try {
      await this.engine.decompress(arenas, jobs, count, dst, status)
    } catch (err) {
      throw fromNative(this.info.name, err)
    }
  }

  stats(): Record<string, number> & DeviceCounters {
    return { ...this.engine.stats() }
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.spare = []
    await this.engine.close()
  }

  private take(count: number): { out: Uint8Array; status: Int32Array } {
    const i = this.spare.findIndex((b) => b.status.length >= count)
    if (i >= 0) return this.spare.splice(i, 1)[0]
    return { out: new Uint8Array(count * PAGE_SIZE), status: new Int32Array(count) }
  }
}
