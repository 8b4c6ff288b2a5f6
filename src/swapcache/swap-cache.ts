/**
 * SwapCache: application-level virtual memory over a PageStore.
 *
 * Resident memory is one SharedArrayBuffer of `residentLimit` bytes cut into
 * folio slots. A region's folio, when resident, occupies one slot, so a whole
 * folio is handed to storeFolio() as a subarray of the frame buffer — no copy,
 * and workers can read it in place. Every table is a typed array: per slot
 * (state, owner, dirty, missing pages, LRU links) and per region (folio → slot,
 * page state). There is no object per page.
 *
 * Synchronous reads and writes fault pages in with loadSync (exclusive loads).
 * Reclaim is asynchronous because storeFolio is: a synchronous access that needs
 * a frame when none is free throws ResidentLimitError *before touching
 * anything*; callers await reserve() (or use readAsync/writeAsync, which do)
 * and retry. A folio's frames are released only after its store resolved and
 * nothing wrote to it meanwhile, so no path loses data: rejected stores fall
 * back to 4K stores and, failing those, the folio simply stays resident.
 * See docs/swapcache.md.
 */
import { InvalidArgumentError, StoreRejectedError, ClosedError, WouldBlockError } from '../errors.js'
import { PAGE_SIZE } from '../codecs/status.js'
import { MAX_KEY, type PageStore, type PageStoreStats } from '../store/page-store.js'
import { describe } from '../util/validate.js'
import { ResidentLimitError } from './errors.js'
import { SlotLru } from './lru.js'
import { SwapCacheCounters } from './counters.js'
import { loadRun, loadBatch } from './readahead.js'
import { SwapCacheLostPageError } from './errors.js'
import { resolveSwapCacheOptions, type SwapCacheOptions, type ResolvedSwapCacheOptions, type PressureEvent } from './options.js'
import { Region, PageState } from './region.js'
import { PoolCharge } from './pool-charge.js'
import { SwapInLatency, type SwapInLatencyStats } from './swapin-latency.js'

const enum SlotState {
  Free = 0,
  Resident = 1,
  Writeback = 2,
}

export interface SwapCacheStats {
  resident_limit: number
  resident_bytes: number
  high_watermark: number
  free_frames: number
  writeback_folios: number
  regions: number
  folio_size: string
  memcg_high: number
  memcg_max: number
  memcg_swap_fail: number
  swpout_fallback: Record<string, number>
  reclaim_fail: number
  reclaimed_folios: number
  reclaimed_pages: number
  pgfault: number
  pgmajfault: number
  readahead_pages: number
  writeback_redirtied: number
  /** Whether the store's compressed pool is charged to resident_limit (the chargePool option). */
  charge_pool: boolean
  /** Frames that may be in use now: every frame, or under chargePool what the limit leaves beside the pool. */
  frame_limit: number
  /** Frames in use (resident or under writeback) plus the store's pool_total_size, bytes. */
  charged_bytes: number
  /** chargePool: reads of the store's pool size (one per reclaim wave). */
  charge_pool_reads: number
  /** chargePool: pages the cache had the store write back to its tier to fit the floor of frames (zswap's writeback). */
  charge_shrunk_pages: number
  /** chargePool: reclaim found the pool alone leaves less than the floor of frames and there is no tier to shrink it into. */
  charge_oom: number
  /** µs per swap-in call, by the tier it read from (pool, backing store): see swapin-latency.ts. */
  swapin_latency_us: SwapInLatencyStats
  store: PageStoreStats
}

export class SwapCache {
  readonly store: PageStore
  readonly folioPages: number
  readonly folioBytes: number
  readonly residentLimit: number
  /** The frame buffer. Exposed for diagnostics; write through regions only. */
  readonly frames: Uint8Array
  readonly counters = new SwapCacheCounters()
  private readonly latency = new SwapInLatency()
  /** @internal */ readonly view: DataView
  private readonly o: ResolvedSwapCacheOptions
  private readonly slots: number
  private readonly slotState: Uint8Array
  private readonly slotRegion: Int32Array
  private readonly slotFolio: Int32Array
  private readonly slotDirty: Uint8Array
  // Pages of the slot's folio that are not resident (still in the store).
  private readonly slotMissing: Uint16Array
  // Bumped whenever a slot is given to a folio: an async load checks it to know its slot was not recycled meanwhile.
  private readonly slotGen: Uint32Array
  private readonly freeStack: Int32Array
  private freeCount: number
  private writebackCount = 0
  private freedTotal = 0
  private readonly lru: SlotLru
  /** chargePool: the store's pool as charged to the limit. */
  private readonly charge: PoolCharge | undefined
  private readonly regions: (Region | undefined)[] = []
  private liveRegions = 0
  private reclaiming: Promise<void> | undefined
  private reclaimGoal = 0
  private kickQueued = false
  private fatal: unknown = undefined
  private closed = false

  static async create(options: SwapCacheOptions): Promise<SwapCache> {
    return new SwapCache(resolveSwapCacheOptions(options))
  }

