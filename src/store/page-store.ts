/**
 * PageStore: zswap's store/load/invalidate over a zsmalloc-like pool.
 *
 * Every operation takes effect, in the entry table, when it is called; work
 * that finishes later (compression in the pool or on a device, a readahead's
 * decompression) only completes what its call started, and only for keys no
 * later call has touched. So, per key, the last issued operation wins, and a
 * folio is all or nothing (docs/reliability.md).
 *
 * storeFolio() reads top-down like zswap_store():
 *   validate → admit (reserve the pool limit) → take the caller's bytes (a copy,
 *   for asynchronous backends) → mark the keys Pending (their old entries are
 *   dead: replaced, or erased if this store fails — zswap's check_old)
 *   → compress every page (in batches, by the backend) → allocate every object
 *   → publish the keys still Pending under this store's ticket.
 */
import { BackendUnavailableError, ClosedError, DecompressError, InvalidArgumentError, StoreRejectedError, ZstashError, type RejectReason } from '../errors.js'
import { PAGE_SIZE, PageStatus, DecodeStatus, decodeStatusName } from '../codecs/status.js'
import { formatId, FORMATS, type StreamFormat } from '../codecs/formats.js'
import type { BackendInfo, CompressBackend, CompressResult } from '../codecs/backend.js'
import { CpuBackend } from '../codecs/cpu-backend.js'
import { loadNative, type NativeAddon, type NativeCodec } from '../native.js'
import { ZsPool, type PoolStats } from '../allocator/zs-pool.js'
import { EntryKind, EntryTable } from '../entries/entry-table.js'
import { Staging } from '../folio/staging.js'
import { ZswapCounters, folioSizeName } from './counters.js'
import { DEFAULT_MAX_BATCH, MAX_FOLIO_PAGES, resolveOptions, type PageStoreOptions, type ResolvedOptions } from './options.js'
import { checkFolio, checkKey, checkKeys, checkLoadOptions, MAX_KEY } from './arguments.js'
import { Admission } from './admission.js'
import { Inflight } from './inflight.js'
import { KeyRanges } from './key-ranges.js'
import { TEST_HOOKS, type TestHooks } from './test-hooks.js'
import { WorkerPoolBackend } from '../pool/worker-pool.js'
import { isDeviceCompressor, openDeviceBackend } from '../devices/index.js'
import { availableParallelism } from 'node:os'

export { MAX_KEY }
export { LOAD_MANY_INLINE_PAGES } from '../pool/worker-pool.js'

export interface LoadOptions {
  /** Write the page(s) here (at least PAGE_SIZE bytes per key) instead of a new array. */
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
  /** Folios whose store is in flight, and the pool bytes they have reserved. */
  stores_in_flight: number
  reserved_bytes: number
  /** Entry table + allocator metadata, in bytes, and per stored page. */
  metadata_bytes: number
  metadata_bytes_per_page: number
  pool: PoolStats
  backend: BackendInfo & { counters: Record<string, number> }
}

/** Hooks for zstash's own tests (through 'zstash/internals'): wrap the backend the store opened. */
export interface OpenHooks {
  wrapBackend?: (backend: CompressBackend) => CompressBackend
}

/** Staging ring of the store's own copies of folios in flight (16 MiB, virtual until touched). */
const STAGING_PAGES = 4096

export class PageStore {
  readonly options: Readonly<ResolvedOptions>
  private readonly backend: CompressBackend
  private readonly formatSlot: number
  private readonly decoders: NativeCodec[]
  private readonly native: NativeAddon
  private readonly pool: ZsPool
  private readonly entries = new EntryTable()
  private readonly counters = new ZswapCounters()
  private readonly admission: Admission
  private readonly staging: Staging | undefined
  private readonly inflight = new Inflight()
  private readonly keyRanges = new KeyRanges()
  private closing: Promise<void> | undefined
  private finalStats: PageStoreStats | undefined
  // Scratch for one folio at a time (the commit is synchronous): no per-page objects.
  private readonly handles = new Uint32Array(MAX_FOLIO_PAGES)
  private readonly sums = new Uint32Array(MAX_FOLIO_PAGES)
  // Copy plans: [arena, offset, source offset, length] per object.
  private readonly compressedPlan = new Int32Array(MAX_FOLIO_PAGES * 4)
  private readonly rawPlan = new Int32Array(MAX_FOLIO_PAGES * 4);
  [TEST_HOOKS]?: TestHooks

