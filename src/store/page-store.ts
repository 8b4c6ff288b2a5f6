/**
 * PageStore: zswap's store/load/invalidate over a zsmalloc-like pool.
 *
 * storeFolio() reads top-down like zswap_store():
 *   validate → check limits → compress every page (in batches, by the backend)
 *   → allocate and copy every object → publish every entry (freeing old ones).
 * Nothing is published until every page of the folio has an object, so any
 * failure leaves no entry for any key of the folio, stale older entries
 * included (zswap's check_old), and says why.
 */
import { BackendUnavailableError, ClosedError, DecompressError, InvalidArgumentError, StoreRejectedError, type RejectReason } from '../errors.js'
import { PAGE_SIZE, PageStatus, DecodeStatus } from '../codecs/status.js'
import { formatId, FORMATS, type StreamFormat } from '../codecs/formats.js'
import type { BackendInfo, CompressBackend, CompressResult } from '../codecs/backend.js'
import { CpuBackend } from '../codecs/cpu-backend.js'
import { loadNative, type NativeAddon, type NativeCodec } from '../native.js'
import { ZsPool, type PoolStats } from '../allocator/zs-pool.js'
import { EntryKind, EntryTable } from '../entries/entry-table.js'
import { ZswapCounters, folioSizeName } from './counters.js'
import { DEFAULT_MAX_BATCH, describe, MAX_FOLIO_PAGES, resolveOptions, type PageStoreOptions, type ResolvedOptions } from './options.js'
import { TEST_HOOKS, type TestHooks } from './test-hooks.js'
import { WorkerPoolBackend } from '../pool/worker-pool.js'
import { isDeviceCompressor, openDeviceBackend, DeviceBackend } from '../devices/index.js'
import { availableParallelism } from 'node:os'

export const MAX_KEY = 2 ** 32 - 1

export interface LoadOptions {
  /** Write the page here (at least PAGE_SIZE bytes; the first PAGE_SIZE are written) instead of a new array. */
  into?: Uint8Array
  /** Free the entry after a successful load (zswap's loads are always exclusive). Default false. */
  exclusive?: boolean
}

export interface LoadManyResult {
  /** keys.length pages; a page whose key is absent is left as it was (zero in a new buffer). */
  pages: Uint8Array
  /** 1 for each key that was found. */
  present: Uint8Array
  /** Number of keys found. */
  count: number
}

/** Below this many compressed pages a loadMany decompresses inline: a pool round trip would cost more. */
export const LOAD_MANY_INLINE_PAGES = 64

export interface PageStoreStats {
  stored_pages: number
  pool_total_size: number
  same_filled_pages: number
  stored_incompressible_pages: number
  /** Bytes of compressed objects (memcg's `zswap`); raw pages count PAGE_SIZE. */
  compressed_bytes: number
  reject_compress_fail: number
  reject_compress_poor: number
  reject_alloc_fail: number
  reject_backend_fail: number
  pool_limit_hit: number
  decompress_fail: number
  zswpout: number
  zswpin: number
  /** Successful folio stores by folio size: { '4kB': n, '64kB': n, … } (per-order zswpout). */
  zswpout_folios: Record<string, number>
  /** Entry table + allocator metadata, in bytes, and per stored page. */
  metadata_bytes: number
  metadata_bytes_per_page: number
  pool: PoolStats
  backend: BackendInfo & { counters: Record<string, number> }
}

export class PageStore {
  readonly options: Readonly<ResolvedOptions>
  private readonly backend: CompressBackend
  private readonly formatSlot: number
  private readonly decoders: NativeCodec[]
  private readonly native: NativeAddon
  private readonly pool: ZsPool
  private readonly entries = new EntryTable()
  private readonly counters = new ZswapCounters()
  private readonly acceptBytes: number
  private reachedFull = false
  private closed = false
  // Scratch for one folio's handles, reused across stores (no per-page objects).
  private handles = new Uint32Array(MAX_FOLIO_PAGES)
  // Copy plans for one folio: [arena, offset, source offset, length] per object.
  private readonly compressedPlan = new Int32Array(MAX_FOLIO_PAGES * 4)
  private readonly rawPlan = new Int32Array(MAX_FOLIO_PAGES * 4);
  [TEST_HOOKS]?: TestHooks