  private constructor(o: ResolvedSwapCacheOptions) {
    this.o = o
    this.store = o.store
    this.folioPages = o.folioPages
    this.folioBytes = o.folioPages * PAGE_SIZE
    this.slots = o.slots
    this.residentLimit = o.slots * this.folioBytes
    this.frames = new Uint8Array(new SharedArrayBuffer(this.residentLimit))
    this.view = new DataView(this.frames.buffer)
    this.slotState = new Uint8Array(o.slots)
    this.slotRegion = new Int32Array(o.slots).fill(-1)
    this.slotFolio = new Int32Array(o.slots).fill(-1)
    this.slotDirty = new Uint8Array(o.slots)
    this.slotMissing = new Uint16Array(o.slots)
    this.slotGen = new Uint32Array(o.slots)
    // Low slots first, so a small working set stays in the start of the buffer.
    this.freeStack = new Int32Array(o.slots)
    for (let i = 0; i < o.slots; i++) this.freeStack[i] = o.slots - 1 - i
    this.freeCount = o.slots
    this.lru = new SlotLru(o.slots)
    this.charge = o.chargePool ? new PoolCharge(o.store) : undefined
    this.charge?.read()
  }

  /**
   * Frames (folio slots) that may be taken right now. Under chargePool, fewer
   * than the free frames: what the limit leaves beside the pool.
   */
  get freeSlots(): number {
    if (!this.charge) return this.freeCount
    return Math.max(0, Math.min(this.freeCount, this.frameLimit - (this.slots - this.freeCount)))
  }

  /**
   * Frames that may be in use now: every frame, or under chargePool
   * floor((limit − pool − room for the compressed copies of folios under
   * writeback, and of one more) / folio), so that starting a writeback never
   * takes frames + pool past the limit.
   */
  get frameLimit(): number {
    const c = this.charge
    if (!c) return this.slots
    const room = this.residentLimit - c.bytes - (this.writebackCount + 1) * this.folioBytes
    return Math.max(0, Math.min(this.slots, Math.floor(room / this.folioBytes)))
  }

  /** Whether the charged pool leaves fewer than the floor of frames even with none in use. */
  private get floorBlocked(): boolean {
    return this.charge !== undefined && this.residentLimit - this.charge.bytes - this.folioBytes < this.o.floorSlots * this.folioBytes
  }

  /**
   * Frames in use above which reclaim starts. Under chargePool the watermarks
   * keep their distance below the frame limit, but at most a quarter of it
   * each (headroom, batch), so a pool that leaves few frames does not make
   * every fault start a reclaim run that must evict everything.
   */
  private get highSlots(): number {
    if (!this.charge) return this.o.highSlots
    return this.frameLimit - this.chargedHeadroom(this.frameLimit)
  }

  /** Frames a watermark-driven reclaim run wants free: the distance from the low watermark to the (charged) limit. */
  private get watermarkGoal(): number {
    if (!this.charge) return this.slots - this.o.lowSlots
    const limit = this.frameLimit
    return this.chargedHeadroom(limit) + Math.min(this.o.highSlots - this.o.lowSlots, Math.max(1, Math.floor(limit / 4)))
  }

  private chargedHeadroom(frameLimit: number): number {
    return Math.min(this.slots - this.o.highSlots, Math.max(1, Math.floor(frameLimit / 4)))
  }

  /** Folios whose store is in flight. */
  get writebackFolios(): number {
    return this.writebackCount
  }

  get totalSlots(): number {
    return this.slots
  }

  get residentBytes(): number {
    return (this.slots - this.freeCount) * this.folioBytes
  }

  /**
   * Reserves virtual memory. Nothing is resident until touched; untouched memory
   * reads as zeros. The region's store keys are reserved from the store, so no
   * other user of the store (another SwapCache) can ever write them.
   */
  alloc(bytes: number): Region {
    this.checkOpen()
    if (typeof bytes !== 'number' || !Number.isSafeInteger(bytes) || bytes < 1) {
      throw new InvalidArgumentError(`alloc size must be a positive integer number of bytes, got ${describe(bytes)}`, 'ERR_ZSTASH_BAD_SIZE')
    }
    const folios = Math.ceil(bytes / this.folioBytes)
    const keys = folios * this.folioPages
    if (keys - 1 > MAX_KEY) {
      throw new InvalidArgumentError(`alloc of ${bytes} bytes exceeds the store key space`, 'ERR_ZSTASH_OUT_OF_RANGE')
    }
    const baseKey = this.store.reserveKeys(keys, { from: this.o.keyBase })
    const region = new Region(this, this.regions.length, baseKey, bytes, folios, this.folioPages)
    this.regions.push(region)
    this.liveRegions++
    return region
  }

