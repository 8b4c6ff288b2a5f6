/**
 * A CompressBackend over one native device engine. A folio is cut into
 * batches of at most info.maxBatch pages; all of them are handed to the engine
 * at once and the folio's result is returned only when every page of every
 * batch has its final status (compressed, CPU fallback, raw or same-filled).
 * The engine thread does the waiting; this thread only awaits a promise.
 *
 * The engine reads the pages in place until the folio completes: the store
 * hands it its own staging copy, never the caller's buffer.
 */
import { PAGE_SIZE } from '../codecs/status.js'
import { formatId } from '../codecs/formats.js'
import type { ArenaDecompressRequest, BackendInfo, CompressBackend, CompressOptions, CompressResult, DecompressRequest } from '../codecs/backend.js'
import { ClosedError, InvalidArgumentError } from '../errors.js'
import { forEachBatch } from '../folio/batches.js'
import { loadNative } from '../native.js'
import { fromNative } from './errors.js'
import type { DeviceCaps, DeviceCounters, NativeDeviceEngine } from './native-devices.js'

/** Below this many objects a loadMany decodes on the calling thread: a device round trip costs more. */
export const DEVICE_MIN_DECOMPRESS_BATCH = 1
const DEFLATE_4K_SLOT = formatId('deflate-4k')

export type DeviceCompressBackend = CompressBackend & {
  readonly caps: DeviceCaps
  decompressMany(request: DecompressRequest): Promise<void>
  decompressArenas(request: ArenaDecompressRequest): Promise<void>
  stats(): Record<string, number> & DeviceCounters
}

export class DeviceBackend implements DeviceCompressBackend {
  readonly info: BackendInfo
  readonly caps: DeviceCaps
  readonly synchronous = false
  readonly minDecompressBatch = DEVICE_MIN_DECOMPRESS_BATCH
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
      pending.push(this.engine.compress(
        pages.subarray(first * PAGE_SIZE, (first + n) * PAGE_SIZE), n,
        out.subarray(first * PAGE_SIZE, (first + n) * PAGE_SIZE), status.subarray(first, first + n),
        options.threshold, options.detectSameFilled,
      ))
    })
    // Every batch settles before the folio does: a failed batch must not leave
    // another still writing into buffers a later folio could be handed.
    const results = await Promise.allSettled(pending)
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failed) throw fromNative(this.info.name, failed.reason)
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

  /** A device decodes its own stream format (deflate-4k, raw pages included); other slots decode on the CPU. */
  decodes(slot: number): boolean {
    return slot === DEFLATE_4K_SLOT
  }

  /**
   * Decodes a batch of pool objects: they are gathered out of the pool into
   * one shared buffer (one native call; the device reads memory it can be
   * handed, not the pool's), then decoded as decompressArenas does.
   */
  async decompressMany(request: DecompressRequest): Promise<void> {
    if (this.closed) throw new ClosedError(`device ${this.info.name}`)
    const { count, handles, lengths, dstPages } = request
    const offsets = new Uint32Array(count)
    const jobs = new Int32Array(count * 4)
    let bytes = 0
    for (let i = 0; i < count; i++) {
      offsets[i] = bytes
      jobs[i * 4 + 1] = bytes
      jobs[i * 4 + 2] = lengths[i]
      jobs[i * 4 + 3] = dstPages[i]
      bytes += lengths[i]
    }
    const arena = new Uint8Array(new SharedArrayBuffer(Math.max(bytes, 1)))
    const copied = request.pool.gather(handles, lengths, count, arena, offsets)
    if (copied < 0) {
      // A handle named no live object: report it per job, decode nothing.
      request.status.fill(copied, 0, count)
      return
    }
    await this.decompressArenas({ arenas: [arena], jobs, slots: request.slots, sums: request.sums, count, dst: request.dst, status: request.status })
  }

  /**
   * Decodes stored deflate-4k (or raw) objects on the device, two largest
   * first; a page the device fails is decoded on the CPU. Objects are checked
   * against their checksums here first: a device cannot, and a damaged object
   * must never be decoded into a page.
   */
  async decompressArenas(request: ArenaDecompressRequest): Promise<void> {
    if (this.closed) throw new ClosedError(`device ${this.info.name}`)
    const { arenas, count, dst, status } = request
    let jobs = request.jobs
    let submit = count
    let order: Int32Array | undefined
    if (request.sums) {
      loadNative().checkObjects(arenas, jobs, count, request.sums, status)
      order = new Int32Array(count)
      submit = 0
      for (let i = 0; i < count; i++) if (status[i] === 0) order[submit++] = i
      if (submit < count) {
        const good = new Int32Array(submit * 4)
        for (let k = 0; k < submit; k++) good.set(jobs.subarray(order[k] * 4, order[k] * 4 + 4), k * 4)
        jobs = good
      } else {
        order = undefined
      }
    }
    const results = order ? new Int32Array(submit) : status
    try {
      if (submit > 0) await this.engine.decompress(arenas as Uint8Array[], jobs, submit, dst, results)
    } catch (err) {
      throw fromNative(this.info.name, err)
    }
    if (order) for (let k = 0; k < submit; k++) status[order[k]] = results[k]
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