  static async open(options?: PageStoreOptions): Promise<PageStore> {
    const resolved = resolveOptions(options, isDeviceCompressor, availableParallelism())
    const format = resolved.format
    let backend: CompressBackend
    if (!format) {
      // An accelerator: it compresses (with its own CPU fallback); loads use the CPU decoder or the device.
      backend = await openDeviceBackend(resolved.compressor, {
        maxBatch: resolved.maxBatch ?? DEFAULT_MAX_BATCH, level: resolved.level, device: resolved.device,
      })
    } else if (resolved.workers > 0) {
      const pool = new WorkerPoolBackend({
        format, level: resolved.level!, maxBatch: resolved.maxBatch!, workers: resolved.workers,
        threshold: resolved.incompressibleThreshold, sameFilled: resolved.sameFilled,
      })
      try {
        await pool.ready
      } catch (err) {
        await pool.close()
        throw new BackendUnavailableError(`the compression worker pool failed to start: ${(err as Error).message}`, { cause: err })
      }
      backend = pool
    } else {
      backend = new CpuBackend(format, resolved.level!, resolved.maxBatch!)
    }
    return new PageStore(resolved, backend)
  }

  private constructor(options: ResolvedOptions, backend: CompressBackend) {
    this.options = Object.freeze({ ...options })
    this.backend = backend
    this.native = loadNative()
    this.formatSlot = formatId(backend.info.format)
    // One CPU decoder per format: an entry is read back by its format, whatever wrote it.
    this.decoders = FORMATS.map((f: StreamFormat) => new this.native.Codec(f, 1))
    this.pool = new ZsPool({ maxBytes: options.maxPoolBytes })
    this.acceptBytes = (options.maxPoolBytes * options.acceptThresholdPercent) / 100
  }

  get info(): BackendInfo {
    return this.backend.info
  }

  /**
   * Stores `pages` (n × PAGE_SIZE bytes, 1 ≤ n ≤ 512) under keys firstKey … firstKey + n − 1.
   * Resolves when every page is stored; rejects with StoreRejectedError, leaving
   * no entry for any of those keys, when any page cannot be.
   */
  async storeFolio(firstKey: number, pages: Uint8Array): Promise<void> {
    const n = this.checkFolio(firstKey, pages)
    if (this.checkLimits()) {
      this.counters.pool_limit_hit++
      this.reject(firstKey, n, 'pool_limit', `pool is at its limit (${this.pool.totalSize()} of ${this.options.maxPoolBytes} bytes)`)
    }
    const hooks = this[TEST_HOOKS]
    const options = {
      threshold: this.options.incompressibleThreshold,
      detectSameFilled: this.options.sameFilled,
      failPage: hooks?.failCompress ? hooks.failCompress(firstKey, n) : -1,
      crashWorker: hooks?.crashWorker ? hooks.crashWorker(firstKey, n) : false,
    }
    let pending = this.backend.compress(pages, n, options)
    let result: CompressResult
    try {
      result = pending instanceof Promise ? await pending : pending
    } catch (err) {
      this.counters.reject_backend_fail++
      const reason = this.backend.info.path === 'cpu' ? 'worker_fail' : 'device_fail'
      this.reject(firstKey, n, reason, `${this.backend.info.name} failed: ${(err as Error).message}`, undefined, err)
    }
    this.checkOpen()
    try {
      this.allocateAll(firstKey, n, pages, result!)
      this.publishAll(firstKey, n, result!)
    } finally {
      result!.release()
    }
    this.counters.countFolio(n)
  }

