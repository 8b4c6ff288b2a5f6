/**
 * Software compression in a piscina worker pool, straight into the store's
 * native pool. The costs it is designed around (measured here): posting a
 * task costs the owner thread ~50 µs, an lz4 page ~1–6 µs of a worker. So a
 * task is never one page: queued folio pieces are coalesced into tasks of up
 * to TASK_PAGES pages, a large folio is split so every worker shares it, and
 * up to TASKS_PER_WORKER tasks wait in each worker's port, where the worker
 * takes the next one without the owner thread (piscina's Atomics hand-off). Workers read the store's staging copy in place, allocate
 * their objects in the pool, and write handles, lengths and checksums into a
 * shared result ring; a task message carries offsets and counts, and its
 * answer carries nothing but timing. The owner thread's work per folio is
 * reading those words and publishing them.
 *
 * A folio that fails (a worker died, close()) frees every object its pieces
 * allocated before it rejects: each handle was written to the ring by the
 * native call that allocated it, and a page never reached reads lo = 0.
 *
 * Nothing here waits for memory: a folio whose results do not fit in the ring
 * gets result arrays of its own. close() fails every piece not yet started
 * with ClosedError, waits for the running tasks, then ends the threads, so no
 * task error can escape as an unhandled rejection.
 */
import { Piscina } from 'piscina'
import { availableParallelism } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Worker } from 'node:worker_threads'
import type { StreamFormat } from '../codecs/formats.js'
import { FORMATS } from '../codecs/formats.js'
import {
  NOT_REACHED, shareCount, shareStart,
  type BackendInfo, type CompressBackend, type CompressOptions, type DecompressRequest, type PooledResult,
} from '../codecs/backend.js'
import { ClosedError } from '../errors.js'
import { loadNative, type NativeCodec } from '../native.js'
import { PageRing, type PageRun } from '../util/page-ring.js'
import { CompressToPool } from '../allocator/native-pool.js'
import { freeResults, type StorePool } from '../allocator/object-pool.js'
import { isLoaded, makeLoadedThreads } from './loaded-threads.js'
import { growableStaging } from '../folio/staging.js'
import { openDictionaryCodec } from '../codecs/dictionary.js'
import type { SlotDictionary } from '../store/codec-slots.js'
import type { CompressPiece, CompressTask, DecompressTask, OwnResults, RecodeTask, TaskResult, WorkerSetup } from '../../workers/page-worker.js'

/**
 * Pages per task: large enough that a task's cost on the owner thread (post,
 * completion, ~50–100 µs on this machine) is small next to its work (512 ×
 * ~1.1 µs for lz4 on node pages): owner CPU per 64 MiB fell from a median of
 * 20–25 ms at 128 pages to 16–18 ms at 512.
 */
export const TASK_PAGES = 512
/** Tasks posted to one worker at most (16 × 512 pages = 32 MiB of input per worker in flight). */
const TASKS_PER_WORKER = 16
/** A folio up to this many pages is one piece; a larger one is split across the workers. */
const PIECE_PAGES = 64
/**
 * Below this many compressed pages a loadMany decodes on the calling thread:
 * the workers' round trip (~50–100 µs, and the calling thread waits for the
 * slowest share) must be small next to the decode work. Measured on node-64m,
 * 2 workers, loadMany vs a loadSync loop: lz4 (~1.5 µs a page) broke even at
 * 1024–4096 pages (0.48× at 64, 0.9× at 256, 0.84–1.15× at 1024, 1.1–1.2× at
 * 4096); zstd (~5 µs) at ~128 (0.7–0.9× at 64, 1.2× at 256). So lz4 batches
 * from 2048, others from 256.
 */
export const LOAD_MANY_INLINE_PAGES = 2048
export const LOAD_MANY_INLINE_PAGES_SLOW = 256
const here = path.dirname(fileURLToPath(import.meta.url))
const WORKER_FILE = path.resolve(here, '..', '..', 'workers', 'page-worker.js')

interface FolioJob {
  remaining: number
  error: unknown
  settle: (error: unknown) => void
}

interface QueuedPiece {
  piece: CompressPiece
  folio: FolioJob
}