  /**
   * Resolves once at least `slots` frames are free at the moment it resolves,
   * reclaiming as needed. Rejects with ResidentLimitError when reclaim cannot
   * make progress (every cold folio was rejected by the store).
   * Another task may take the frames before the caller resumes: check
   * freeSlots again, or use readAsync/writeAsync.
   */
  async reserve(slots = 1): Promise<void> {
    this.checkOpen()
    if (!Number.isInteger(slots) || slots < 1 || slots > this.slots) {
      throw new InvalidArgumentError(`reserve() needs 1..${this.slots} slots, got ${describe(slots)}`, 'ERR_ZSTASH_OUT_OF_RANGE')
    }
    for (;;) {
      this.throwFatal()
      if (this.freeSlots >= slots) return
      const freedBefore = this.freedTotal
      const redirtiedBefore = this.counters.writeback_redirtied
      const shrunkBefore = this.counters.charge_shrunk_pages
      // A run already going may have picked its victims before we asked: only a run of our own proves no progress is possible.
      const joined = this.reclaiming !== undefined
      await this.startReclaim(Math.max(slots, this.watermarkGoal))
      this.throwFatal()
      if (this.freeSlots >= slots) return
      const progress = this.freedTotal !== freedBefore || this.counters.writeback_redirtied !== redirtiedBefore ||
        this.counters.charge_shrunk_pages !== shrunkBefore
      if (!joined && !progress && this.writebackCount === 0) {
        this.pressure('limit')
        const why = this.charge
          ? `${this.freeSlots} may be taken: ${this.slots - this.freeCount} in use, the limit leaves ${this.frameLimit} beside a pool of ${this.charge.bytes} bytes`
          : `${this.freeCount} free of ${this.slots}`
        throw new ResidentLimitError(
          `cannot free ${slots} frame(s): reclaim made no progress (${why}; see memcg_swap_fail / reclaim_fail / charge_oom)`,
          slots, this.freeSlots,
        )
      }
    }
  }

  /** Reclaims until `freeSlots` frames are free (default: down to the low watermark). Resolves to the frames freed. */
  async reclaim(freeSlots = this.watermarkGoal): Promise<number> {
    this.checkOpen()
    const before = this.freedTotal
    await this.startReclaim(Math.min(this.slots, freeSlots))
    this.throwFatal()
    return this.freedTotal - before
  }

  /** Waits for reclaim in flight, reclaims below the high watermark if above it, and surfaces any background failure. */
  async settle(): Promise<void> {
    this.checkOpen()
    if (this.reclaiming) await this.reclaiming
    this.charge?.read()
    if (this.slots - this.freeCount > this.highSlots) await this.startReclaim(this.watermarkGoal)
    this.throwFatal()
  }

  stats(): SwapCacheStats {
    const c = this.counters
    const store = this.store.stats()
    return {
      resident_limit: this.residentLimit,
      resident_bytes: this.residentBytes,
      high_watermark: this.o.highSlots * this.folioBytes,
      free_frames: this.freeCount,
      writeback_folios: this.writebackCount,
      regions: this.liveRegions,
      folio_size: sizeName(this.folioPages),
      memcg_high: c.memcg_high,
      memcg_max: c.memcg_max,
      memcg_swap_fail: c.memcg_swap_fail,
      swpout_fallback: { ...c.swpout_fallback },
      reclaim_fail: c.reclaim_fail,
      reclaimed_folios: c.reclaimed_folios,
      reclaimed_pages: c.reclaimed_pages,
      pgfault: c.pgfault,
      pgmajfault: c.pgmajfault,
      readahead_pages: c.readahead_pages,
      writeback_redirtied: c.writeback_redirtied,
      charge_pool: this.charge !== undefined,
      frame_limit: this.frameLimit,
      charged_bytes: this.residentBytes + store.pool_total_size,
      charge_pool_reads: this.charge?.reads ?? 0,
      charge_shrunk_pages: c.charge_shrunk_pages,
      charge_oom: c.charge_oom,
      swapin_latency_us: this.latency.stats(),
      store,
    }
  }

  /** Waits for in-flight stores, then frees every region (their store entries included). The store stays open. */
  async close(): Promise<void> {
    if (this.closed) return
    while (this.reclaiming) await this.reclaiming
    for (const r of this.regions) if (r && !r.freed) this.freeRegion(r)
    this.closed = true
  }

  // --- access path (called by Region) ---------------------------------------

  /** @internal Copies between a region and `buf`, faulting in what is missing. All-or-nothing w.r.t. frames. */
  access(r: Region, offset: number, buf: Uint8Array, write: boolean): void {
    this.checkRegion(r)
    const length = buf.length
    checkRange(r, offset, length)
    if (length === 0) return
    const fb = this.folioBytes
    const f0 = Math.floor(offset / fb)
    const f1 = Math.floor((offset + length - 1) / fb)
    const folioSlot = r.folioSlot
    let need = 0
    for (let f = f0; f <= f1; f++) if (folioSlot[f] < 0) need++
    if (need > this.freeSlots) this.noFrames(need)
    this.checkNoIo(r, offset, length)
    const frames = this.frames
    let done = 0
    for (let f = f0; f <= f1; f++) {
      const start = f * fb
      const a = f === f0 ? offset - start : 0
      const b = f === f1 ? offset + length - start : fb
      const slot = this.ensure(r, f, a, b, write)
      const base = slot * fb
      if (write) {
        frames.set(buf.subarray(done, done + b - a), base + a)
        if (this.slotState[slot] === SlotState.Writeback) this.slotDirty[slot] = 1
      } else {
        buf.set(frames.subarray(base + a, base + b), done)
      }
      this.lru.touch(slot)
      done += b - a
    }
  }

