/**
 * A test-only wrapper around the backend a PageStore opened: it injects
 * compression faults into chosen calls, ends worker threads mid-task, and can
 * hand every completion to a scheduler (fast-check's fc.scheduler) so that
 * tests choose the order in which stores and readaheads complete. Nothing of
 * this exists in the production code paths.
 */
import {
  openPageStore, loadNative, PAGE_SIZE, PageStatus, FORMATS,
  type CompressBackend, type CompressOptions, type CompressResult, type PooledResult, type DecompressRequest, type PageStore,
  type PageStoreOptions, type WorkerPoolBackend, type NativeCodec, BackingStoreError, tier, openDictionaryCodec,
} from 'zstash/internals'

type BackingStore = tier.BackingStore
type PutBatch = tier.PutBatch
type GetBatch = tier.GetBatch
type GetResult = tier.GetResult
type BackingStoreStats = tier.BackingStoreStats
const { GetStatus } = tier

export interface CallFaults {
  /** Page (index within the folio) whose compression reports CompressError. */
  failPage?: number
  /** End every worker thread right after this folio's tasks are posted (worker pool only). */
  crashWorkers?: boolean
}

type Result = CompressResult | PooledResult

export type Schedule = <T>(label: string, work: () => T | Promise<T>) => Promise<T>

/** Faults shared by every backend a store opens (setCompressor() opens new ones). */
interface FaultState {
  next: CallFaults
  policy: ((pages: number) => CallFaults) | undefined
}

export class FaultyBackend implements CompressBackend {
  readonly info
  readonly synchronous: boolean
  readonly minDecompressBatch: number
  readonly decodeShares: number | undefined
  readonly stagingBuffer: SharedArrayBuffer | undefined
  private decoders: NativeCodec[] | undefined

  constructor(readonly inner: CompressBackend, private readonly schedule?: Schedule, private readonly state: FaultState = { next: {}, policy: undefined }) {
    this.info = inner.info
    this.synchronous = inner.synchronous && !schedule
    this.minDecompressBatch = schedule ? 1 : inner.minDecompressBatch
    this.decodeShares = schedule && !inner.decompressMany ? 1 : inner.decodeShares
    this.stagingBuffer = inner.stagingBuffer
    if (schedule || inner.decompressMany) this.decompressMany = (r) => this.decode(r)
  }

  decompressMany?: (request: DecompressRequest) => Promise<void>

  /** Faults for the next compress() call only (compress is called synchronously by storeFolio). */
  get next(): CallFaults { return this.state.next }
  set next(faults: CallFaults) { this.state.next = faults }
  /** Faults for every call, by folio size, when `next` names none. */
  get policy(): ((pages: number) => CallFaults) | undefined { return this.state.policy }
  set policy(policy: ((pages: number) => CallFaults) | undefined) { this.state.policy = policy }

  decodes(slot: number): boolean {
    return this.inner.decodes ? this.inner.decodes(slot) : true
  }

  compress(pages: Uint8Array, count: number, options: CompressOptions): Result | Promise<Result> {
    const faults = this.next.failPage !== undefined || this.next.crashWorkers ? this.next : this.policy?.(count) ?? {}
    this.next = {}
    const pending = this.inner.compress(pages, count, options)
    if (faults.crashWorkers) for (const t of (this.inner as WorkerPoolBackend).threads) void t.terminate()
    const finish = (r: Result): Result => {
      // A failed page keeps its object (if it got one): the store must free it with the rest.
      if (faults.failPage !== undefined && faults.failPage >= 0 && faults.failPage < count) r.status[faults.failPage] = PageStatus.CompressError
      if (!this.schedule) return r
      // A scheduled result outlives the inner backend's result area: keep a copy and give the area back.
      const copy: Result = 'pooled' in r
        ? { pooled: true, status: r.status.slice(0, count), lo: r.lo.slice(0, count), hi: r.hi.slice(0, count), sums: r.sums?.slice(0, count), release: () => {} }
        : { status: r.status.slice(0, count), out: r.out.slice(0, count * PAGE_SIZE), release: () => {} }
      r.release()
      return copy
    }
    if (!this.schedule) return pending instanceof Promise ? pending.then(finish) : finish(pending)
    const settled = pending instanceof Promise ? pending.then(finish) : Promise.resolve(finish(pending))
    return this.schedule(`compress ${count}`, () => settled)
  }