export interface WorkerPoolOptions {
  format: StreamFormat
  level: number
  maxBatch: number
  workers: number
  threshold: number
  sameFilled: boolean
  /** Keep incompressible pages as raw objects (else they come back rejected, with nothing allocated). */
  storeIncompressible: boolean
  /** The store's pool: workers attach to it by id and allocate in it. */
  pool: StorePool
  /** Pages of staging memory the workers map at start (the store stages folios there). Default 4096. */
  stagingPages?: number
  /** Result ring size in pages (16 bytes each, virtual until touched). Default 65536 (1 MiB). */
  ringPages?: number
  /** Compress with this trained dictionary (every worker builds its own codec from the shared bytes). */
  dictionary?: SlotDictionary
}

interface Results {
  status: Int32Array
  lo: Uint32Array
  hi: Uint32Array
  sums: Uint32Array | undefined
}

export class WorkerPoolBackend implements CompressBackend {
  readonly info: BackendInfo
  readonly synchronous = false
  readonly minDecompressBatch: number
  readonly decodeShares: number
  readonly stagingBuffer: SharedArrayBuffer
  readonly ready: Promise<void>
  private readonly piscina: Piscina
  private readonly ring: PageRing
  private readonly results: Results
  private readonly queue: QueuedPiece[] = []
  private readonly maxTasksInFlight: number
  private tasksInFlight = 0
  private queuedPages = 0
  private flushScheduled = false
  private flushing = false
  private readonly running = new Set<Promise<unknown>>()
  private readonly pool: StorePool
  private readonly decoders: (NativeCodec | undefined)[] = []
  private readonly decoderIds: number[] = []
  private closing: Promise<void> | undefined
  private readonly loaded = makeLoadedThreads()
  // Counters
  private tasks = 0
  private pagesCompressed = 0
  private decompressTasks = 0
  private pagesDecodedHere = 0
  private workerFailures = 0
  private cpuMs = 0
  private objectsFreedOnFailure = 0
  private readonly busyNs = new Map<number, number>()

  constructor(private readonly options: WorkerPoolOptions) {
    const native = loadNative()
    this.pool = options.pool
    this.minDecompressBatch = options.format === 'lz4' ? LOAD_MANY_INLINE_PAGES : LOAD_MANY_INLINE_PAGES_SLOW
    // 16 bytes per page: large enough that a burst which overflows the store's staging
    // (whose overflow buffers are kept) still finds result space here.
    const ringPages = options.ringPages ?? 65536
    this.ring = new PageRing(ringPages)
    const shared = makeShared(ringPages, options.pool.checksummed)
    // Virtual until touched; handed to the workers once, so pieces staged here travel as offsets.
    this.stagingBuffer = growableStaging(options.stagingPages ?? 4096)
    this.results = views(shared)
    const setup: WorkerSetup = {
      format: options.format,
      level: options.level,
      maxBatch: options.maxBatch,
      threshold: options.threshold,
      flags: (options.sameFilled ? CompressToPool.SameFilled : 0) | (options.storeIncompressible ? CompressToPool.StoreRaw : 0),
      poolId: options.pool.id,
      ...shared,
      loaded: this.loaded.buffer as SharedArrayBuffer,
      staging: this.stagingBuffer,
      dictionary: options.dictionary,
    }
    this.piscina = new Piscina({
      filename: WORKER_FILE,
      minThreads: options.workers,
      maxThreads: options.workers,
      idleTimeout: Infinity,
      workerData: setup,
      recordTiming: false,
      // Queued tasks wait in the worker's port: a worker takes the next one without the owner thread.
      concurrentTasksPerWorker: TASKS_PER_WORKER,
    })
    this.maxTasksInFlight = options.workers * TASKS_PER_WORKER
    // The calling thread takes a share of every batched decode (it would otherwise only wait),
    // but no more threads decode than there are cores: on 2 cores, 2 workers + the caller ran
    // a 16384-page lz4 loadMany in 24–25 ms (median), 1 worker + the caller in 22 ms.
    this.decodeShares = Math.min(options.workers + 1, Math.max(2, availableParallelism()))
    // Every worker must finish loading the addon before the pool is used or
    // destroyed: terminating a thread inside a native module's init is fatal.
    this.ready = Promise.all(Array.from({ length: options.workers * 2 }, () => this.track(this.piscina.run({ op: 'ping' })))).then(() => undefined)
    this.info = {
      name: options.dictionary ? `${options.format}+dict${options.dictionary.id}` : options.format,
      format: options.format,
      level: options.level,
      maxBatch: options.maxBatch,
      path: 'cpu',
      version: `${native.codecLibraries}; piscina ${options.workers} workers`,
    }
  }