  /** Loads one page. Resolves to the page, or undefined when the key is absent. */
  async load(key: number, options?: LoadOptions): Promise<Uint8Array | undefined> {
    return this.loadSync(key, options)
  }

  /**
   * The fault path: decompresses on the calling thread, with no thread hop.
   * A corrupted object throws DecompressError, bumps decompress_fail and keeps the entry.
   */
  loadSync(key: number, options?: LoadOptions): Uint8Array | undefined {
    this.checkOpen()
    checkKey(key, 'key')
    const into = options?.into
    if (into !== undefined && (!(into instanceof Uint8Array) || into.length < PAGE_SIZE)) {
      throw new InvalidArgumentError(`'into' must be a Uint8Array of at least ${PAGE_SIZE} bytes, got ${describe(into)}`)
    }
    const kind = this.entries.find(key)
    if (kind === EntryKind.Empty) return undefined
    const dst = into ?? new Uint8Array(PAGE_SIZE)
    const lo = this.entries.lo
    const hi = this.entries.hi
    if (kind === EntryKind.SameFilled) {
      this.native.fillPage(dst, 0, lo, hi)
    } else {
      this.pool.locate(lo)
      const { bytes } = this.pool.arena
      if (kind === EntryKind.Raw) {
        dst.set(bytes.subarray(this.pool.offset, this.pool.offset + PAGE_SIZE))
      } else {
        const status = this.decoders[this.entries.slot].decompress(bytes, this.pool.offset, hi, dst, 0)
        if (status !== PAGE_SIZE) {
          this.counters.decompress_fail++
          throw new DecompressError(key, status, status === DecodeStatus.WrongSize ? 'wrong size' : 'corrupt stream')
        }
      }
    }
    this.counters.zswpin++
    if (options?.exclusive) this.dropEntry(key)
    return dst
  }

  /**
   * Swap-in readahead: loads many pages in one call. With a worker pool, the
   * compressed pages are decompressed there, largest objects first (iaa_crypto's
   * "two largest first": the longest jobs start earliest); small batches are
   * decompressed inline, where a pool round trip would cost more than it saves.
   * Absent keys are reported in `present`, not as errors.
   */
  async loadMany(keys: ArrayLike<number>, options?: LoadOptions): Promise<LoadManyResult> {
    this.checkOpen()
    if (keys === null || typeof keys !== 'object' || typeof keys.length !== 'number') {
      throw new InvalidArgumentError(`keys must be an array of integers, got ${describe(keys)}`)
    }
    const n = keys.length
    for (let i = 0; i < n; i++) checkKey(keys[i], `keys[${i}]`)
    const into = options?.into
    if (into !== undefined && (!(into instanceof Uint8Array) || into.length < n * PAGE_SIZE)) {
      throw new InvalidArgumentError(`'into' must be a Uint8Array of at least ${n * PAGE_SIZE} bytes, got ${describe(into)}`)
    }
    const pool = this.backend instanceof WorkerPoolBackend ? this.backend
      : this.backend instanceof DeviceBackend ? this.backend : undefined
    const sharedInto = into && into.buffer instanceof SharedArrayBuffer
    const dst = sharedInto ? into : pool ? new Uint8Array(new SharedArrayBuffer(n * PAGE_SIZE)) : into ?? new Uint8Array(n * PAGE_SIZE)
    const present = new Uint8Array(n)
    const handles = new Uint32Array(n)
    // Compressed pages become jobs; same-filled and raw pages are cheaper done here than described.
    const jobKeys: number[] = []
    let found = 0
    for (let i = 0; i < n; i++) {
      const kind = this.entries.find(keys[i])
      if (kind === EntryKind.Empty) continue
      present[i] = 1
      found++
      const lo = this.entries.lo
      handles[i] = lo
      if (kind === EntryKind.SameFilled) {
        this.native.fillPage(dst, i * PAGE_SIZE, lo, this.entries.hi)
      } else if (kind === EntryKind.Raw) {
        this.pool.locate(lo)
        dst.set(this.pool.arena.bytes.subarray(this.pool.offset, this.pool.offset + PAGE_SIZE), i * PAGE_SIZE)
      } else if (!pool) {
        this.decompressInto(keys[i], dst, i)
      } else {
        jobKeys.push(i)
      }
    }
    if (pool && jobKeys.length > 0) {
      if (jobKeys.length < LOAD_MANY_INLINE_PAGES && pool instanceof WorkerPoolBackend) {
        for (const i of jobKeys) this.decompressInto(keys[i], dst, i)
      } else {
        await this.decompressInPool(pool, keys, jobKeys, dst)
      }
    }
    this.counters.zswpin += found
    if (options?.exclusive) {
      for (let i = 0; i < n; i++) {
        // Drop only the entry that was read: a key stored again meanwhile keeps its new page.
        if (present[i] && this.entries.find(keys[i]) !== EntryKind.Empty && this.entries.lo === handles[i]) this.dropEntry(keys[i])
      }
    }
    if (into && dst !== into) into.set(dst.subarray(0, n * PAGE_SIZE))
    return { pages: into ?? dst, present, count: found }
  }

