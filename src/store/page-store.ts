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
 * A full pool with a backing store first writes cold entries back
 * (writeback.ts); writeback and recompression (recompress.ts) reach the pool
 * only through its batched seam: gather, put, free.
 *
 * This file is the story; the mechanisms it calls live beside it:
 * open-backend.ts (the pool and the backend a store opens), backend-lifecycle.ts
 * (which backend stores use, kept open while in use; setCompressor, dictionaries),
 * device-results.ts (a device's objects put into the pool), batched-load.ts
 * (loadMany's batched path), deferred-frees.ts (frees wait while decoders read
 * the pool), store-stats.ts (what stats() reports).
 */
import {
  ClosedError, DecompressError, InvalidArgumentError, StoreRejectedError,
  WouldBlockError, ZstashError, type RejectReason,
} from '../errors.js'
import { PAGE_SIZE, PageStatus, decodeStatusName } from '../codecs/status.js'
import { formatId, FORMATS, type StreamFormat } from '../codecs/formats.js'
import { type BackendInfo, type CompressBackend, type CompressResult, type PooledResult } from '../codecs/backend.js'
import { loadNative, type NativeAddon, type NativeCodec } from '../native.js'
import { StorePool, freeResults } from '../allocator/object-pool.js'
import { PoolStatus } from '../allocator/native-pool.js'
import { EntryKind, EntryTable } from '../entries/entry-table.js'
import { ZswapCounters } from './counters.js'
import { MAX_FOLIO_PAGES, resolveOptions, type PageStoreOptions, type ResolvedOptions } from './options.js'
import { checkFolio, checkKey, checkKeys, checkLoadOptions, MAX_KEY } from './arguments.js'
import { Admission } from './admission.js'
import { Inflight } from './inflight.js'
import { Writeback } from './writeback.js'
import { CodecSlots, type SlotDictionary } from './codec-slots.js'
import { recompress, recodeHere } from './recompress.js'
import { openDictionaryCodec } from '../codecs/dictionary.js'
import { describe } from '../util/validate.js'
import { NOOP_OBSERVER, type StoreObserver } from '../metrics/observer.js'
import { Serial } from './serial.js'
import { openBackingStore, type BackingStore } from '../tier/index.js'
import { KeyRanges } from './key-ranges.js'
import { BatchedLoads } from './batched-load.js'
import { storeStats, type PageStoreStats, type StatsSources } from './store-stats.js'
import { DeviceResults } from './device-results.js'
import { DeferredFrees } from './deferred-frees.js'
import { TEST_HOOKS, type TestHooks } from './test-hooks.js'
import { WorkerPoolBackend } from '../pool/worker-pool.js'
import { isDeviceCompressor } from '../devices/index.js'
import { openBackend, openStorePool } from './open-backend.js'
import { Backends } from './backend-lifecycle.js'
import { availableParallelism } from 'node:os'

export { MAX_KEY }
export type { PageStoreStats } from './store-stats.js'
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

/** Hooks for zstash's own tests (through 'zstash/internals'): wrap the backend the store opened. */
export interface OpenHooks {
  wrapBackend?: (backend: CompressBackend) => CompressBackend
  wrapBacking?: (backing: BackingStore) => BackingStore
}

export class PageStore {
  readonly options: Readonly<ResolvedOptions>
  /** The current backend, the ones stores and loads in flight still hold, and switches between them. */
  private readonly backends: Backends
  private readonly slots: CodecSlots
  private readonly native: NativeAddon
  private readonly pool: StorePool
  private readonly entries = new EntryTable()
  private readonly counters = new ZswapCounters()
  private readonly admission: Admission
  private readonly inflight = new Inflight()
  private readonly writeback: Writeback | undefined
  private readonly serial = new Serial()
  private observer: StoreObserver = NOOP_OBSERVER
  /** @internal Tests wrap every backend the store opens, setCompressor()'s included. */
  wrapBackend: ((backend: CompressBackend) => CompressBackend) | undefined
  private shrinkTimer: NodeJS.Timeout | undefined
  private readonly keyRanges = new KeyRanges()
  /** loadMany's batched path: decoders on other threads, the tier read in the same call. */
  private readonly batchedLoads: BatchedLoads
  /** Frees wait while batched loads read objects on other threads (deferred-frees.ts). */
  private readonly frees: DeferredFrees
  private closing: Promise<void> | undefined
  private finalStats: PageStoreStats | undefined
  private readonly statsSources: StatsSources
  // Scratch for one folio at a time (commits are synchronous): no per-page objects.
  private readonly freeList = new Uint32Array(MAX_FOLIO_PAGES)
  /** A device's results put into the pool (its scratch is for one folio at a time, too). */
  private readonly deviceResults: DeviceResults;
  [TEST_HOOKS]?: TestHooks

  static async open(options?: PageStoreOptions): Promise<PageStore> {
    return openPageStore(options)
  }

  /** @internal Use PageStore.open(). The store owns `pool` (its backends allocate in it) and closes it. */
  constructor(options: ResolvedOptions, backend: CompressBackend, pool: StorePool, backing?: BackingStore) {
    this.options = Object.freeze({ ...options })
    this.native = loadNative()
    // One CPU decoder per slot: an entry is read back by the slot that wrote it, whatever compresses now.
    this.slots = new CodecSlots(backend.info.format)
    this.pool = pool
    this.frees = new DeferredFrees(pool)
    this.deviceResults = new DeviceResults(pool, options.storeIncompressible)
    this.admission = new Admission(pool, options.maxPoolBytes, options.acceptThresholdPercent)
    this.backends = new Backends(backend, {
      options: this.options, pool, slots: this.slots, counters: this.counters, entries: this.entries,
      readEntry: (kind, dst, offset) => this.readEntry(kind, dst, offset),
      track: (op) => this.inflight.track(op),
      isClosing: () => this.closing !== undefined,
      wrap: (b) => this.wrapBackend ? this.wrapBackend(b) : b,
    })
    if (backing) {
      this.writeback = new Writeback(backing, {
        entries: this.entries, pool: this.pool, counters: this.counters,
        freeObject: (handle) => this.frees.freeObject(handle),
        usedBytes: () => this.pool.totalSize() + this.admission.reservedBytes,
        isClosing: () => this.closing !== undefined,
        serial: this.serial,
      }, {
        batch: options.writebackBatch, limitPages: options.writebackLimit.pages,
        limitPeriodMs: options.writebackLimit.periodMs, secondChance: options.secondChance,
      })
      const shrinker = options.shrinker
      if (shrinker) {
        this.shrinkTimer = setInterval(() => {
          void this.shrink({ targetBytes: shrinker.targetBytes, idle: shrinker.idle }).catch(() => undefined)
        }, shrinker.intervalMs)
        this.shrinkTimer.unref()
      }
    }
    this.batchedLoads = new BatchedLoads({
      options: this.options, entries: this.entries, counters: this.counters, pool, admission: this.admission,
      slots: this.slots, native: this.native, backends: this.backends, frees: this.frees, writeback: this.writeback,
      readEntry: (kind, dst, offset) => this.readEntry(kind, dst, offset),
      dropEntry: (key) => this.dropEntry(key),
      isClosing: () => this.closing !== undefined,
    })
    this.statsSources = {
      counters: this.counters, entries: this.entries, pool, slots: this.slots, inflight: this.inflight,
      admission: this.admission, backends: this.backends, writeback: this.writeback,
    }
  }

  get info(): BackendInfo {
    return this.backends.current.info
  }

  // --- store: storeFolio → admit → mark Pending → compress → check → publish ---

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
    const observed = this.observer !== NOOP_OBSERVER
    const t0 = observed ? performance.now() : 0
    try {
      await this.storeFolioNow(firstKey, src, n)
    } finally {
      if (observed) this.observer.observeStore((performance.now() - t0) / 1e3, n)
    }
  }

  private async storeFolioNow(firstKey: number, src: Uint8Array, n: number): Promise<void> {
    let admitted = this.admission.admit(n)
    // A full pool writes cold entries back to make room (zswap's shrink on the limit), when it may.
    const mustWait = !admitted && this.options.writeback
    if (!admitted && !mustWait) {
      this.counters.pool_limit_hit++
      this.eraseKeys(firstKey, n)
      throw this.rejection(firstKey, n, 'pool_limit', `pool is at its limit (${this.pool.totalSize()} bytes used, ${this.admission.reservedBytes} reserved, of ${this.options.maxPoolBytes})`)
    }
    const ticket = this.inflight.ticket()
    // The compressor of this call: a setCompressor() issued meanwhile applies to later stores only.
    const backends = this.backends
    const backend = backends.current
    const slot = this.slots.current
    backends.acquire(backend)
    // A synchronous backend compresses before this call returns, straight from the caller's memory,
    // unless the store must first wait for room: then it takes a copy, like every asynchronous backend.
    const staged = backend.synchronous && !mustWait ? undefined : backends.stagingFor(backend).copy(src, n)
    const input = staged?.bytes ?? src
    this.markPending(firstKey, n, ticket)
    this.inflight.stage(ticket, input)
    let result: CompressResult | PooledResult | undefined
    let owned: PooledResult | undefined
    try {
      if (mustWait) {
        this.counters.pool_limit_hit++
        const target = Math.max(0, this.admission.acceptBytes - n * PAGE_SIZE)
        // Stores waiting at once share one writeback run: one whose room another took asks again, while writeback makes progress.
        // Room held by reservations of folios still compressing comes back when they finish: wait for one, then ask again.
        for (let more = true, round = 0; !admitted && round < 1024; round++) {
          more = await this.writeback!.makeRoom(target)
          this.checkOpen()
          admitted = this.admission.admit(n)
          if (admitted || more) continue
          if (this.admission.reservedBytes === 0) break
          await this.admission.nextRelease()
          this.checkOpen()
          admitted = this.admission.admit(n)
        }
        if (!admitted) {
          this.counters.reject_reclaim_fail++
          throw this.rejection(firstKey, n, 'reclaim_fail', 'the pool is full and writeback could not make room (no cold entries, the writeback limit, or the backing store failed)')
        }
      }
      const pending = backend.compress(input, n, {
        threshold: this.options.incompressibleThreshold, detectSameFilled: this.options.sameFilled,
        storeIncompressible: this.options.storeIncompressible,
      })
      result = pending instanceof Promise ? await pending : pending
      // From here until publish(), every object of the folio is this call's to free.
      owned = 'pooled' in result ? result : this.deviceResults.put(n, input, result)
      this.checkOpen()
      if (this.observer !== NOOP_OBSERVER) this.observeBatches(owned.status, n, backend.info.maxBatch)
      this.check(firstKey, n, owned)
      this.publish(firstKey, n, ticket, slot, owned)
      owned = undefined
    } catch (err) {
      if (owned) freeResults(this.pool, owned.status, owned.lo, n)
      this.abandon(firstKey, n, ticket)
      throw this.storeError(err, firstKey, n, backend)
    } finally {
      result?.release()
      this.inflight.unstage(ticket)
      staged?.release()
      if (admitted) this.admission.release(n)
      backends.release(backend)
    }
    this.counters.countFolio(n)
  }

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
  private publish(firstKey: number, n: number, ticket: number, slot: number, r: PooledResult): void {
    const { status, lo, hi, sums } = r
    const { entries, counters: c, freeList, slots } = this
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
        entries.set(key, EntryKind.SameFilled, slot, lo[i], hi[i])
        c.same_filled_pages++
      } else {
        entries.set(key, s > 0 ? EntryKind.Compressed : EntryKind.Raw, slot, lo[i], hi[i], sums ? sums[i] : 0)
        slots.add(slot, hi[i])
        c.compressed_bytes += hi[i]
        if (s <= 0) c.stored_incompressible_pages++
      }
      if (taken) entries.setTaken(true)
    }
    if (superseded > 0) this.frees.freeObjects(freeList, superseded)
    if (slots.isDictionarySlot(slot)) {
      let bytes = 0
      for (let i = 0; i < n; i++) bytes += status[i] === PageStatus.SameFilled ? 0 : hi[i]
      this.backends.recordDrift(slot, n, bytes)
    }
  }

  private observeBatches(status: Int32Array, n: number, maxBatch: number): void {
    for (let first = 0; first < n; first += maxBatch) this.observer.observeBatch(Math.min(maxBatch, n - first))
    this.observer.observeCompressed(status, 0, n)
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
  private storeError(err: unknown, firstKey: number, n: number, backend: CompressBackend): ZstashError {
    if (this.closing) return err instanceof ClosedError ? err : new ClosedError()
    if (err instanceof StoreRejectedError) return err
    this.counters.reject_backend_fail++
    const reason = backend.info.path === 'cpu' ? 'worker_fail' : 'device_fail'
    return this.rejection(firstKey, n, reason, `${backend.info.name} failed: ${(err as Error)?.message ?? err}`, undefined, err)
  }

  // --- load: load → loadSync → loadMany -----------------------------------

  /** Loads one page. Resolves to the page, or undefined when the key is absent. */
  async load(key: number, options?: LoadOptions): Promise<Uint8Array | undefined> {
    this.checkOpen()
    checkKey(key, 'key')
    if (this.entries.find(key) !== EntryKind.Tier) return this.loadSync(key, options)
    // In the backing store: one read, through the batched path.
    const { into, intoArg, exclusive } = checkLoadOptions(options, 1)
    const r = await this.inflight.track(this.loadBatch(Uint32Array.of(key), into, intoArg, exclusive))
    return r.count === 1 ? r.pages : undefined
  }

  /**
   * The fault path: decompresses on the calling thread, with no thread hop.
   * A damaged object throws DecompressError, bumps decompress_fail and keeps the entry.
   */
  loadSync(key: number, options?: LoadOptions): Uint8Array | undefined {
    if (this.observer === NOOP_OBSERVER) return this.loadOne(key, options)
    const t0 = performance.now()
    const page = this.loadOne(key, options)
    this.observer.observeLoad((performance.now() - t0) / 1e3, page ? 1 : 0)
    return page
  }

  private loadOne(key: number, options?: LoadOptions): Uint8Array | undefined {
    this.checkOpen()
    checkKey(key, 'key')
    const { into, intoArg, exclusive } = checkLoadOptions(options, 1)
    const kind = this.entries.find(key)
    if (kind === EntryKind.Empty) return undefined
    if (kind === EntryKind.Tier) throw new WouldBlockError(key)
    const dst = into ?? new Uint8Array(PAGE_SIZE)
    const status = this.readEntry(kind, dst, 0)
    if (status !== PAGE_SIZE) {
      this.counters.decompress_fail++
      throw new DecompressError(key, status, decodeStatusName(status))
    }
    this.counters.zswpin++
    if (exclusive) this.dropEntry(key)
    else this.entries.touch()
    return intoArg ?? dst
  }

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
    const decoder = this.slots.decoder(entries.slot)
    return this.options.checksum
      ? this.pool.decode(decoder, entries.lo, length, dst, offset, entries.sum)
      : this.pool.decode(decoder, entries.lo, length, dst, offset)
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
      const loading = this.loadBatch(list, opts.into, opts.intoArg, opts.exclusive)
      if (this.observer !== NOOP_OBSERVER) {
        const t0 = performance.now()
        void loading.then((r) => this.observer.observeLoad((performance.now() - t0) / 1e3, r.count), () => undefined)
      }
      return this.inflight.track(loading)
    } catch (err) {
      return Promise.reject(err)
    }
  }

  private async loadBatch(keys: Uint32Array, into: Uint8Array | undefined, intoArg: Uint8Array | undefined, exclusive: boolean): Promise<LoadManyResult> {
    const n = keys.length
    const present = new Uint8Array(n)
    // Count the objects a batched decoder would take before choosing where the pages go.
    let compressed = 0
    let tier = 0
    const backend = this.backends.current
    const decodes = backend.decodes?.bind(backend)
    for (let i = 0; i < n; i++) {
      const kind = this.entries.find(keys[i])
      if (kind === EntryKind.Compressed && (!decodes || decodes(this.entries.slot))) compressed++
      else if (kind === EntryKind.Tier) tier++
    }
    const batched = backend.decompressMany !== undefined && compressed > 0 && compressed >= backend.minDecompressBatch
    if (!batched && tier === 0) {
      const dst = into ?? new Uint8Array(n * PAGE_SIZE)
      const found = this.loadInline(keys, dst, present, exclusive)
      return { pages: intoArg ?? dst, present, count: found }
    }
    const found = await this.batchedLoads.load(keys, into, present, exclusive, batched ? compressed : 0, tier)
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
    for (let i = 0; i < keys.length; i++) {
      if (!present[i]) continue
      if (exclusive) this.dropEntry(keys[i])
      else if (this.entries.find(keys[i]) !== EntryKind.Empty) this.entries.touch()
    }
    return found
  }

  /** Test support: the order in which the last batched loadMany submitted its pages (indexes into keys). */
  get lastLoadManyOrder(): ArrayLike<number> {
    return this.batchedLoads.lastOrder
  }

  // --- entries ------------------------------------------------------------

  /** Drops the entry for `key` (swap slot freed). Returns whether there was one. */
  invalidate(key: number): boolean {
    this.checkOpen()
    checkKey(key, 'key')
    if (this.entries.find(key) === EntryKind.Empty) return false
    return this.dropEntry(key)
  }

  private dropEntry(key: number): boolean {
    const kind = this.entries.findAny(key)
    if (kind === EntryKind.Empty) return false
    const c = this.counters
    if (kind === EntryKind.SameFilled) {
      c.same_filled_pages--
    } else if (kind === EntryKind.Tier) {
      c.tier_pages--
      c.tier_bytes -= this.entries.hi
      this.slots.remove(this.entries.slot, this.entries.hi)
      this.writeback!.delete(this.entries.lo, key)
    } else if (kind !== EntryKind.Pending) {
      const length = kind === EntryKind.Raw ? PAGE_SIZE : this.entries.hi
      this.slots.remove(this.entries.slot, length)
      this.frees.freeObject(this.entries.lo)
      c.compressed_bytes -= length
      if (kind === EntryKind.Raw) c.stored_incompressible_pages--
    }
    this.entries.erase(key)
    return true
  }

  /** Whether `key` has an entry (a store in flight counts; a key an exclusive load is taking does not). */
  has(key: number): boolean {
    this.checkOpen()
    checkKey(key, 'key')
    return this.entries.find(key) !== EntryKind.Empty
  }

  /** Whether the store writes back to a backing store. */
  get hasBackingStore(): boolean {
    return this.writeback !== undefined
  }

  /** Whether `key`'s page is in the backing store (reading it needs I/O: load() or loadMany()). */
  isInBackingStore(key: number): boolean {
    this.checkOpen()
    return this.entries.find(key) === EntryKind.Tier
  }

  /** Entries, stores in flight included. */
  get size(): number {
    this.checkOpen()
    return this.entries.size
  }

  // --- live operations on the pool ----------------------------------------

  /** Moves objects to release partly used slabs; returns the bytes released. */
  compact(): number {
    this.checkOpen()
    // Safe with batched loads in flight: a move holds the pool's move lock
    // exclusively, every read of object bytes holds it shared for its whole
    // native call, and a moved object keeps its handle (object-pool.ts).
    return this.pool.compact() * PAGE_SIZE
  }

  /**
   * The shrinker (zswap's shrink_worker, zram's idle writeback): writes entries
   * back to the backing store, in batches, off the store path. `idle`: entries
   * not loaded or stored since the previous idle round (the first call only
   * starts the clock); `targetBytes`: then the coldest (second chance) until
   * pool_total_size is at most that. `maxPages` bounds the round. Resolves to
   * the pages written back. Needs a `backing` store.
   */
  async shrink(options: { targetBytes?: number; idle?: boolean; maxPages?: number } = {}): Promise<number> {
    this.checkOpen()
    const writeback = this.writeback
    if (!writeback) throw new InvalidArgumentError('shrink() needs a backing store (the backing option)')
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('shrink options must be an object')
    for (const key of Object.keys(options)) {
      if (!['targetBytes', 'idle', 'maxPages'].includes(key)) throw new InvalidArgumentError(`unknown shrink option '${key}'`, 'ERR_ZSTASH_UNKNOWN_OPTION')
    }
    const target = options.targetBytes ?? Infinity
    if (!(target >= 0)) throw new InvalidArgumentError(`targetBytes must be a number >= 0, got ${target}`)
    let budget = options.maxPages ?? Infinity
    if (!(budget >= 0)) throw new InvalidArgumentError(`maxPages must be a number >= 0, got ${budget}`)
    let written = 0
    if (options.idle) {
      // Entries whose referenced bit stayed clear since the last round were not used for that long.
      while (budget > 0) {
        const n = await writeback.writeIdle(Math.min(budget, writeback.options.batch))
        if (n === 0) break
        written += n
        budget -= n
      }
      this.entries.clearReferenced()
    }
    while (budget > 0 && this.pool.totalSize() > target && !this.closing) {
      const n = await writeback.writeColdest(Math.min(budget, writeback.options.batch))
      if (n === 0) break
      written += n
      budget -= n
    }
    return written
  }

  /**
   * zswap's runtime compressor switch: new stores use `compressor` (any name
   * PageStore.open takes) from the next call on; stores in flight finish with
   * the compressor they started with. Every entry remembers how it was
   * encoded, so old entries stay readable; the old backend closes when its
   * last store in flight ends (entries need no backend: any slot decodes on
   * the CPU). `dictionary: true` trains a zstd/lz4 dictionary from a sample of
   * the pages now stored (off the main thread) and compresses with it;
   * a Uint8Array is used as the dictionary. Concurrent switches apply in
   * call order.
   */
  setCompressor(compressor: string, options: { level?: number; dictionary?: boolean | Uint8Array; dictionaryBytes?: number } = {}): Promise<void> {
    try {
      this.checkOpen()
      return this.backends.setCompressor(compressor, options)
    } catch (err) {
      return Promise.reject(err)
    }
  }

  /**
   * zram's recompress: rewrites stored pages with `compressor` (default: the
   * current one) in background batches — in the worker pool when the store has
   * one — keeping a page only if it got smaller. `incompressibleOnly`: raw
   * pages only (zram's huge); `idle`: only pages not used since the previous
   * idle round (see shrink()); `maxPages` bounds the run. A store, invalidate
   * or load of a page meanwhile wins. Resolves to the pages rewritten and the
   * bytes saved.
   */
  async recompress(options: { compressor?: string; level?: number; incompressibleOnly?: boolean; idle?: boolean; maxPages?: number } = {}): Promise<{ pages: number; savedBytes: number }> {
    this.checkOpen()
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('recompress options must be an object')
    for (const key of Object.keys(options)) {
      if (!['compressor', 'level', 'incompressibleOnly', 'idle', 'maxPages'].includes(key)) throw new InvalidArgumentError(`unknown recompress option '${key}'`, 'ERR_ZSTASH_UNKNOWN_OPTION')
    }
    const maxPages = options.maxPages ?? Infinity
    if (!(typeof maxPages === 'number' && maxPages >= 0)) throw new InvalidArgumentError(`maxPages must be a number >= 0, got ${describe(maxPages)}`)
    // The target: a named CPU format at a level, or whatever new stores use now.
    let targetSlot = this.slots.current
    let target: { format: StreamFormat; level: number; dictionary?: SlotDictionary }
    if (options.compressor !== undefined || options.level !== undefined) {
      const resolved = resolveOptions({ compressor: options.compressor ?? FORMATS[this.slots.current] ?? 'zstd', level: options.level }, () => false, 0)
      targetSlot = formatId(resolved.format!)
      target = { format: resolved.format!, level: resolved.level! }
    } else {
      const dict = this.slots.dictionary(targetSlot)
      const { info } = this.backends.current
      target = { format: dict?.format ?? info.format, level: dict?.level ?? info.level, dictionary: dict }
    }
    const hostCodec = (() => {
      let codec: NativeCodec | undefined
      return () => (codec ??= target.dictionary
        ? openDictionaryCodec(target.dictionary.format, target.level, target.dictionary.bytes, target.dictionary.id)
        : new this.native.Codec(target.format, target.level))
    })()
    const [pages, savedBytes] = await this.inflight.track(recompress({
      entries: this.entries, pool: this.pool, counters: this.counters, slots: this.slots, serial: this.serial,
      native: this.native, checksum: this.options.checksum,
      freeObject: (handle) => this.frees.freeObject(handle),
      isClosing: () => this.closing !== undefined,
      recode: async (request) => {
        const current = this.backends.current
        const pool = current instanceof WorkerPoolBackend ? current : undefined
        if (pool) {
          // Kept open for the batch even if setCompressor() replaces it meanwhile.
          this.backends.acquire(pool)
          try {
            await pool.recode({
              count: request.count, input: request.input.buffer as SharedArrayBuffer, offsets: request.offsets, lengths: request.lengths,
              slots: request.slots, limits: request.limits, output: request.output.buffer as SharedArrayBuffer,
              status: request.status.buffer as SharedArrayBuffer, dicts: this.slots.dictionariesFor(request.slots, request.count), target,
            })
          } finally {
            this.backends.release(pool)
          }
        } else {
          // No worker pool: one batch here, then a turn of the event loop before the next.
          recodeHere(request, this.slots, hostCodec())
          await new Promise((r) => setImmediate(r))
        }
      },
    }, targetSlot, { incompressibleOnly: options.incompressibleOnly === true, idleOnly: options.idle === true }, maxPages))
    return { pages, savedBytes }
  }

  // --- key ranges, observer, stats, close ---------------------------------

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

  /**
   * Where the store reports each store, load and compress batch (latency,
   * batch size, compressed sizes) — src/metrics' createMetrics() calls it with
   * the histograms' observer. No allocation per call; undefined stops it.
   */
  setObserver(observer: StoreObserver | undefined): void {
    this.observer = observer ?? NOOP_OBSERVER
  }

  /** Counters and gauges. After close() this returns the snapshot taken when the store closed. */
  stats(): PageStoreStats {
    if (this.finalStats) return this.finalStats
    return storeStats(this.statsSources)
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
    if (this.shrinkTimer) clearInterval(this.shrinkTimer)
    try {
      await this.backends.closeAll()
    } finally {
      await this.inflight.idle()
      await this.backends.switchesSettled()
      this.finalStats = this.statsNow()
      await this.writeback?.close()
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

  private checkOpen(): void {
    if (this.closing) throw new ClosedError()
  }

}

/**
 * Opens a store. `hooks` is for zstash's own tests (through 'zstash/internals'):
 * they wrap the backend to inject faults or to schedule completions.
 */
export async function openPageStore(options?: PageStoreOptions, hooks: OpenHooks = {}): Promise<PageStore> {
  const resolved = resolveOptions(options, isDeviceCompressor, availableParallelism())
  const pool = openStorePool(resolved)
  let backend: CompressBackend | undefined
  try {
    backend = await openBackend(resolved, pool)
    if (hooks.wrapBackend) backend = hooks.wrapBackend(backend)
    let backing: BackingStore | undefined
    if (resolved.backing) {
      backing = await openBackingStore(resolved.backing)
      if (hooks.wrapBacking) backing = hooks.wrapBacking(backing)
    }
    const store = new PageStore(resolved, backend, pool, backing)
    store.wrapBackend = hooks.wrapBackend
    return store
  } catch (err) {
    await backend?.close().catch(() => undefined)
    pool.close()
    throw err
  }
}