  private async decode(r: DecompressRequest): Promise<void> {
    if (this.inner.decompressMany && !this.schedule) return this.inner.decompressMany(r)
    const work = async () => {
      if (this.inner.decompressMany) return this.inner.decompressMany(r)
      const native = loadNative()
      this.decoders ??= FORMATS.map((f) => new native.Codec(f, 1))
      for (let k = 0; k < r.count; k++) {
        const dict = r.dicts?.[r.slots[k]]
        const decoder = dict ? openDictionaryCodec(dict.format, dict.level, dict.bytes, dict.id) : this.decoders![r.slots[k]]
        r.status[k] = r.pool.decode(decoder, r.handles[k], r.lengths[k], r.dst, r.dstPages[k] * PAGE_SIZE, r.sums?.[k])
      }
    }
    return this.schedule!(`decode ${r.count}`, work)
  }

  stats(): Record<string, number> {
    return this.inner.stats()
  }

  close(): Promise<void> {
    return this.inner.close()
  }
}

/** Opens a store whose backend is wrapped in a FaultyBackend. */
export async function openFaultyStore(options: PageStoreOptions = {}, schedule?: Schedule): Promise<{ store: PageStore; faults: FaultyBackend }> {
  let faults: FaultyBackend | undefined
  const state: FaultState = { next: {}, policy: undefined }
  const store = await openPageStore(options, { wrapBackend: (b) => { const f = new FaultyBackend(b, schedule, state); faults ??= f; return f } })
  return { store, faults: faults! }
}

/**
 * A test-only wrapper around a backing store: putMany and getMany complete
 * when the scheduler says, and chosen calls fail — a rejected putMany (the
 * batch stays in the pool) or per-object read failures (UNAVAILABLE).
 */
export class FaultyBacking implements BackingStore {
  readonly type
  /** Probability that a putMany rejects, and that an object of a getMany fails. */
  putFailRate = 0
  getFailRate = 0
  private x = 12345

  constructor(readonly inner: BackingStore, private readonly schedule?: Schedule) {
    this.type = inner.type
  }

  get closed(): boolean { return this.inner.closed }

  private rnd(): number {
    this.x ^= this.x << 13; this.x ^= this.x >>> 17; this.x ^= this.x << 5
    return (this.x >>> 0) / 2 ** 32
  }

  putMany(batch: PutBatch): Promise<Uint32Array> {
    const fail = this.rnd() < this.putFailRate
    // The bytes are read during the call, as the contract says; only the completion is delayed.
    const done = fail ? Promise.reject(new BackingStoreError('unavailable', 'injected putMany failure')) : this.inner.putMany(batch)
    done.catch(() => undefined)
    return this.schedule ? this.schedule('putMany', () => done) : done
  }

  async getMany(batch: GetBatch): Promise<GetResult> {
    const work = async () => {
      const r = await this.inner.getMany(batch)
      for (let i = 0; i < batch.count; i++) {
        if (r.status[i] >= 0 && this.rnd() < this.getFailRate) { r.status[i] = GetStatus.UNAVAILABLE; r.failures++ }
      }
      return r
    }
    return this.schedule ? this.schedule('getMany', work) : work()
  }

  deleteMany(locators: Uint32Array, count?: number, keys?: Uint32Array): number { return this.inner.deleteMany(locators, count, keys) }
  flush(): Promise<void> { return this.inner.flush() }
  stats(): BackingStoreStats { return this.inner.stats() }
  close(): Promise<void> { return this.inner.close() }
}

/** Opens a store whose backend and backing store are wrapped (faults, scheduled completions). */
export async function openFaultyTieredStore(options: PageStoreOptions, schedule?: Schedule): Promise<{ store: PageStore; faults: FaultyBackend; backing: FaultyBacking }> {
  let faults: FaultyBackend | undefined
  let backing!: FaultyBacking
  const state: FaultState = { next: {}, policy: undefined }
  const store = await openPageStore(options, {
    wrapBackend: (b) => { const f = new FaultyBackend(b, schedule, state); faults ??= f; return f },
    wrapBacking: (b) => (backing = new FaultyBacking(b, schedule)),
  })
  return { store, faults: faults!, backing }
}