  private decompressInto(key: number, dst: Uint8Array, index: number): void {
    this.entries.find(key)
    this.pool.locate(this.entries.lo)
    const status = this.decoders[this.entries.slot].decompress(this.pool.arena.bytes, this.pool.offset, this.entries.hi, dst, index * PAGE_SIZE)
    if (status !== PAGE_SIZE) {
      this.counters.decompress_fail++
      throw new DecompressError(key, status, status === DecodeStatus.WrongSize ? 'wrong size' : 'corrupt stream')
    }
  }

  /** Test support: the order in which the last pooled loadMany submitted its pages (indexes into keys). */
  lastLoadManyOrder: number[] = []

  private async decompressInPool(pool: WorkerPoolBackend | DeviceBackend, keys: ArrayLike<number>, jobKeys: number[], dst: Uint8Array): Promise<void> {
    // Largest first: sort packed (PAGE_SIZE - length, position) keys, a native numeric sort.
    const n = jobKeys.length
    const order = new Float64Array(n)
    for (let j = 0; j < n; j++) {
      this.entries.find(keys[jobKeys[j]])
      order[j] = (PAGE_SIZE - this.entries.hi) * 2 ** 32 + jobKeys[j]
    }
    order.sort()
    for (let j = 0; j < n; j++) jobKeys[j] = order[j] % 2 ** 32
    this.lastLoadManyOrder = jobKeys
    if (pool instanceof DeviceBackend) return this.decompressOnDevice(pool, keys, jobKeys, dst)
    // Dealt round-robin, so every task starts with its longest jobs.
    const tasks = Math.min(pool.workers, Math.ceil(n / (LOAD_MANY_INLINE_PAGES / 2)))
    const arenas = this.pool.arenaBytes()
    const status = new SharedArrayBuffer(n * 4)
    const perTask = Array.from({ length: tasks }, (_, t) => {
      const count = Math.ceil((n - t) / tasks)
      return { jobs: new Int32Array(count * 4), slots: new Uint8Array(count), used: [] as (SharedArrayBuffer | undefined)[] }
    })
    const submitted: number[] = new Array(n) // status position -> index into keys
    for (let j = 0; j < n; j++) {
      const t = j % tasks
      const local = (j - t) / tasks
      const task = perTask[t]
      const i = jobKeys[j]
      this.entries.find(keys[i])
      this.pool.locate(this.entries.lo)
      const at = local * 4
      task.jobs[at] = this.pool.arenaIndex
      task.jobs[at + 1] = this.pool.offset
      task.jobs[at + 2] = this.entries.hi
      task.jobs[at + 3] = i
      task.slots[local] = this.entries.slot
      task.used[this.pool.arenaIndex] = arenas[this.pool.arenaIndex]!.buffer as SharedArrayBuffer
    }
    const runs: Promise<unknown>[] = []
    let statusOffset = 0
    this.asyncReaders++
    try {
      for (let t = 0; t < tasks; t++) {
        const { jobs, slots, used } = perTask[t]
        for (let local = 0; local < slots.length; local++) submitted[statusOffset + local] = jobs[local * 4 + 3]
        runs.push(pool.decompress({
          arenas: used, jobs, slots, dst: dst.buffer as SharedArrayBuffer, dstOffset: dst.byteOffset, status, statusOffset,
        }))
        statusOffset += slots.length
      }
      await Promise.all(runs)
    } finally {
      if (--this.asyncReaders === 0) this.flushDeferredFrees()
    }
    this.checkDecoded(keys, submitted, new Int32Array(status))
  }

