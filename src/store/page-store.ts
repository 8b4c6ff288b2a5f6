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
 *   validate → admit (reserve the pool limit in the pool) → take the caller's
 *   bytes (a copy, for asynchronous backends) → mark the keys Pending (their
 *   old entries are dead: replaced, or erased if this store fails — zswap's
 *   check_old) → compress every page straight into the pool (the backend's
 *   threads allocate; a device's results are put in one native call) → check
 *   every page (all or nothing: a failed folio frees every object it got)
 *   → publish the keys still Pending under this store's ticket, free the
 *   objects of the others.
 *
 * The pool is native (src/allocator/object-pool.ts): the owner thread never
 * copies an object; its work per folio is one pass over the result words.
 */
import { BackendUnavailableError, ClosedError, DecompressError, InvalidArgumentError, StoreRejectedError, ZstashError, type RejectReason } from '../errors.js'
import { PAGE_SIZE, PageStatus, DecodeStatus, decodeStatusName } from '../codecs/status.js'
import { formatId, FORMATS, type StreamFormat } from '../codecs/formats.js'
import { shareStart, type BackendInfo, type CompressBackend, type CompressResult, type PooledResult } from '../codecs/backend.js'
import { CpuBackend } from '../codecs/cpu-backend.js'
import { loadNative, type NativeAddon, type NativeCodec } from '../native.js'
import { StorePool, freeResults, type PoolStats } from '../allocator/object-pool.js'
import { PoolStatus } from '../allocator/native-pool.js'
import { EntryKind, EntryTable } from '../entries/entry-table.js'
import { Staging } from '../folio/staging.js'
import { ZswapCounters, folioSizeName } from './counters.js'
import { DEFAULT_MAX_BATCH, MAX_FOLIO_PAGES, resolveOptions, type PageStoreOptions, type ResolvedOptions } from './options.js'
import { checkFolio, checkKey, checkKeys, checkLoadOptions, MAX_KEY } from './arguments.js'
import { Admission } from './admission.js'
import { Inflight } from './inflight.js'
import { KeyRanges } from './key-ranges.js'
import { DecodeJobPool, type DecodeJobs } from './decode-jobs.js'
import { TEST_HOOKS, type TestHooks } from './test-hooks.js'
import { WorkerPoolBackend } from '../pool/worker-pool.js'
import { isDeviceCompressor, openDeviceBackend } from '../devices/index.js'
import { availableParallelism } from 'node:os'

export { MAX_KEY }
export { LOAD_MANY_INLINE_PAGES, LOAD_MANY_INLINE_PAGES_SLOW } from '../pool/worker-pool.js'

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
  /**
   * Bytes per stored page beyond the compressed data, fragmentation included:
   * (pool_total_size − Σ object lengths + metadata) / stored pages.
   */
  overhead_bytes_per_page: number
  pool: PoolStats
  backend: BackendInfo & { counters: Record<string, number> }
}

/** Hooks for zstash's own tests (through 'zstash/internals'): wrap the backend the store opened. */
export interface OpenHooks {
  wrapBackend?: (backend: CompressBackend) => CompressBackend
}

/** Staging ring of the store's own copies of folios in flight (16 MiB, virtual until touched). */
export const STAGING_PAGES = 4096

export class PageStore {
  readonly options: Readonly<ResolvedOptions>
  private readonly backend: CompressBackend
  private readonly formatSlot: number
  private readonly decoders: NativeCodec[]
  private readonly native: NativeAddon
  private readonly pool: StorePool
  private readonly entries = new EntryTable()
  private readonly counters = new ZswapCounters()
  private readonly admission: Admission
  private readonly staging: Staging | undefined
  private readonly inflight = new Inflight()
  private readonly keyRanges = new KeyRanges()
  private readonly decodeJobs = new DecodeJobPool()
  private closing: Promise<void> | undefined
  private finalStats: PageStoreStats | undefined
  // Scratch for one folio at a time (commits are synchronous): no per-page objects.
  private readonly freeList = new Uint32Array(MAX_FOLIO_PAGES)
  private readonly put = {
    status: new Int32Array(MAX_FOLIO_PAGES), lo: new Uint32Array(MAX_FOLIO_PAGES), hi: new Uint32Array(MAX_FOLIO_PAGES),
    sums: new Uint32Array(MAX_FOLIO_PAGES), offsets: new Uint32Array(MAX_FOLIO_PAGES), lengths: new Uint32Array(MAX_FOLIO_PAGES),
    handles: new Uint32Array(MAX_FOLIO_PAGES), pages: new Uint32Array(MAX_FOLIO_PAGES), objectSums: new Uint32Array(MAX_FOLIO_PAGES),
  };
  [TEST_HOOKS]?: TestHooks