  /** @internal Checks that the cache is open, the region live and [offset, offset+length) inside it. */
  checkAccess(r: Region, offset: number, length: number): void {
    this.checkRegion(r)
    checkRange(r, offset, length)
  }

  /**
   * @internal Frame byte index of [offset, offset + size) after faulting it in,
   * or -1 when the range crosses a folio (the caller then goes through access()).
   */
  locate(r: Region, offset: number, size: number, write: boolean): number {
    this.checkRegion(r)
    checkRange(r, offset, size)
    const fb = this.folioBytes
    const f = Math.floor(offset / fb)
    const a = offset - f * fb
    if (a + size > fb) return -1
    if (r.folioSlot[f] < 0 && this.freeSlots === 0) this.noFrames(1)
    this.checkNoIo(r, offset, size)
    const slot = this.ensure(r, f, a, a + size, write)
    if (write && this.slotState[slot] === SlotState.Writeback) this.slotDirty[slot] = 1
    this.lru.touch(slot)
    return slot * fb + a
  }

  /**
   * A synchronous access cannot wait for the backing store: if a page it needs
   * was written back, it throws WouldBlockError before touching anything (the
   * …Async forms read such pages first).
   */
  private checkNoIo(r: Region, offset: number, length: number): void {
    if (!this.store.hasBackingStore) return
    const p1 = Math.floor((offset + length - 1) / PAGE_SIZE)
    for (let p = Math.floor(offset / PAGE_SIZE); p <= p1; p++) {
      if (r.pageState[p] === PageState.Swapped && this.store.isInBackingStore(r.baseKey + p)) throw new WouldBlockError(r.baseKey + p)
    }
  }

  /** @internal Folios of [offset, offset+length) that would need a frame. */
  framesNeeded(r: Region, offset: number, length: number): number {
    if (length === 0) return 0
    const fb = this.folioBytes
    let need = 0
    for (let f = Math.floor(offset / fb), f1 = Math.floor((offset + length - 1) / fb); f <= f1; f++) if (r.folioSlot[f] < 0) need++
    return need
  }

  /** @internal Whether [offset, offset+length) holds swapped-out pages. */
  hasSwapped(r: Region, offset: number, length: number): boolean {
    if (length === 0) return false
    const p1 = Math.floor((offset + length - 1) / PAGE_SIZE)
    for (let p = Math.floor(offset / PAGE_SIZE); p <= p1; p++) if (r.pageState[p] === PageState.Swapped) return true
    return false
  }

  /**
   * @internal Batched swap-in of [offset, offset+length) with one loadMany,
   * mapping folios while frames are free. Pages a synchronous fault brought in
   * meanwhile, or whose slot was recycled, are left alone.
   */
  async prefetch(r: Region, offset: number, length: number): Promise<void> {
    this.checkRegion(r)
    checkRange(r, offset, length)
    if (length === 0) return
    const fb = this.folioBytes
    const fp = this.folioPages
    const f0 = Math.floor(offset / fb)
    const f1 = Math.floor((offset + length - 1) / fb)
    const p0 = Math.floor(offset / PAGE_SIZE)
    const p1 = Math.floor((offset + length - 1) / PAGE_SIZE)
    let n = 0
    for (let f = f0; f <= f1; f++) {
      if (r.folioSlot[f] < 0) {
        if (this.freeSlots === 0) break
        this.mapFolio(r, f, false)
        this.counters.pgfault++
      }
      const slot = r.folioSlot[f]
      if (this.slotMissing[slot] === 0) continue
      for (let p = Math.max(p0, f * fp); p <= Math.min(p1, f * fp + fp - 1); p++) if (r.pageState[p] === PageState.Swapped) n++
    }
    if (n === 0) return
    const keys = new Uint32Array(n)
    const pageOf = new Uint32Array(n)
    const slotOf = new Int32Array(n)
    const genOf = new Uint32Array(n)
    let i = 0
    for (let p = p0; p <= p1 && i < n; p++) {
      const slot = r.folioSlot[Math.floor(p / fp)]
      if (slot < 0 || r.pageState[p] !== PageState.Swapped) continue
      keys[i] = r.baseKey + p
      pageOf[i] = p
      slotOf[i] = slot
      genOf[i] = this.slotGen[slot]
      i++
    }
    let fromBacking = 0
    if (this.store.hasBackingStore) for (let j = 0; j < i; j++) if (this.store.isInBackingStore(keys[j])) fromBacking++
    const t0 = performance.now()
    const { pages, present } = await loadBatch(this.store, keys.subarray(0, i))
    this.latency.record(fromBacking > 0, (performance.now() - t0) * 1000, fromBacking > 0 ? fromBacking : i)
    this.counters.pgmajfault++
    let installed = 0
    for (let j = 0; j < i; j++) {
      const p = pageOf[j]
      const slot = slotOf[j]
      const f = Math.floor(p / fp)
      if (r.freed || r.folioSlot[f] !== slot || this.slotGen[slot] !== genOf[j] || r.pageState[p] !== PageState.Swapped) continue
      if (!present[j]) throw new SwapCacheLostPageError(keys[j])
      this.frames.set(pages.subarray(j * PAGE_SIZE, (j + 1) * PAGE_SIZE), slot * fb + (p - f * fp) * PAGE_SIZE)
      this.store.invalidate(keys[j])
      r.pageState[p] = PageState.Resident
      this.slotMissing[slot]--
      if (this.slotState[slot] === SlotState.Writeback) this.slotDirty[slot] = 1
      installed++
    }
    if (installed > 1) this.counters.readahead_pages += installed - 1
  }