  /**
   * Readahead on an accelerator: one decompress batch, largest inputs first; the
   * device falls back to its CPU decoder on errors and counts it.
   */
  private async decompressOnDevice(device: DeviceBackend, keys: ArrayLike<number>, jobKeys: number[], dst: Uint8Array): Promise<void> {
    const arenas = this.pool.arenaBytes() as Uint8Array[]
    const jobs = new Int32Array(jobKeys.length * 4)
    jobKeys.forEach((i, j) => {
      this.entries.find(keys[i])
      this.pool.locate(this.entries.lo)
      jobs.set([this.pool.arenaIndex, this.pool.offset, this.entries.hi, i], j * 4)
    })
    const status = new Int32Array(jobKeys.length)
    this.asyncReaders++
    try {
      await device.decompressMany(arenas, jobs, jobKeys.length, dst, status)
    } finally {
      if (--this.asyncReaders === 0) this.flushDeferredFrees()
    }
    this.checkDecoded(keys, jobKeys, status)
  }

  private checkDecoded(keys: ArrayLike<number>, order: number[], results: Int32Array): void {
    let firstBad = -1
    for (let j = 0; j < order.length; j++) {
      if (results[j] !== PAGE_SIZE) {
        this.counters.decompress_fail++
        if (firstBad < 0) firstBad = j
      }
    }
    if (firstBad >= 0) {
      const s = results[firstBad]
      throw new DecompressError(keys[order[firstBad]], s, s === DecodeStatus.WrongSize ? 'wrong size' : 'corrupt stream')
    }
  }

  /** Drops the entry for `key` (swap slot freed). Returns whether there was one. */
  invalidate(key: number): boolean {
    this.checkOpen()
    checkKey(key, 'key')
    return this.dropEntry(key)
  }

  /** Whether `key` has an entry. */
  has(key: number): boolean {
    checkKey(key, 'key')
    return this.entries.find(key) !== EntryKind.Empty
  }

  get size(): number {
    return this.entries.size
  }

  /** Moves objects to release partly used slabs; returns the bytes released. */
  compact(): number {
    this.checkOpen()
    // Workers may be reading objects in place; moving them now would hand them stale bytes.
    if (this.asyncReaders > 0) return 0
    return this.pool.compact((visit) => this.entries.relocateObjects(visit)) * PAGE_SIZE
  }

  stats(): PageStoreStats {
    const c = this.counters
    const pool = this.pool.stats()
    const metadata = this.entries.metadataBytes() + pool.metadata_bytes
    const folios: Record<string, number> = {}
    for (const [pages, count] of [...c.zswpoutByPages].sort((a, b) => a[0] - b[0])) folios[folioSizeName(pages)] = count
    return {
      stored_pages: this.entries.size,
      pool_total_size: pool.pool_total_size,
      same_filled_pages: c.same_filled_pages,
      stored_incompressible_pages: c.stored_incompressible_pages,
      compressed_bytes: c.compressed_bytes,
      reject_compress_fail: c.reject_compress_fail,
      reject_compress_poor: c.reject_compress_poor,
      reject_alloc_fail: c.reject_alloc_fail,
      reject_backend_fail: c.reject_backend_fail,
      pool_limit_hit: c.pool_limit_hit,
      decompress_fail: c.decompress_fail,
      zswpout: c.zswpout,
      zswpin: c.zswpin,
      zswpout_folios: folios,
      metadata_bytes: metadata,
      metadata_bytes_per_page: this.entries.size ? metadata / this.entries.size : 0,
      pool,
      backend: { ...this.backend.info, counters: this.backend.stats() },
    }
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.backend.close()
  }