  static async open(options?: PageStoreOptions): Promise<PageStore> {
    return openPageStore(options)
  }

  /** @internal Use PageStore.open(). */
  constructor(options: ResolvedOptions, backend: CompressBackend) {
    this.options = Object.freeze({ ...options })
    this.backend = backend
    this.native = loadNative()
    this.formatSlot = formatId(backend.info.format)
    // One CPU decoder per format: an entry is read back by its format, whatever wrote it.
    this.decoders = FORMATS.map((f: StreamFormat) => new this.native.Codec(f, 1))
    // The allocator's hard cap backs up the admission check: even a folio whose
    // objects open new slabs cannot take the pool past the limit by more than a slab run.
    this.pool = new ZsPool({ maxBytes: options.maxPoolBytes + POOL_CAP_SLACK })
    this.admission = new Admission(options.maxPoolBytes, options.acceptThresholdPercent)
    this.staging = backend.synchronous ? undefined : new Staging(STAGING_PAGES)
  }

  get info(): BackendInfo {
    return this.backend.info
  }

  /**
   * Stores `pages` (n × PAGE_SIZE bytes, 1 ≤ n ≤ 512) under keys firstKey … firstKey + n − 1.
   * The bytes are taken when the call returns: the caller may reuse the buffer at once.
   * Resolves when every page is stored; rejects with StoreRejectedError, leaving
   * no entry for any of those keys, when any page cannot be.
   */
  storeFolio(firstKey: number, pages: Uint8Array): Promise<void> {
    try {
      this.checkOpen()
      const folio = checkFolio(firstKey, pages)
      return this.inflight.track(this.store(firstKey, folio.bytes, folio.pages))
    } catch (err) {
      return Promise.reject(err)
    }
  }

  private async store(firstKey: number, src: Uint8Array, n: number): Promise<void> {
    if (!this.admission.admit(n, this.pool.totalSize())) {
      this.counters.pool_limit_hit++
      this.eraseKeys(firstKey, n)
      throw this.rejection(firstKey, n, 'pool_limit', `pool is at its limit (${this.pool.totalSize()} bytes used, ${this.admission.reservedBytes} reserved, of ${this.options.maxPoolBytes})`)
    }
    const ticket = this.inflight.ticket()
    // A synchronous backend compresses before this call returns, straight from the caller's memory.
    const staged = this.staging?.copy(src, n)
    const input = staged?.bytes ?? src
    this.markPending(firstKey, n, ticket)
    this.inflight.stage(ticket, input)
    let result: CompressResult | undefined
    try {
      const pending = this.backend.compress(input, n, {
        threshold: this.options.incompressibleThreshold, detectSameFilled: this.options.sameFilled,
      })
      result = pending instanceof Promise ? await pending : pending
      this.checkOpen()
      this.commit(firstKey, n, ticket, input, result)
    } catch (err) {
      this.abandon(firstKey, n, ticket)
      throw this.storeError(err, firstKey, n)
    } finally {
      result?.release()
      this.inflight.unstage(ticket)
      staged?.release()
      this.admission.release(n)
    }
    this.counters.countFolio(n)
  }

  /** Loads one page. Resolves to the page, or undefined when the key is absent. */
  async load(key: number, options?: LoadOptions): Promise<Uint8Array | undefined> {
    return this.loadSync(key, options)
  }