  /** @internal */
  freeRegion(r: Region): void {
    if (r.freed) return
    r.freed = true
    this.regions[r.id] = undefined
    this.liveRegions--
    const fp = this.folioPages
    for (let f = 0; f < r.folios; f++) {
      const slot = r.folioSlot[f]
      // A slot under writeback is released when its store settles (writeback() sees the region gone).
      if (slot >= 0 && this.slotState[slot] === SlotState.Resident) {
        this.lru.remove(slot)
        this.releaseSlot(slot)
      }
      r.folioSlot[f] = -1
      for (let p = f * fp; p < (f + 1) * fp; p++) {
        if (r.pageState[p] === PageState.Swapped) this.store.invalidate(r.baseKey + p)
        r.pageState[p] = PageState.Untouched
      }
    }
    this.releaseKeysOf(r)
  }

  /** A freed region's keys go back to the store once no writeback of it can still touch them. */
  private releaseKeysOf(r: Region): void {
    if (r.freed && r.writebacks === 0 && !r.keysReleased) {
      r.keysReleased = true
      this.store.releaseKeys(r.baseKey)
    }
  }

  // --- faults ----------------------------------------------------------------

  /** Makes bytes [a, b) of folio f resident and returns its slot. The caller checked a frame is free if needed. */
  private ensure(r: Region, f: number, a: number, b: number, write: boolean): number {
    let slot = r.folioSlot[f]
    let faulted = false
    if (slot < 0) {
      slot = this.mapFolio(r, f, write && a === 0 && b === this.folioBytes)
      faulted = true
    }
    if (this.slotMissing[slot] !== 0) {
      const base = f * this.folioPages
      const p1 = (b - 1) >> 12
      for (let p = a >> 12; p <= p1; p++) {
        if (r.pageState[base + p] === PageState.Swapped) {
          const missing = this.slotMissing[slot]
          const t0 = performance.now()
          this.swapIn(r, f, slot, p)
          this.latency.record(false, (performance.now() - t0) * 1000, missing - this.slotMissing[slot])
          faulted = true
        }
      }
    }
    // One access is one fault, however many pages it maps or loads.
    if (faulted) this.counters.pgfault++
    return slot
  }

  /** Gives folio f a slot: untouched pages become zero pages (an anonymous fault), swapped ones stay in the store. */
  private mapFolio(r: Region, f: number, overwriteAll: boolean): number {
    const slot = this.freeStack[--this.freeCount]
    this.slotState[slot] = SlotState.Resident
    this.slotRegion[slot] = r.id
    this.slotFolio[slot] = f
    this.slotDirty[slot] = 0
    this.slotGen[slot]++
    r.folioSlot[f] = slot
    const fp = this.folioPages
    const base = f * fp
    let missing = 0
    let untouched = 0
    for (let p = 0; p < fp; p++) {
      const s = r.pageState[base + p]
      if (s === PageState.Swapped) missing++
      else if (s === PageState.Untouched) untouched++
    }
    // Zeroing is skipped only when the caller overwrites the whole folio and no load can fail in between.
    const zero = !(overwriteAll && untouched === fp)
    const at = slot * this.folioBytes
    for (let p = 0; p < fp; p++) {
      if (r.pageState[base + p] !== PageState.Untouched) continue
      if (zero) this.frames.fill(0, at + p * PAGE_SIZE, at + (p + 1) * PAGE_SIZE)
      r.pageState[base + p] = PageState.Resident
    }
    this.slotMissing[slot] = missing
    this.lru.pushHead(slot)
    this.checkHigh()
    return slot
  }