  get workers(): number {
    return this.options.workers
  }

  /** The worker threads (diagnostics and fault-injection tests). */
  get threads(): readonly Worker[] {
    return this.piscina.threads
  }

  /** `pages` must live in shared memory the caller owns until the promise settles (the store's staging copy). */
  async compress(pages: Uint8Array, count: number, options: CompressOptions): Promise<PooledResult> {
    if (this.closing) throw new ClosedError('worker pool')
    if (!(pages.buffer instanceof SharedArrayBuffer)) throw new TypeError('worker pool input must be in shared memory')
    if (options.threshold !== this.options.threshold || options.detectSameFilled !== this.options.sameFilled ||
        (options.storeIncompressible ?? false) !== this.options.storeIncompressible) {
      throw new TypeError('worker pool options are fixed when the pool starts')
    }
    const run = this.ring.take(count)
    const own = run ? undefined : makeShared(count, this.pool.checksummed)
    const base = run ? run.start : 0
    const out = own ? views(own) : slice(this.results, base, count)
    // Slots are reused: a page no task reaches must not name a previous folio's object.
    out.status.fill(NOT_REACHED)
    out.lo.fill(0)
    try {
      await new Promise<void>((resolve, reject) => {
        const folio: FolioJob = {
          remaining: Math.ceil(count / this.pieceFor(count)),
          error: undefined,
          settle: (error) => (error ? reject(error) : resolve()),
        }
        for (let first = 0; first < count; first += this.pieceFor(count)) {
          const n = Math.min(this.pieceFor(count), count - first)
          const piece: CompressPiece = { srcOffset: pages.byteOffset + first * PAGE_BYTES, count: n, page: base + first }
          if (pages.buffer !== this.stagingBuffer) piece.src = pages.buffer as SharedArrayBuffer
          if (own) piece.own = own
          this.queue.push({ piece, folio })
          this.queuedPages += n
        }
        this.pump()
      })
    } catch (err) {
      // Every piece has settled: whatever the workers allocated is named in `out`.
      this.objectsFreedOnFailure += freeResults(this.pool, out.status, out.lo, count)
      if (run) this.ring.release(run)
      throw err
    }
    return { pooled: true, ...out, release: () => { if (run) this.ring.release(run) } }
  }