  /**
   * The fault path: decompresses on the calling thread, with no thread hop.
   * A damaged object throws DecompressError, bumps decompress_fail and keeps the entry.
   */
  loadSync(key: number, options?: LoadOptions): Uint8Array | undefined {
    this.checkOpen()
    checkKey(key, 'key')
    const { into, intoArg, exclusive } = checkLoadOptions(options, 1)
    const kind = this.entries.find(key)
    if (kind === EntryKind.Empty) return undefined
    const dst = into ?? new Uint8Array(PAGE_SIZE)
    const status = this.readEntry(kind, dst, 0)
    if (status !== PAGE_SIZE) {
      this.counters.decompress_fail++
      throw new DecompressError(key, status, decodeStatusName(status))
    }
    this.counters.zswpin++
    if (exclusive) this.dropEntry(key)
    return intoArg ?? dst
  }

  /**
   * Swap-in readahead: loads many pages in one call. Compressed pages go to
   * the backend's batched decoder (worker pool, device) when there are enough
   * of them, largest objects first (iaa_crypto's "two largest first": the
   * longest jobs start earliest); otherwise everything is decoded here.
   * The result is the state when loadMany was called. Absent keys are reported
   * in `present`, not as errors. If any page fails to decode, nothing is
   * freed (exclusive or not) and DecompressError names the first.
   */
  loadMany(keys: ArrayLike<number>, options?: LoadOptions): Promise<LoadManyResult> {
    try {
      this.checkOpen()
      const list = checkKeys(keys)
      const opts = checkLoadOptions(options, list.length)
      return this.inflight.track(this.loadBatch(list, opts.into, opts.intoArg, opts.exclusive))
    } catch (err) {
      return Promise.reject(err)
    }
  }

  private async loadBatch(keys: Uint32Array, into: Uint8Array | undefined, intoArg: Uint8Array | undefined, exclusive: boolean): Promise<LoadManyResult> {
    const n = keys.length
    const present = new Uint8Array(n)
    // Count the objects a batched decoder would take before choosing where the pages go.
    let compressed = 0
    for (let i = 0; i < n; i++) if (this.entries.find(keys[i]) === EntryKind.Compressed) compressed++
    const batched = this.backend.decompressMany !== undefined && compressed > 0 && compressed >= this.backend.minDecompressBatch
    if (!batched) {
      const dst = into ?? new Uint8Array(n * PAGE_SIZE)
      const found = this.loadInline(keys, dst, present, exclusive)
      return { pages: intoArg ?? dst, present, count: found }
    }
    const found = await this.loadBatched(keys, into, present, exclusive, compressed)
    return { pages: intoArg ?? found.pages, present, count: found.count }
  }

  /** Every page decoded on the calling thread; exclusive entries are dropped only if all succeed. */
  private loadInline(keys: Uint32Array, dst: Uint8Array, present: Uint8Array, exclusive: boolean): number {
    let found = 0
    for (let i = 0; i < keys.length; i++) {
      const kind = this.entries.find(keys[i])
      if (kind === EntryKind.Empty) continue
      const status = this.readEntry(kind, dst, i * PAGE_SIZE)
      if (status !== PAGE_SIZE) {
        this.counters.decompress_fail++
        throw new DecompressError(keys[i], status, decodeStatusName(status))
      }
      present[i] = 1
      found++
    }
    this.counters.zswpin += found
    if (exclusive) for (let i = 0; i < keys.length; i++) if (present[i]) this.dropEntry(keys[i])
    return found
  }

  /** Test support: the order in which the last batched loadMany submitted its pages (indexes into keys). */
  lastLoadManyOrder: number[] = []

