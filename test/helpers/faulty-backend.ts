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
  type PageStoreOptions, type WorkerPoolBackend, type NativeCodec,
} from 'zstash/internals'

export interface CallFaults {
  /** Page (index within the folio) whose compression reports CompressError. */
  failPage?: number
  /** End every worker thread right after this folio's tasks are posted (worker pool only). */
  crashWorkers?: boolean
}

type Result = CompressResult | PooledResult

export type Schedule = <T>(label: string, work: () => T | Promise<T>) => Promise<T>

export class FaultyBackend implements CompressBackend {
  readonly info
  readonly synchronous: boolean
  readonly minDecompressBatch: number
  readonly decodeShares: number | undefined
  readonly stagingBuffer: SharedArrayBuffer | undefined
  /** Faults for the next compress() call only (compress is called synchronously by storeFolio). */
  next: CallFaults = {}
  /** Faults for every call, by folio size, when `next` names none. */
  policy: ((pages: number) => CallFaults) | undefined
  private decoders: NativeCodec[] | undefined

  constructor(readonly inner: CompressBackend, private readonly schedule?: Schedule) {
    this.info = inner.info
    this.synchronous = inner.synchronous && !schedule
    this.minDecompressBatch = schedule ? 1 : inner.minDecompressBatch
    this.decodeShares = schedule && !inner.decompressMany ? 1 : inner.decodeShares
    this.stagingBuffer = inner.stagingBuffer
    if (schedule || inner.decompressMany) this.decompressMany = (r) => this.decode(r)
  }

  decompressMany?: (request: DecompressRequest) => Promise<void>

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
        r.status[k] = r.pool.decode(this.decoders![r.slots[k]], r.handles[k], r.lengths[k], r.dst, r.dstPages[k] * PAGE_SIZE, r.sums?.[k])
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
  let faults!: FaultyBackend
  const store = await openPageStore(options, { wrapBackend: (b) => (faults = new FaultyBackend(b, schedule)) })
  return { store, faults }
}