  /**
   * Decodes a loadMany batch: the jobs come laid out in decodeShares shares
   * (largest first, dealt round-robin); shares 0..workers-1 go to the workers,
   * the last is decoded here while they run.
   */
  async decompressMany(request: DecompressRequest): Promise<void> {
    if (this.closing) throw new ClosedError('worker pool')
    const { count, dst, dicts } = request
    const jobs = request.handles.buffer
    const arrays = [request.handles, request.lengths, request.slots, request.dstPages, request.status]
    if (request.sums) arrays.push(request.sums)
    if (!(dst.buffer instanceof SharedArrayBuffer) || !(jobs instanceof SharedArrayBuffer) || arrays.some((a) => a.buffer !== jobs)) {
      throw new TypeError('loadMany jobs (in one buffer) and destinations must be in shared memory')
    }
    const shares = this.decodeShares
    const runs: Promise<TaskResult>[] = []
    for (let s = 0; s < shares - 1; s++) {
      const n = shareCount(count, shares, s)
      if (n === 0) continue
      const task: DecompressTask = {
        op: 'decompress', jobs,
        handlesAt: request.handles.byteOffset, lengthsAt: request.lengths.byteOffset, slotsAt: request.slots.byteOffset,
        sumsAt: request.sums ? request.sums.byteOffset : -1, pagesAt: request.dstPages.byteOffset, statusAt: request.status.byteOffset,
        first: shareStart(count, shares, s), count: n,
        dst: dst.buffer as SharedArrayBuffer, dstOffset: dst.byteOffset, dstLength: dst.byteLength,
      }
      if (dicts) task.dicts = dicts
      this.decompressTasks++
      runs.push(this.track(this.piscina.run(task)) as Promise<TaskResult>)
    }
    const mine = shareCount(count, shares, shares - 1)
    if (mine > 0) this.decodeHere(request, shareStart(count, shares, shares - 1), mine)
    const results = await Promise.allSettled(runs)
    for (const r of results) if (r.status === 'fulfilled') this.addBusy(r.value)
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failed) throw this.closing ? new ClosedError('worker pool') : failed.reason
  }

  /** Recodes a recompression batch in one task on a worker. */
  async recode(task: Omit<RecodeTask, 'op'>): Promise<void> {
    if (this.closing) throw new ClosedError('worker pool')
    const result = (await this.track(this.piscina.run({ op: 'recode', ...task }))) as TaskResult
    this.addBusy(result)
  }

  stats(): Record<string, number> {
    const s: Record<string, number> = {
      workers: this.options.workers,
      tasks: this.tasks,
      decompress_tasks: this.decompressTasks,
      pages_decoded_on_caller: this.pagesDecodedHere,
      pages_compressed: this.pagesCompressed,
      queue_depth: this.queue.length,
      tasks_in_flight: this.tasksInFlight,
      result_ring_pages: this.ring.capacity,
      result_ring_peak_pages: this.ring.peakPages,
      result_ring_misses: this.ring.misses,
      worker_failures: this.workerFailures,
      objects_freed_on_failure: this.objectsFreedOnFailure,
      workers_cpu_ms: this.cpuMs,
    }
    let i = 0
    for (const [, ns] of [...this.busyNs].sort((a, b) => a[0] - b[0])) s[`worker${i++}_busy_ms`] = ns / 1e6
    return s
  }

  close(): Promise<void> {
    this.closing ??= this.shutDown()
    return this.closing
  }

  private async shutDown(): Promise<void> {
    const closed = new ClosedError('worker pool')
    this.queuedPages = 0
    for (const { folio } of this.queue.splice(0)) {
      folio.error ??= closed
      if (--folio.remaining === 0) folio.settle(folio.error)
    }
    // Running tasks finish (their results are dropped by the store); only then do the threads end.
    while (this.running.size > 0) await Promise.allSettled([...this.running])
    await this.replacementsLoaded()
    await this.piscina.destroy()
  }

  /**
   * piscina replaces a worker that died; ending the replacement while it is
   * still inside the addon's init is a fatal error of the process. So close()
   * waits (bounded) until every live thread has reported itself loaded.
   */
  private async replacementsLoaded(): Promise<void> {
    const deadline = Date.now() + 10_000
    while (Date.now() < deadline && this.piscina.threads.some((t) => !isLoaded(this.loaded, t.threadId))) {
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
  }

  /** Pages per piece of a folio: whole up to PIECE_PAGES, and a larger folio split so every worker gets a share. */
  private pieceFor(count: number): number {
    return count <= PIECE_PAGES ? count : Math.max(PIECE_PAGES, Math.ceil(count / this.options.workers))
  }

  /** The calling thread's share of a decode batch, with this thread's decoders. */
  private decodeHere(r: DecompressRequest, first: number, count: number): void {
    for (let i = first, end = first + count; i < end; ) {
      let j = i + 1
      while (j < end && r.slots[j] === r.slots[i]) j++
      const decoder = this.decoderFor(r.slots[i], r.dicts?.[r.slots[i]])
      r.pool.decodeMany(decoder, r.handles.subarray(i, j), r.lengths.subarray(i, j), j - i, r.dst, r.dstPages.subarray(i, j), r.status.subarray(i, j), r.sums?.subarray(i, j))
      i = j
    }
    this.pagesDecodedHere += count
  }

  /** This thread's decoder of a slot; a dictionary slot's is rebuilt when the slot holds another dictionary. */
  private decoderFor(slot: number, dict: SlotDictionary | undefined): NativeCodec {
    let decoder = this.decoders[slot]
    if (!decoder || (dict && this.decoderIds[slot] !== dict.id)) {
      decoder = this.decoders[slot] = dict ? openDictionaryCodec(dict.format, dict.level, dict.bytes, dict.id) : new (loadNative().Codec)(FORMATS[slot], 1)
      this.decoderIds[slot] = dict?.id ?? 0
    }
    return decoder
  }

  /**
   * Posts queued pieces as tasks. A full task (TASK_PAGES) goes at once; a
   * partial one goes at once only while a worker may be idle (fewer tasks in
   * flight than workers), else at the end of the current synchronous run (a
   * microtask), so a caller issuing a burst of small folios in one loop gets
   * them coalesced — and the workers get them while that loop still runs:
   * they take queued tasks from their ports without the owner thread, which
   * is busy issuing (measured: with three small tasks per worker in flight,
   * the workers idled for most of a 64 MiB burst).
   */
  private pump(): void {
    while (this.tasksInFlight < this.maxTasksInFlight && this.queue.length > 0 && !this.closing) {
      if (this.queuedPages < TASK_PAGES && this.tasksInFlight >= this.options.workers && !this.flushing) {
        if (!this.flushScheduled) {
          this.flushScheduled = true
          queueMicrotask(() => {
            this.flushScheduled = false
            this.flushing = true
            try {
              this.pump()
            } finally {
              this.flushing = false
            }
          })
        }
        return
      }
      const batch: QueuedPiece[] = []
      let pages = 0
      while (this.queue.length > 0 && (batch.length === 0 || pages + this.queue[0].piece.count <= TASK_PAGES)) {
        const q = this.queue.shift()!
        batch.push(q)
        pages += q.piece.count
      }
      this.queuedPages -= pages
      const task: CompressTask = { op: 'compress', pieces: batch.map((q) => q.piece) }
      this.tasksInFlight++
      this.track(this.piscina.run(task)).then(
        (result: TaskResult) => {
          this.tasks++
          this.pagesCompressed += pages
          this.addBusy(result)
          this.finish(batch, undefined)
        },
        (err: unknown) => {
          this.workerFailures++
          this.finish(batch, this.closing ? new ClosedError('worker pool') : err ?? new Error('worker task failed'))
        },
      )
    }
  }

  private finish(batch: QueuedPiece[], error: unknown): void {
    this.tasksInFlight--
    for (const { folio } of batch) {
      if (error && !folio.error) folio.error = error
      if (--folio.remaining === 0) folio.settle(folio.error)
    }
    this.pump()
  }

  /** Remembers a task until it settles, so close() can wait for it; the returned promise is the task's. */
  private track<T>(task: Promise<T>): Promise<T> {
    const settled = task.then(() => undefined, () => undefined)
    this.running.add(settled)
    void settled.then(() => this.running.delete(settled))
    return task
  }

  private addBusy(result: TaskResult): void {
    this.busyNs.set(result.threadId, (this.busyNs.get(result.threadId) ?? 0) + result.busyNs)
    this.cpuMs += result.cpuMs ?? 0
  }
}

const PAGE_BYTES = 4096

function makeShared(pages: number, checksummed: boolean): OwnResults {
  return {
    status: new SharedArrayBuffer(pages * 4),
    lo: new SharedArrayBuffer(pages * 4),
    hi: new SharedArrayBuffer(pages * 4),
    sums: checksummed ? new SharedArrayBuffer(pages * 4) : undefined,
  }
}

function views(s: OwnResults): Results {
  return {
    status: new Int32Array(s.status), lo: new Uint32Array(s.lo), hi: new Uint32Array(s.hi),
    sums: s.sums ? new Uint32Array(s.sums) : undefined,
  }
}

function slice(r: Results, start: number, count: number): Results {
  return {
    status: r.status.subarray(start, start + count), lo: r.lo.subarray(start, start + count),
    hi: r.hi.subarray(start, start + count), sums: r.sums?.subarray(start, start + count),
  }
}