  /**
   * Same-filled, raw and pending pages are copied here at once; compressed
   * ones go to the backend in one request, largest first. An exclusive load
   * takes its entries now (they read as absent from here on) and drops them
   * when every page decoded and reached the caller's buffer, or gives them back
   * otherwise — unless a later call replaced them meanwhile. Frees of objects
   * being read wait until the request is done; compaction is skipped meanwhile.
   */
  private async loadBatched(
    keys: Uint32Array, into: Uint8Array | undefined, present: Uint8Array, exclusive: boolean, count: number,
  ): Promise<{ pages: Uint8Array; count: number }> {
    const n = keys.length
    // Workers and devices write the destination from other threads: it must be shared memory.
    const dst = into && into.buffer instanceof SharedArrayBuffer ? into : new Uint8Array(new SharedArrayBuffer(n * PAGE_SIZE))
    // Largest first: sort packed (PAGE_SIZE - length, position) keys, a native numeric sort.
    const order = new Float64Array(count)
    let found = 0
    let j = 0
    let firstBad = -1
    let badStatus = 0
    for (let i = 0; i < n; i++) {
      const kind = this.entries.find(keys[i])
      if (kind === EntryKind.Empty) continue
      present[i] = 1
      found++
      if (exclusive) this.entries.setTaken(true)
      if (kind === EntryKind.Compressed) {
        order[j++] = (PAGE_SIZE - this.entries.hi) * 2 ** 32 + i
        continue
      }
      const status = this.readEntry(kind, dst, i * PAGE_SIZE)
      if (status !== PAGE_SIZE) {
        this.counters.decompress_fail++
        if (firstBad < 0) { firstBad = i; badStatus = status }
      }
    }
    order.sort()
    const jobs = new Int32Array(count * 4)
    const slots = new Uint8Array(count)
    const sums = this.options.checksum ? new Uint32Array(count) : undefined
    const submitted: number[] = new Array(count)
    for (let k = 0; k < count; k++) {
      const i = order[k] % 2 ** 32
      submitted[k] = i
      this.entries.findAny(keys[i])
      this.pool.locate(this.entries.lo)
      jobs[k * 4] = this.pool.arenaIndex
      jobs[k * 4 + 1] = this.pool.offset
      jobs[k * 4 + 2] = this.entries.hi
      jobs[k * 4 + 3] = i
      slots[k] = this.entries.slot
      if (sums) sums[k] = this.entries.sum
    }
    this.lastLoadManyOrder = submitted
    const status = new Int32Array(new SharedArrayBuffer(count * 4))
    let failure: ZstashError | undefined
    this.asyncReaders++
    try {
      await this.backend.decompressMany!({ arenas: this.pool.arenaBytes(), jobs, slots, sums, count, dst, status })
    } catch (err) {
      failure = err instanceof ZstashError ? err
        : new DecompressError(keys[submitted[0]], 0, `the batched decoder failed: ${(err as Error)?.message ?? err}`, { cause: err })
    } finally {
      if (--this.asyncReaders === 0) this.flushDeferredFrees()
    }
    if (!failure) {
      for (let k = 0; k < count; k++) {
        if (status[k] !== PAGE_SIZE) {
          this.counters.decompress_fail++
          if (firstBad < 0 || submitted[k] < firstBad) { firstBad = submitted[k]; badStatus = status[k] }
        }
      }
      if (firstBad >= 0) failure = new DecompressError(keys[firstBad], badStatus, decodeStatusName(badStatus))
    }
    if (!failure && into && dst !== into) {
      // The caller's buffer may have been detached or shrunk while the pages were decoded.
      if (into.byteLength < n * PAGE_SIZE) failure = new InvalidArgumentError("'into' was detached or shrunk while loadMany ran; nothing was freed")
      else into.set(dst)
    }
    if (this.closing) failure = new ClosedError()
    if (exclusive) this.settleTaken(keys, present, !failure)
    if (failure) throw failure
    this.counters.zswpin += found
    return { pages: into ?? dst, count: found }
  }