  // --- store steps ---------------------------------------------------------

  private checkFolio(firstKey: number, pages: Uint8Array): number {
    this.checkOpen()
    checkKey(firstKey, 'firstKey')
    if (!(pages instanceof Uint8Array)) {
      throw new InvalidArgumentError(`pages must be a Uint8Array, got ${describe(pages)}`)
    }
    const n = pages.length / PAGE_SIZE
    if (!Number.isInteger(n) || n < 1 || n > MAX_FOLIO_PAGES) {
      throw new InvalidArgumentError(
        `pages must hold 1..${MAX_FOLIO_PAGES} whole pages of ${PAGE_SIZE} bytes, got ${pages.length} bytes`,
        'ERR_ZSTASH_BAD_FOLIO',
      )
    }
    if (firstKey + n - 1 > MAX_KEY) {
      throw new InvalidArgumentError(`keys ${firstKey}..${firstKey + n - 1} run past ${MAX_KEY}`, 'ERR_ZSTASH_OUT_OF_RANGE')
    }
    return n
  }

  /** zswap_check_limits(): refuse at the limit until usage falls below the accept threshold. */
  private checkLimits(): boolean {
    if (!Number.isFinite(this.options.maxPoolBytes)) return false
    const current = this.pool.totalSize()
    if (current >= this.options.maxPoolBytes) this.reachedFull = true
    else if (this.reachedFull && current <= this.acceptBytes) this.reachedFull = false
    return this.reachedFull
  }

  /**
   * Gives every page an object (or a fill word) without publishing anything.
   * The bytes are copied only once every allocation succeeded, in one native
   * call per source: no per-page views for the GC to collect.
   */
  private allocateAll(firstKey: number, n: number, pages: Uint8Array, result: CompressResult): void {
    const { status, out } = result
    const { handles, compressedPlan, rawPlan } = this
    const failAlloc = this[TEST_HOOKS]?.failAlloc
    let compressed = 0
    let raw = 0
    for (let i = 0; i < n; i++) {
      const s = status[i]
      if (s === PageStatus.SameFilled) {
        handles[i] = 0
        continue
      }
      let length: number
      if (s > 0) {
        length = s
      } else if (s === PageStatus.Incompressible && this.options.storeIncompressible) {
        length = PAGE_SIZE
      } else {
        this.freeHandles(i, status)
        if (s === PageStatus.Incompressible) {
          this.counters.reject_compress_poor++
          this.reject(firstKey, n, 'compress_poor', `page ${firstKey + i} is incompressible and storeIncompressible is off`, firstKey + i)
        }
        this.counters.reject_compress_fail++
        this.reject(firstKey, n, 'compress_fail', `page ${firstKey + i} failed to compress (status ${s})`, firstKey + i)
      }
      const handle = failAlloc?.(firstKey + i) ? 0 : this.pool.alloc(length)
      if (handle === 0) {
        this.freeHandles(i, status)
        this.counters.reject_alloc_fail++
        this.reject(firstKey, n, 'alloc_fail', `no pool memory for page ${firstKey + i} (${length} bytes)`, firstKey + i)
      }
      this.pool.locate(handle)
      const plan = s > 0 ? compressedPlan : rawPlan
      const at = (s > 0 ? compressed++ : raw++) * 4
      plan[at] = this.pool.arenaIndex
      plan[at + 1] = this.pool.offset
      plan[at + 2] = i * PAGE_SIZE
      plan[at + 3] = length
      handles[i] = handle
    }
    const arenas = this.pool.arenaBytes() as (Uint8Array | undefined)[]
    if (compressed > 0) this.native.copyObjects(arenas, compressedPlan, compressed, out)
    if (raw > 0) this.native.copyObjects(arenas, rawPlan, raw, pages)
  }