  /** Major fault on page p of folio f: loads the readahead window's swapped pages, the faulting page's run first. */
  private swapIn(r: Region, f: number, slot: number, p: number): void {
    const c = this.counters
    c.pgmajfault++
    const ra = this.o.readahead
    const w0 = p & ~(ra - 1)
    const w1 = w0 + ra
    const base = f * this.folioPages
    const state = r.pageState
    // The run holding p: an error here is the caller's (DecompressError is loud, the entry is kept).
    // Pages in the backing store need I/O: the synchronous fault path stops at them (they stay swapped).
    const inPool = (q: number) => state[base + q] === PageState.Swapped && !this.store.isInBackingStore(r.baseKey + base + q)
    let s = p
    while (s > w0 && inPool(s - 1)) s--
    let e = p + 1
    while (e < w1 && inPool(e)) e++
    this.loadInto(r, slot, base, s, e, true)
    c.readahead_pages += e - s - 1
    // Neighbouring runs are best effort: a page that fails stays swapped and fails when touched.
    for (let q = w0; q < w1; q++) {
      if (!inPool(q)) continue
      let qe = q + 1
      while (qe < w1 && inPool(qe)) qe++
      const before = this.slotMissing[slot]
      try {
        this.loadInto(r, slot, base, q, qe, false)
      } catch {
        // loadInto already accounted for whatever came in.
      }
      c.readahead_pages += before - this.slotMissing[slot]
      q = qe
    }
    if (this.slotState[slot] === SlotState.Writeback) this.slotDirty[slot] = 1
  }

  /** Loads pages [s, e) of the folio at `base` into the slot and marks them resident; on error marks what did load. */
  private loadInto(r: Region, slot: number, base: number, s: number, e: number, rethrow: boolean): void {
    const at = slot * this.folioBytes
    try {
      loadRun(this.store, r.baseKey + base + s, e - s, this.frames.subarray(at + s * PAGE_SIZE, at + e * PAGE_SIZE))
      for (let q = s; q < e; q++) r.pageState[base + q] = PageState.Resident
      this.slotMissing[slot] -= e - s
    } catch (err) {
      // Exclusive loads free the entry, so a page whose key is gone did arrive in the frame.
      for (let q = s; q < e; q++) {
        if (!this.store.has(r.baseKey + base + q)) {
          r.pageState[base + q] = PageState.Resident
          this.slotMissing[slot]--
        }
      }
      if (rethrow) throw err
    }
  }

  private noFrames(need: number): never {
    this.pressure('limit')
    if (this.o.autoReclaim) this.kick()
    throw new ResidentLimitError(
      `no free frame: ${need} folio slot(s) needed, ${this.freeSlots} may be taken (${this.freeCount} free of ${this.slots}${this.charge ? `, ${this.frameLimit} allowed beside the pool` : ''}); await cache.reserve(${need}) (or use readAsync/writeAsync) and retry`,
      need, this.freeSlots,
    )
  }

  private checkHigh(): void {
    if (this.o.autoReclaim && this.slots - this.freeCount > this.highSlots) this.kick()
  }

  /** Starts background reclaim after the current synchronous code, so a sync access never runs a store inline. */
  private kick(): void {
    if (this.kickQueued) return
    this.kickQueued = true
    queueMicrotask(() => {
      this.kickQueued = false
      if (this.closed || this.slots - this.freeCount <= this.highSlots) return
      void this.startReclaim(this.watermarkGoal)
    })
  }

  // --- reclaim ---------------------------------------------------------------

  /** Raises the goal (free frames wanted) and joins or starts the reclaim run. Never rejects. */
  private startReclaim(goal: number): Promise<void> {
    this.reclaimGoal = Math.max(this.reclaimGoal, goal)
    if (!this.reclaiming) {
      if (this.slots - this.freeCount > this.highSlots) this.counters.memcg_high++
      this.reclaiming = (this.charge ? this.runChargedReclaim() : this.runReclaim()).finally(() => {
        this.reclaiming = undefined
        this.reclaimGoal = 0
      })
    }
    return this.reclaiming
  }

  /** Keeps up to maxInFlight folio stores going, coldest first, until the goal is met or nothing succeeds. */
  private async runReclaim(): Promise<void> {
    const inflight = new Set<Promise<void>>()
    let sinceSuccess = 0
    // Refill in bursts, not one folio per completion: folios started in one synchronous run reach the
    // worker pool together and share a task, where a refill per completion posted a task per small
    // folio (at 4 KiB folios, piscina's postTask was 20 % of the owner thread's profile).
    const refillAt = this.o.maxInFlight >> 1
    for (;;) {
      while (
        inflight.size < this.o.maxInFlight &&
        this.fatal === undefined &&
        this.freeCount + this.writebackCount < this.reclaimGoal &&
        // Every candidate tried once without a success: stop rather than spin on a store that refuses everything.
        sinceSuccess < this.lru.size + inflight.size
      ) {
        const slot = this.lru.oldest()
        if (slot < 0) break
        sinceSuccess++
        const p: Promise<void> = this.writeback(slot).then(
          (ok) => { if (ok) sinceSuccess = 0 },
          (err) => { this.fatal ??= err },
        ).finally(() => inflight.delete(p))
        inflight.add(p)
      }
      if (inflight.size === 0) return
      await Promise.race(inflight)
      while (inflight.size > refillAt) await Promise.race(inflight)
    }
  }