  /** Ends an exclusive batched load: drop (ok) or give back (failed) the entries still taken by it. */
  private settleTaken(keys: Uint32Array, present: Uint8Array, ok: boolean): void {
    for (let i = 0; i < keys.length; i++) {
      if (!present[i]) continue
      const kind = this.entries.findAny(keys[i])
      // Not taken any more: a later store or invalidate replaced the entry, and it stays.
      if (kind === EntryKind.Empty || !this.entries.taken) continue
      if (ok) this.dropEntry(keys[i])
      else this.entries.setTaken(false)
    }
  }

  /** Drops the entry for `key` (swap slot freed). Returns whether there was one. */
  invalidate(key: number): boolean {
    this.checkOpen()
    checkKey(key, 'key')
    if (this.entries.find(key) === EntryKind.Empty) return false
    return this.dropEntry(key)
  }

  /** Whether `key` has an entry (a store in flight counts; a key an exclusive load is taking does not). */
  has(key: number): boolean {
    this.checkOpen()
    checkKey(key, 'key')
    return this.entries.find(key) !== EntryKind.Empty
  }

  /** Entries, stores in flight included. */
  get size(): number {
    this.checkOpen()
    return this.entries.size
  }

  /** Moves objects to release partly used slabs; returns the bytes released. */
  compact(): number {
    this.checkOpen()
    // Workers may be reading objects in place; moving them now would hand them stale bytes.
    if (this.asyncReaders > 0) return 0
    return this.pool.compact((visit) => this.entries.relocateObjects(visit)) * PAGE_SIZE
  }

  /**
   * Reserves `count` consecutive keys for one user of the store (a SwapCache
   * region): exactly at `at` (refused with ERR_ZSTASH_KEYS_IN_USE if any is
   * reserved), or at the first free range at or after `from`. Returns the first key.
   */
  reserveKeys(count: number, options: { at?: number; from?: number } = {}): number {
    this.checkOpen()
    if (options.at !== undefined) checkKey(options.at, 'at')
    if (options.from !== undefined) checkKey(options.from, 'from')
    return this.keyRanges.reserve(count, options)
  }

  /** Releases a range from reserveKeys() (its entries are the caller's to invalidate first). */
  releaseKeys(first: number): boolean {
    this.checkOpen()
    checkKey(first, 'first')
    return this.keyRanges.release(first)
  }