  /** Publishes every entry of the folio; an old entry under a key is freed first. */
  private publishAll(firstKey: number, n: number, result: CompressResult): void {
    const { status, out } = result
    const c = this.counters
    for (let i = 0; i < n; i++) {
      const key = firstKey + i
      this.dropEntry(key)
      const s = status[i]
      if (s === PageStatus.SameFilled) {
        const at = i * PAGE_SIZE
        this.entries.set(key, EntryKind.SameFilled, this.formatSlot, readU32(out, at), readU32(out, at + 4))
        c.same_filled_pages++
      } else if (s > 0) {
        this.entries.set(key, EntryKind.Compressed, this.formatSlot, this.handles[i], s)
        c.compressed_bytes += s
      } else {
        this.entries.set(key, EntryKind.Raw, this.formatSlot, this.handles[i], PAGE_SIZE)
        c.stored_incompressible_pages++
        c.compressed_bytes += PAGE_SIZE
      }
    }
  }

  /** Frees the objects allocated so far for pages [0, upTo) of the folio being stored. */
  private freeHandles(upTo: number, status: Int32Array): void {
    for (let i = 0; i < upTo; i++) {
      if (this.handles[i] !== 0) this.pool.free(this.handles[i], status[i] > 0 ? status[i] : PAGE_SIZE)
    }
  }

  /** Rejects the folio: erases every key of it, so no stale entry survives, and throws. */
  private reject(firstKey: number, n: number, reason: RejectReason, message: string, key?: number, cause?: unknown): never {
    for (let i = 0; i < n; i++) this.dropEntry(firstKey + i)
    throw new StoreRejectedError(reason, `folio ${firstKey}+${n} rejected: ${message}`, key, cause ? { cause } : undefined)
  }

  private dropEntry(key: number): boolean {
    const kind = this.entries.find(key)
    if (kind === EntryKind.Empty) return false
    const c = this.counters
    if (kind === EntryKind.SameFilled) {
      c.same_filled_pages--
    } else {
      const length = kind === EntryKind.Raw ? PAGE_SIZE : this.entries.hi
      this.freeObject(this.entries.lo, length)
      c.compressed_bytes -= length
      if (kind === EntryKind.Raw) c.stored_incompressible_pages--
    }
    this.entries.erase(key)
    return true
  }

  /** While workers read objects in place, frees wait, so no slot is reused under a reader. */
  private asyncReaders = 0
  private deferredFrees: number[] = []

  private freeObject(handle: number, length: number): void {
    if (this.asyncReaders > 0) this.deferredFrees.push(handle, length)
    else this.pool.free(handle, length)
  }

  private flushDeferredFrees(): void {
    const d = this.deferredFrees
    this.deferredFrees = []
    for (let i = 0; i < d.length; i += 2) this.pool.free(d[i], d[i + 1])
  }

  private checkOpen(): void {
    if (this.closed) throw new ClosedError()
  }
}

/** Little-endian 32-bit read without allocating a DataView per folio. */
function readU32(bytes: Uint8Array, at: number): number {
  return (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 0
}

function checkKey(key: number, name: string): void {
  if (typeof key !== 'number' || !Number.isInteger(key) || key < 0 || key > MAX_KEY) {
    throw new InvalidArgumentError(`${name} must be an integer in 0..${MAX_KEY}, got ${describe(key)}`, 'ERR_ZSTASH_BAD_KEY')
  }
}