  /**
   * Reclaim under chargePool, in waves: read the pool, store enough of the
   * coldest folios to cover the deficit (each frees a frame but adds its
   * compressed bytes to the pool, about `ratio` of a frame), read again.
   * When even the floor of frames does not fit beside the pool, the pool itself
   * must shrink: into the store's backing tier if it has one (zswap's
   * writeback under memcg), else it is a memcg's OOM (charge_oom, 'charge'
   * pressure, and reserve() fails once nothing else helps).
   */
  private async runChargedReclaim(): Promise<void> {
    const charge = this.charge!
    let oomReported = false
    charge.read()
    for (;;) {
      if (this.fatal !== undefined || this.closed) return
      const deficit = this.reclaimGoal - this.freeSlots
      if (deficit <= 0) return
      if (this.floorBlocked || this.lru.size === 0) {
        if (this.store.hasBackingStore) {
          const shrunk = await this.shrinkPool()
          charge.read()
          if (shrunk) continue
        } else if (this.floorBlocked && !oomReported) {
          oomReported = true
          this.counters.charge_oom++
          this.pressure('charge')
        }
      }
      const saved = Math.max(0.05, 1 - charge.ratio)
      const k = Math.min(this.lru.size, Math.max(1, Math.ceil(deficit / saved)))
      if (k === 0) return
      const availableBefore = this.freeSlots
      await this.writebackWave(k)
      charge.read()
      // Pages that do not compress (kept raw) free nothing under the charge: stop rather than evict everything.
      if (this.freeSlots <= availableBefore) return
    }
  }

  /** Stores up to k of the coldest folios, maxInFlight at once, each only while its compressed copy fits under the limit. */
  private async writebackWave(k: number): Promise<void> {
    const inflight = new Set<Promise<void>>()
    let started = 0
    // Refill in bursts, not one folio per completion: folios started in one synchronous run reach the
    // worker pool together and share a task, where a refill per completion posted a task per small
    // folio (at 4 KiB folios, piscina's postTask was 20 % of the owner thread's profile).
    const refillAt = this.o.maxInFlight >> 1
    for (;;) {
      while (started < k && inflight.size < this.o.maxInFlight && this.fatal === undefined && this.copyFits()) {
        const slot = this.lru.oldest()
        if (slot < 0) break
        started++
        const p: Promise<void> = this.writeback(slot).then(
          () => undefined,
          (err) => { this.fatal ??= err },
        ).finally(() => inflight.delete(p))
        inflight.add(p)
      }
      if (inflight.size === 0) return
      await Promise.race(inflight)
      while (inflight.size > refillAt) await Promise.race(inflight)
    }
  }

  /**
   * Whether one more folio's compressed copy (at most its raw size) fits beside
   * the frames in use, the pool and the copies in flight. With none in flight
   * it always goes: the limit was passed already (another user of the store
   * grew the pool), and storing is the only way back under it.
   */
  private copyFits(): boolean {
    if (this.writebackCount === 0) return true
    const used = this.slots - this.freeCount
    return used * this.folioBytes + this.charge!.bytes + (this.writebackCount + 1) * this.folioBytes <= this.residentLimit
  }

  /** Writes the coldest pool entries back to the tier until the floor and the reclaim goal fit; resolves whether any went. */
  private async shrinkPool(): Promise<boolean> {
    const used = this.slots - this.freeCount
    const want = used + this.writebackCount + 1 + Math.max(this.reclaimGoal, this.o.floorSlots)
    const targetBytes = Math.max(0, this.residentLimit - want * this.folioBytes)
    const pages = await this.store.shrink({ targetBytes })
    this.counters.charge_shrunk_pages += pages
    return pages > 0
  }

  /** Stores one folio out of its slot. Resolves true when the slot was freed. */
  private async writeback(slot: number): Promise<boolean> {
    const r = this.regions[this.slotRegion[slot]]!
    const f = this.slotFolio[slot]
    const fp = this.folioPages
    const base = f * fp
    const firstKey = r.baseKey + base
    const at = slot * this.folioBytes
    this.lru.remove(slot)
    this.slotState[slot] = SlotState.Writeback
    this.slotDirty[slot] = 0
    this.writebackCount++
    r.writebacks++
    // Which pages this writeback stores (pages faulted in meanwhile are not among them).
    const stored = new Uint8Array(fp)
    let count = 0
    for (let p = 0; p < fp; p++) if (r.pageState[base + p] === PageState.Resident) { stored[p] = 1; count++ }
    let ok: boolean
    try {
      if (count === fp) {
        ok = await this.storeWhole(firstKey, at, fp)
      } else {
        // A partly swapped-in folio goes out as 4K pages: its resident pages are no longer one folio.
        ok = await this.storePages(firstKey, at, stored)
      }
    } catch (err) {
      this.writebackCount--
      this.charge?.settled(this.folioBytes)
      this.invalidateStored(firstKey, stored)
      this.afterWriteback(slot, r, false)
      this.writebackDone(r)
      throw err
    }
    this.writebackCount--
    this.charge?.settled(this.folioBytes)
    try {
      return this.finishWriteback(slot, r, ok, firstKey, stored, count)
    } finally {
      this.writebackDone(r)
    }
  }