  /** Counters and gauges. After close() this returns the snapshot taken when the store closed. */
  stats(): PageStoreStats {
    if (this.finalStats) return this.finalStats
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
      stores_in_flight: this.inflight.folios,
      reserved_bytes: this.admission.reservedBytes,
      metadata_bytes: metadata,
      metadata_bytes_per_page: this.entries.size ? metadata / this.entries.size : 0,
      pool,
      backend: { ...this.backend.info, counters: { ...this.backend.stats(), ...this.staging?.stats() } },
    }
  }

  /**
   * Stops admission (every later call throws ClosedError), ends the backend's
   * queued work, waits for every operation in flight to settle (those not yet
   * published reject with ClosedError), then releases the backend. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= this.shutDown()
    return this.closing
  }

  private async shutDown(): Promise<void> {
    try {
      await this.backend.close()
    } finally {
      await this.inflight.idle()
      this.finalStats = this.statsNow()
    }
  }

  private statsNow(): PageStoreStats {
    const saved = this.finalStats
    this.finalStats = undefined
    try {
      return this.stats()
    } finally {
      this.finalStats = saved
    }
  }

  // --- store steps ---------------------------------------------------------

  /** The keys now belong to this store: their old entries are freed, and each reads from the staged copy. */
  private markPending(firstKey: number, n: number, ticket: number): void {
    for (let i = 0; i < n; i++) {
      this.dropEntry(firstKey + i)
      this.entries.set(firstKey + i, EntryKind.Pending, 0, i, ticket)
    }
  }

  /** Allocates every object (all or nothing), then publishes the keys still Pending under `ticket`. */
  private commit(firstKey: number, n: number, ticket: number, input: Uint8Array, result: CompressResult): void {
    this.allocateAll(firstKey, n, input, result)
    const { status, out } = result
    const c = this.counters
    for (let i = 0; i < n; i++) {
      const key = firstKey + i
      const s = status[i]
      const length = s > 0 ? s : PAGE_SIZE
      if (!this.entries.isPendingFor(key, ticket)) {
        // A later call replaced this key while it compressed: its object is not needed.
        if (s !== PageStatus.SameFilled) this.freeObject(this.handles[i], length)
        continue
      }
      // An exclusive readahead that took the pending page keeps its claim on the published one.
      const taken = this.entries.taken
      if (s === PageStatus.SameFilled) {
        const at = i * PAGE_SIZE
        this.entries.set(key, EntryKind.SameFilled, this.formatSlot, readU32(out, at), readU32(out, at + 4))
        c.same_filled_pages++
      } else {
        this.entries.set(key, s > 0 ? EntryKind.Compressed : EntryKind.Raw, this.formatSlot, this.handles[i], length, this.sums[i])
        c.compressed_bytes += length
        if (s <= 0) c.stored_incompressible_pages++
      }
      if (taken) this.entries.setTaken(true)
    }
  }

  /** A failed store erases the keys it still owns; keys a later call replaced are left alone. */
  private abandon(firstKey: number, n: number, ticket: number): void {
    for (let i = 0; i < n; i++) if (this.entries.isPendingFor(firstKey + i, ticket)) this.entries.erase(firstKey + i)
  }

  /** Erases every key of a folio rejected before it was admitted (the store was issued; its keys' old pages are dead). */
  private eraseKeys(firstKey: number, n: number): void {
    for (let i = 0; i < n; i++) this.dropEntry(firstKey + i)
  }

  /**
   * Gives every page an object (or a fill word) without publishing anything.
   * The bytes are copied only once every allocation succeeded, in one native
   * call per source, which also takes each object's checksum.
   */
  private allocateAll(firstKey: number, n: number, input: Uint8Array, result: CompressResult): void {
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
      if (s > 0 && s <= PAGE_SIZE) {
        length = s
      } else if (s === PageStatus.Incompressible && this.options.storeIncompressible) {
        length = PAGE_SIZE
      } else {
        this.freeHandles(i, status)
        if (s === PageStatus.Incompressible) {
          this.counters.reject_compress_poor++
          throw this.rejection(firstKey, n, 'compress_poor', `page ${firstKey + i} is incompressible and storeIncompressible is off`, firstKey + i)
        }
        this.counters.reject_compress_fail++
        throw this.rejection(firstKey, n, 'compress_fail', `page ${firstKey + i} failed to compress (status ${s})`, firstKey + i)
      }
      const handle = failAlloc?.(firstKey + i) ? 0 : this.pool.alloc(length)
      if (handle === 0) {
        this.freeHandles(i, status)
        if (this.admission.limited) {
          this.counters.pool_limit_hit++
          throw this.rejection(firstKey, n, 'pool_limit', `no room under the pool limit for page ${firstKey + i} (${length} bytes)`, firstKey + i)
        }
        this.counters.reject_alloc_fail++
        throw this.rejection(firstKey, n, 'alloc_fail', `no pool memory for page ${firstKey + i} (${length} bytes)`, firstKey + i)
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
    const arenas = this.pool.arenaBytes()
    const sums = this.options.checksum ? this.sums : undefined
    if (compressed > 0) this.native.copyObjects(arenas, compressedPlan, compressed, out, sums)
    if (raw > 0) this.native.copyObjects(arenas, rawPlan, raw, input, sums)
  }

  /** Frees the objects allocated so far for pages [0, upTo) of the folio being stored. */
  private freeHandles(upTo: number, status: Int32Array): void {
    for (let i = 0; i < upTo; i++) {
      if (this.handles[i] !== 0) this.pool.free(this.handles[i], status[i] > 0 ? status[i] : PAGE_SIZE)
    }
  }

  private rejection(firstKey: number, n: number, reason: RejectReason, message: string, key?: number, cause?: unknown): StoreRejectedError {
    return new StoreRejectedError(reason, `folio ${firstKey}+${n} rejected: ${message}`, key, cause ? { cause } : undefined)
  }

  /** What a failed store reports: ClosedError after close, the rejection it hit, or the backend's failure. */
  private storeError(err: unknown, firstKey: number, n: number): ZstashError {
    if (this.closing) return err instanceof ClosedError ? err : new ClosedError()
    if (err instanceof StoreRejectedError) return err
    this.counters.reject_backend_fail++
    const reason = this.backend.info.path === 'cpu' ? 'worker_fail' : 'device_fail'
    return this.rejection(firstKey, n, reason, `${this.backend.info.name} failed: ${(err as Error)?.message ?? err}`, undefined, err)
  }

  // --- load steps ----------------------------------------------------------

  /** Writes the entry positioned by find() as one page at dst[offset]; returns PAGE_SIZE or a DecodeStatus. */
  private readEntry(kind: EntryKind, dst: Uint8Array, offset: number): number {
    const { entries } = this
    if (kind === EntryKind.SameFilled) {
      this.native.fillPage(dst, offset, entries.lo, entries.hi)
      return PAGE_SIZE
    }
    if (kind === EntryKind.Pending) {
      const staged = this.inflight.pages(entries.hi)
      const at = entries.lo * PAGE_SIZE
      dst.set(staged.subarray(at, at + PAGE_SIZE), offset)
      return PAGE_SIZE
    }
    this.pool.locate(entries.lo)
    const bytes = this.pool.arena.bytes
    const checked = this.options.checksum
    if (kind === EntryKind.Raw) {
      if (checked && this.native.checksum(bytes, this.pool.offset, PAGE_SIZE) !== entries.sum) return DecodeStatus.Checksum
      dst.set(bytes.subarray(this.pool.offset, this.pool.offset + PAGE_SIZE), offset)
      return PAGE_SIZE
    }
    const decoder = this.decoders[entries.slot]
    return checked
      ? decoder.decompress(bytes, this.pool.offset, entries.hi, dst, offset, entries.sum)
      : decoder.decompress(bytes, this.pool.offset, entries.hi, dst, offset)
  }

  private dropEntry(key: number): boolean {
    const kind = this.entries.findAny(key)
    if (kind === EntryKind.Empty) return false
    const c = this.counters
    if (kind === EntryKind.SameFilled) {
      c.same_filled_pages--
    } else if (kind !== EntryKind.Pending) {
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
    if (this.closing) throw new ClosedError()
  }
}

/** How far the allocator may go past maxPoolBytes: one slab run of the largest slab (8 pages) and a batch of raw pages. */
const POOL_CAP_SLACK = (8 + DEFAULT_MAX_BATCH) * PAGE_SIZE

/**
 * Opens a store. `hooks` is for zstash's own tests (through 'zstash/internals'):
 * they wrap the backend to inject faults or to schedule completions.
 */
export async function openPageStore(options?: PageStoreOptions, hooks: OpenHooks = {}): Promise<PageStore> {
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
      await pool.close().catch(() => undefined)
      throw new BackendUnavailableError(`the compression worker pool failed to start: ${(err as Error).message}`, { cause: err })
    }
    backend = pool
  } else {
    backend = new CpuBackend(format, resolved.level!, resolved.maxBatch!)
  }
  if (hooks.wrapBackend) backend = hooks.wrapBackend(backend)
  return new PageStore(resolved, backend)
}

/** Little-endian 32-bit read without allocating a DataView per folio. */
function readU32(bytes: Uint8Array, at: number): number {
  return (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 0
}