  static async open(options?: PageStoreOptions): Promise<PageStore> {
    return openPageStore(options)
  }

  /** @internal Use PageStore.open(). The store owns `pool` (its backend allocates in it) and closes it. */
  constructor(options: ResolvedOptions, backend: CompressBackend, pool: StorePool) {
    this.options = Object.freeze({ ...options })
    this.backend = backend
    this.native = loadNative()
    this.formatSlot = formatId(backend.info.format)
    // One CPU decoder per format: an entry is read back by its format, whatever wrote it.
    this.decoders = FORMATS.map((f: StreamFormat) => new this.native.Codec(f, 1))
    this.pool = pool
    this.admission = new Admission(pool, options.maxPoolBytes, options.acceptThresholdPercent)
    this.staging = backend.synchronous ? undefined : new Staging(STAGING_PAGES, backend.stagingBuffer)
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
    if (!this.admission.admit(n)) {
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
    let result: CompressResult | PooledResult | undefined
    let owned: PooledResult | undefined
    try {
      const pending = this.backend.compress(input, n, {
        threshold: this.options.incompressibleThreshold, detectSameFilled: this.options.sameFilled,
        storeIncompressible: this.options.storeIncompressible,
      })
      result = pending instanceof Promise ? await pending : pending
      // From here until publish(), every object of the folio is this call's to free.
      owned = 'pooled' in result ? result : this.putResult(n, input, result)
      this.checkOpen()
      this.check(firstKey, n, owned)
      this.publish(firstKey, n, ticket, owned)
      owned = undefined
    } catch (err) {
      if (owned) freeResults(this.pool, owned.status, owned.lo, n)
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
  get lastLoadManyOrder(): ArrayLike<number> {
    // A view of the job buffer's scratch (no copy per call): valid until another batched load runs.
    return this.lastOrder ? this.lastOrder.submitted.subarray(0, this.lastOrderCount) : []
  }

  private lastOrder: DecodeJobs | undefined
  private lastOrderCount = 0

  /**
   * Same-filled, raw and pending pages are copied here at once; compressed
   * ones go to the backend in one request, largest first (by 256-byte band). An exclusive load
   * takes its entries now (they read as absent from here on) and drops them
   * when every page decoded and reached the caller's buffer, or gives them back
   * otherwise — unless a later call replaced them meanwhile. Frees of objects
   * being read wait until the request is done; compaction may run (the pool's
   * move lock keeps it off objects being read, and handles do not change).
   */
  private async loadBatched(
    keys: Uint32Array, into: Uint8Array | undefined, present: Uint8Array, exclusive: boolean, count: number,
  ): Promise<{ pages: Uint8Array; count: number }> {
    const n = keys.length
    // Workers and devices write the destination from other threads: it must be shared memory.
    const dst = into && into.buffer instanceof SharedArrayBuffer ? into : new Uint8Array(new SharedArrayBuffer(n * PAGE_SIZE))
    // Largest first, by 256-byte length band, in key order within a band: sort packed
    // (band, position) keys, a native numeric sort. Exact length order scatters the reads
    // and writes over the pool and the destination: measured +33% decode CPU (lz4, node
    // corpus, TLB and cache misses) against +9% for bands. The job buffer comes first:
    // its scratch holds the sort keys (no allocation per call).
    const job = this.decodeJobs.take(count)
    const order = job.order.subarray(0, count)
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
        const { entries } = this
        job.foundLo[j] = entries.lo
        job.foundHi[j] = entries.hi
        job.foundSum[j] = entries.sum
        job.foundSlot[j] = entries.slot
        job.foundKey[j] = i
        // j grows with i: (band, j) orders as (band, key position).
        order[j] = lengthBand(entries.hi) * 2 ** 32 + j
        j++
        continue
      }
      const status = this.readEntry(kind, dst, i * PAGE_SIZE)
      if (status !== PAGE_SIZE) {
        this.counters.decompress_fail++
        if (firstBad < 0) { firstBad = i; badStatus = status }
      }
    }
    order.sort()
    // Jobs in shared arrays the workers read in place, dealt into the backend's
    // shares: job k (k-th largest) goes to share k % shares, so each starts with its longest.
    const shares = Math.max(1, this.backend.decodeShares ?? 1)
    const handles = job.handles.subarray(0, count)
    const lengths = job.lengths.subarray(0, count)
    const slots = job.slots.subarray(0, count)
    const dstPages = job.dstPages.subarray(0, count)
    const status = job.status.subarray(0, count)
    const sums = this.options.checksum ? job.sums.subarray(0, count) : undefined
    const starts = new Uint32Array(shares)
    for (let s = 0; s < shares; s++) starts[s] = shareStart(count, shares, s)
    const submitted = job.submitted.subarray(0, count)
    const { foundLo, foundHi, foundSum, foundSlot, foundKey } = job
    for (let k = 0; k < count; k++) {
      const f = order[k] % 2 ** 32
      const i = foundKey[f]
      submitted[k] = i
      const at = starts[k % shares] + Math.floor(k / shares)
      handles[at] = foundLo[f]
      lengths[at] = foundHi[f]
      slots[at] = foundSlot[f]
      dstPages[at] = i
      if (sums) sums[at] = foundSum[f]
    }
    this.lastOrder = job
    this.lastOrderCount = count
    let failure: ZstashError | undefined
    this.asyncReaders++
    try {
      await this.backend.decompressMany!({ pool: this.pool, handles, lengths, slots, sums, dstPages, count, dst, status })
    } catch (err) {
      failure = err instanceof ZstashError ? err
        : new DecompressError(keys[submitted[0]], 0, `the batched decoder failed: ${(err as Error)?.message ?? err}`, { cause: err })
    } finally {
      if (--this.asyncReaders === 0) this.flushDeferredFrees()
    }
    // Read the statuses before the job buffer can serve another load.
    let failed = 0
    if (!failure) {
      for (let k = 0; k < count; k++) {
        if (status[k] !== PAGE_SIZE) {
          failed++
          if (firstBad < 0 || dstPages[k] < firstBad) { firstBad = dstPages[k]; badStatus = status[k] }
        }
      }
    }
    this.decodeJobs.give(job)
    if (!failure) {
      this.counters.decompress_fail += failed
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
    // Safe with batched loads in flight: a move holds the pool's move lock
    // exclusively, every read of object bytes holds it shared for its whole
    // native call, and a moved object keeps its handle (object-pool.ts).
    return this.pool.compact() * PAGE_SIZE
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
    const stored = this.entries.size
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
      reserved_bytes: this.finalStats ? 0 : this.admission.reservedBytes,
      metadata_bytes: metadata,
      metadata_bytes_per_page: stored ? metadata / stored : 0,
      overhead_bytes_per_page: stored ? (pool.pool_total_size - pool.object_bytes + metadata) / stored : 0,
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
      // Workers hold their own references to the pool and drop them as they end.
      this.pool.close()
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

  /**
   * All or nothing: every page must have its object (or be same-filled) before
   * any is published. Throws the folio's rejection; the caller frees the objects.
   */
  private check(firstKey: number, n: number, r: PooledResult): void {
    const { status, lo } = r
    const failAlloc = this[TEST_HOOKS]?.failAlloc
    for (let i = 0; i < n; i++) {
      const s = status[i]
      if (s > 0 || s === PageStatus.SameFilled || (s === PageStatus.Incompressible && lo[i] !== 0)) {
        if (failAlloc?.(firstKey + i) && s !== PageStatus.SameFilled) this.allocFailed(firstKey, n, i)
        continue
      }
      if (s === PoolStatus.AllocFail) this.allocFailed(firstKey, n, i)
      if (s === PageStatus.Incompressible) {
        this.counters.reject_compress_poor++
        throw this.rejection(firstKey, n, 'compress_poor', `page ${firstKey + i} is incompressible and storeIncompressible is off`, firstKey + i)
      }
      this.counters.reject_compress_fail++
      throw this.rejection(firstKey, n, 'compress_fail', `page ${firstKey + i} failed to compress (status ${s})`, firstKey + i)
    }
  }

  private allocFailed(firstKey: number, n: number, i: number): never {
    if (this.admission.limited) {
      this.counters.pool_limit_hit++
      throw this.rejection(firstKey, n, 'pool_limit', `no room under the pool limit for page ${firstKey + i}`, firstKey + i)
    }
    this.counters.reject_alloc_fail++
    throw this.rejection(firstKey, n, 'alloc_fail', `no pool memory for page ${firstKey + i}`, firstKey + i)
  }

  /**
   * Publishes the keys still Pending under `ticket`; the objects of keys a
   * later call replaced meanwhile are freed (one native call). Cannot fail.
   */
  private publish(firstKey: number, n: number, ticket: number, r: PooledResult): void {
    const { status, lo, hi, sums } = r
    const { entries, counters: c, freeList, formatSlot } = this
    let superseded = 0
    for (let i = 0; i < n; i++) {
      const key = firstKey + i
      const s = status[i]
      if (!entries.isPendingFor(key, ticket)) {
        if (s !== PageStatus.SameFilled) freeList[superseded++] = lo[i]
        continue
      }
      // An exclusive readahead that took the pending page keeps its claim on the published one.
      const taken = entries.taken
      if (s === PageStatus.SameFilled) {
        entries.set(key, EntryKind.SameFilled, formatSlot, lo[i], hi[i])
        c.same_filled_pages++
      } else {
        entries.set(key, s > 0 ? EntryKind.Compressed : EntryKind.Raw, formatSlot, lo[i], hi[i], sums ? sums[i] : 0)
        c.compressed_bytes += hi[i]
        if (s <= 0) c.stored_incompressible_pages++
      }
      if (taken) entries.setTaken(true)
    }
    if (superseded > 0) this.freeObjects(freeList, superseded)
  }

  /**
   * A device compressed into its own buffers: put every object into the pool
   * in one native call, and describe the folio as a pooled result. Raw pages
   * (kept incompressible ones) are copied from the input into their output
   * slots first, so the call has one source. Returns arrays of this store's
   * scratch (one folio at a time: the caller is synchronous until publish).
   */
  private putResult(n: number, input: Uint8Array, result: CompressResult): PooledResult {
    const { status: st, out } = result
    const p = this.put
    let m = 0
    for (let i = 0; i < n; i++) {
      const s = st[i]
      p.status[i] = s
      p.lo[i] = 0
      p.hi[i] = 0
      if (s === PageStatus.SameFilled) {
        p.lo[i] = readU32(out, i * PAGE_SIZE)
        p.hi[i] = readU32(out, i * PAGE_SIZE + 4)
        continue
      }
      let length = 0
      if (s > 0 && s < PAGE_SIZE) length = s
      else if (s === PageStatus.Incompressible && this.options.storeIncompressible) {
        out.set(input.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE), i * PAGE_SIZE)
        length = PAGE_SIZE
      }
      if (length === 0) continue
      p.offsets[m] = i * PAGE_SIZE
      p.lengths[m] = length
      p.pages[m++] = i
    }
    const sums = this.pool.checksummed ? p.sums : undefined
    this.pool.put(out, p.offsets, p.lengths, m, p.handles, sums ? p.objectSums : undefined)
    for (let k = 0; k < m; k++) {
      const i = p.pages[k]
      if (p.handles[k] === 0) p.status[i] = PoolStatus.AllocFail
      p.lo[i] = p.handles[k]
      p.hi[i] = p.lengths[k]
      if (sums) sums[i] = p.objectSums[k]
    }
    return { pooled: true, status: p.status, lo: p.lo, hi: p.hi, sums, release: () => {} }
  }

  /** A failed store erases the keys it still owns; keys a later call replaced are left alone. */
  private abandon(firstKey: number, n: number, ticket: number): void {
    for (let i = 0; i < n; i++) if (this.entries.isPendingFor(firstKey + i, ticket)) this.entries.erase(firstKey + i)
  }

  /** Erases every key of a folio rejected before it was admitted (the store was issued; its keys' old pages are dead). */
  private eraseKeys(firstKey: number, n: number): void {
    for (let i = 0; i < n; i++) this.dropEntry(firstKey + i)
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
    // Compressed or raw (a 4096-byte object): checked against its CRC32C, then decoded, in one native call.
    const length = kind === EntryKind.Raw ? PAGE_SIZE : entries.hi
    const decoder = this.decoders[entries.slot]
    return this.options.checksum
      ? this.pool.decode(decoder, entries.lo, length, dst, offset, entries.sum)
      : this.pool.decode(decoder, entries.lo, length, dst, offset)
  }

  private dropEntry(key: number): boolean {
    const kind = this.entries.findAny(key)
    if (kind === EntryKind.Empty) return false
    const c = this.counters
    if (kind === EntryKind.SameFilled) {
      c.same_filled_pages--
    } else if (kind !== EntryKind.Pending) {
      const length = kind === EntryKind.Raw ? PAGE_SIZE : this.entries.hi
      this.freeObject(this.entries.lo)
      c.compressed_bytes -= length
      if (kind === EntryKind.Raw) c.stored_incompressible_pages--
    }
    this.entries.erase(key)
    return true
  }

  /**
   * While batched loads read objects on other threads, frees wait, so no slot
   * is reused (by a worker's compress) under a reader. Moves need no such
   * care: see compact().
   */
  private asyncReaders = 0
  private deferredFrees = new Uint32Array(64)
  private deferredCount = 0
  private readonly oneHandle = new Uint32Array(1)

  private freeObject(handle: number): void {
    this.oneHandle[0] = handle
    this.freeObjects(this.oneHandle, 1)
  }

  private freeObjects(handles: Uint32Array, count: number): void {
    if (this.asyncReaders === 0) {
      this.pool.free(handles, count)
      return
    }
    if (this.deferredCount + count > this.deferredFrees.length) {
      const grown = new Uint32Array(Math.max(this.deferredFrees.length * 2, this.deferredCount + count))
      grown.set(this.deferredFrees.subarray(0, this.deferredCount))
      this.deferredFrees = grown
    }
    this.deferredFrees.set(handles.subarray(0, count), this.deferredCount)
    this.deferredCount += count
  }

  private flushDeferredFrees(): void {
    this.pool.free(this.deferredFrees, this.deferredCount)
    this.deferredCount = 0
    if (this.deferredFrees.length > 4096) this.deferredFrees = new Uint32Array(64)
  }

  private checkOpen(): void {
    if (this.closing) throw new ClosedError()
  }
}

/**
 * How far the pool's hard cap is past maxPoolBytes. Admission reserves every
 * folio's worst case (all raw), so objects alone never pass the limit; what
 * can is slab rounding: one partly filled slab (≤ 16 pages) per size class
 * being filled (docs/allocator.md, "Reservation and limits"). The cap only
 * backs that up; pages past it fail with pool_limit.
 */
const POOL_CAP_SLACK = 16 * 1024 * 1024
/** The native pool's largest limit (address space is reserved for 2 × the cap). */
const POOL_MAX_BYTES = 2 ** 40
/** Hard cap of a pool without a limit (virtual until used). */
const UNLIMITED_POOL_BYTES = 16 * 2 ** 30

/**
 * Opens a store. `hooks` is for zstash's own tests (through 'zstash/internals'):
 * they wrap the backend to inject faults or to schedule completions.
 */
export async function openPageStore(options?: PageStoreOptions, hooks: OpenHooks = {}): Promise<PageStore> {
  const resolved = resolveOptions(options, isDeviceCompressor, availableParallelism())
  const limited = Number.isFinite(resolved.maxPoolBytes) && resolved.maxPoolBytes < POOL_MAX_BYTES - POOL_CAP_SLACK
  const pool = new StorePool({
    limitBytes: limited ? resolved.maxPoolBytes : Infinity,
    maxBytes: limited ? resolved.maxPoolBytes + POOL_CAP_SLACK : UNLIMITED_POOL_BYTES,
    checksum: resolved.checksum,
  })
  try {
    let backend = await openBackend(resolved, pool)
    if (hooks.wrapBackend) backend = hooks.wrapBackend(backend)
    return new PageStore(resolved, backend, pool)
  } catch (err) {
    pool.close()
    throw err
  }
}

async function openBackend(resolved: ResolvedOptions, storePool: StorePool): Promise<CompressBackend> {
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
      storeIncompressible: resolved.storeIncompressible, pool: storePool, stagingPages: STAGING_PAGES,
    })
    try {
      await pool.ready
    } catch (err) {
      await pool.close().catch(() => undefined)
      throw new BackendUnavailableError(`the compression worker pool failed to start: ${(err as Error).message}`, { cause: err })
    }
    backend = pool
  } else {
    backend = new CpuBackend(format, resolved.level!, resolved.maxBatch!, storePool)
  }
  return backend
}

/** 0 for the largest objects (3841..4096 bytes), up to 15 for the smallest: loadMany's submission order. */
export function lengthBand(length: number): number {
  return (PAGE_SIZE - length) >>> 8
}

/** Little-endian 32-bit read without allocating a DataView per folio. */
function readU32(bytes: Uint8Array, at: number): number {
  return (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 0
}