  private writebackDone(r: Region): void {
    r.writebacks--
    this.releaseKeysOf(r)
  }

  /** Frees the slot of a folio now in the store, or puts it back when the store failed or the folio changed. */
  private finishWriteback(slot: number, r: Region, ok: boolean, firstKey: number, stored: Uint8Array, count: number): boolean {
    const fp = this.folioPages
    const f = this.slotFolio[slot]
    const base = f * fp
    if (ok && !r.freed && this.slotDirty[slot] === 0) {
      for (let p = 0; p < fp; p++) if (stored[p]) r.pageState[base + p] = PageState.Swapped
      r.folioSlot[f] = -1
      this.releaseSlot(slot)
      this.counters.reclaimed_folios++
      this.counters.reclaimed_pages += count
      return true
    }
    if (ok) {
      // Freed, or written while in flight: the stored copy is stale or unwanted.
      this.invalidateStored(firstKey, stored)
      if (!r.freed) this.counters.writeback_redirtied++
    } else {
      this.counters.reclaim_fail++
      this.pressure('reclaim_fail')
    }
    this.afterWriteback(slot, r, ok)
    return false
  }

  /** Whole-folio store; a rejected large folio is split into 4K stores (the N_swpout_fallback path). */
  private async storeWhole(firstKey: number, at: number, fp: number): Promise<boolean> {
    try {
      await this.store.storeFolio(firstKey, this.frames.subarray(at, at + fp * PAGE_SIZE))
      return true
    } catch (err) {
      if (!(err instanceof StoreRejectedError)) throw err
      if (fp === 1) return false
      this.counters.countFallback(sizeName(fp))
      return this.storePages(firstKey, at, new Uint8Array(fp).fill(1))
    }
  }

  /** Stores the marked pages one by one, concurrently; all or nothing (successes are dropped if any fails). */
  private async storePages(firstKey: number, at: number, which: Uint8Array): Promise<boolean> {
    const pending: Promise<void>[] = []
    for (let p = 0; p < which.length; p++) {
      if (which[p]) pending.push(this.store.storeFolio(firstKey + p, this.frames.subarray(at + p * PAGE_SIZE, at + (p + 1) * PAGE_SIZE)))
    }
    const results = await Promise.allSettled(pending)
    const failure = results.find((x): x is PromiseRejectedResult => x.status === 'rejected')
    if (!failure) return true
    this.invalidateStored(firstKey, which)
    if (!(failure.reason instanceof StoreRejectedError)) throw failure.reason
    return false
  }

  private invalidateStored(firstKey: number, which: Uint8Array): void {
    for (let p = 0; p < which.length; p++) if (which[p]) this.store.invalidate(firstKey + p)
  }

  /** A writeback that did not free its slot: back on the LRU (most recent: second chance), or released if the region is gone. */
  private afterWriteback(slot: number, r: Region, _ok: boolean): void {
    if (r.freed) {
      this.releaseSlot(slot)
      return
    }
    this.slotState[slot] = SlotState.Resident
    this.lru.pushHead(slot)
  }

  private releaseSlot(slot: number): void {
    this.slotState[slot] = SlotState.Free
    this.slotRegion[slot] = -1
    this.slotFolio[slot] = -1
    this.slotDirty[slot] = 0
    this.slotMissing[slot] = 0
    this.freeStack[this.freeCount++] = slot
    this.freedTotal++
  }

  private pressure(kind: PressureEvent['kind']): void {
    if (kind === 'limit') this.counters.memcg_max++
    this.o.onPressure?.({ kind, freeSlots: this.freeCount, usedSlots: this.slots - this.freeCount })
  }

  private throwFatal(): void {
    if (this.fatal !== undefined) {
      const err = this.fatal
      this.fatal = undefined
      throw err
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new ClosedError('SwapCache')
  }

  private checkRegion(r: Region): void {
    if (this.closed) throw new ClosedError('SwapCache')
    if (r.freed) r.throwFreed()
  }
}

function checkRange(r: Region, offset: number, length: number): void {
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0 || offset + length > r.byteLength) {
    throw new InvalidArgumentError(
      `range ${describe(offset)}+${length} is outside the region (0..${r.byteLength})`,
      'ERR_ZSTASH_OUT_OF_RANGE',
    )
  }
}

/** '4kB', '64kB', '2048kB': mTHP's size names, as PageStore's zswpout_folios uses them. */
export function sizeName(pages: number): string {
  return `${pages * 4}kB`
}
