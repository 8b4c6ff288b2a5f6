/**
 * Software compression in a piscina worker pool. The costs it is designed
 * around (measured here): a piscina round trip is 25–120 µs, an lz4 page is
 * ~6 µs. So a task is never one page: queued folio pieces are coalesced into
 * tasks of up to TASK_PAGES pages, a large folio is split so every worker
 * shares it, and at most three tasks per worker are in flight (one running,
 * the others queued in its port to hide the round trip). Pages travel through the shared
 * staging ring; a task carries offsets and counts.
 */
import { Piscina } from 'piscina'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { PAGE_SIZE } from '../codecs/status.js'
import type { BackendInfo, CompressBackend, CompressOptions, CompressResult } from '../codecs/backend.js'
import type { StreamFormat } from '../codecs/formats.js'
import { loadNative } from '../native.js'
import { StagingRing, type StagingRun } from './staging-ring.js'
import type { CompressPiece, CompressTask, DecompressTask, TaskResult, WorkerSetup } from '../../workers/page-worker.js'

/**
 * Pages per task: large enough that a task's cost on the owner thread (post,
 * completion, ~50–100 µs on this machine) is small next to its work
 * (128 × 6 µs for lz4), small enough that a 2 MiB folio is shared by 4 tasks.
 */
export const TASK_PAGES = 128
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
  /** Staging ring size in pages; bounds the memory in flight. Default max(4096, 1024 × workers). */
  stagingPages?: number
}

export class WorkerPoolBackend implements CompressBackend {
  readonly info: BackendInfo
  readonly ring: StagingRing
  private readonly piscina: Piscina
  private readonly queue: QueuedPiece[] = []
  private readonly maxTasksInFlight: number
  private tasksInFlight = 0
  private closed = false
  // Counters
  private tasks = 0
  private pagesCompressed = 0
  private decompressTasks = 0
  private workerFailures = 0
  private readonly busyNs = new Map<number, number>()

  constructor(private readonly options: WorkerPoolOptions) {
    const native = loadNative()
    // 4096 pages (16 MiB each way, virtual until touched): a smaller ring stalled the
    // pipeline on folios waiting to be published (measured: ~10–20% less throughput at 1024).
    this.ring = new StagingRing(options.stagingPages ?? Math.max(4096, 1024 * options.workers))
    const setup: WorkerSetup = {
      format: options.format,
      level: options.level,
      maxBatch: options.maxBatch,
      threshold: options.threshold,
      sameFilled: options.sameFilled,
      input: this.ring.input,
      output: this.ring.output,
      status: this.ring.status,
    }
    this.piscina = new Piscina({
      filename: WORKER_FILE,
      minThreads: options.workers,
      maxThreads: options.workers,
      idleTimeout: Infinity,
      workerData: setup,
      recordTiming: false,
      // A second task waits in the worker's port, so a worker never idles for the owner's round trip.
      concurrentTasksPerWorker: 2,
    })
    this.maxTasksInFlight = options.workers * 3
    // Every worker must finish loading the addon before the pool is used or
    // destroyed: terminating a thread inside a native module's init is fatal.
    this.ready = Promise.all(Array.from({ length: options.workers * 2 }, () => this.piscina.run({ op: 'ping' }))).then(() => undefined)
    this.info = {
      name: options.format,
      format: options.format,
      level: options.level,
      maxBatch: options.maxBatch,
      path: 'cpu',
      version: `${native.codecLibraries}; piscina ${options.workers} workers`,
    }
  }

  readonly ready: Promise<void>

  get workers(): number {
    return this.options.workers
  }

  async compress(pages: Uint8Array, count: number, options: CompressOptions & { crashWorker?: boolean }): Promise<CompressResult> {
    const acquired = this.ring.acquire(count)
    const run: StagingRun = acquired instanceof Promise ? await acquired : acquired
    const ring = this.ring
    // Caller memory that is already shared (a SwapCache frame pool) is read in place; anything else is copied once.
    const shared = pages.buffer instanceof SharedArrayBuffer ? (pages.buffer as SharedArrayBuffer) : undefined
    if (!shared) ring.inputBytes.set(pages.subarray(0, count * PAGE_SIZE), run.start * PAGE_SIZE)
    const done = new Promise<void>((resolve, reject) => {
      const pieces = Math.ceil(count / TASK_PAGES)
      const folio: FolioJob = {
        remaining: pieces,
        error: undefined,
        settle: (error) => (error ? reject(error) : resolve()),
      }
      // Split on TASK_PAGES: a batch (≤ maxBatch pages) never straddles pieces while maxBatch divides 128.
      for (let first = 0; first < count; first += TASK_PAGES) {
        const n = Math.min(TASK_PAGES, count - first)
        const failPage = options.failPage >= first && options.failPage < first + n ? options.failPage - first : -1
        const piece: CompressPiece = { ring: run.start + first, count: n, failPage }
        if (shared) {
          piece.src = shared
          piece.srcOffset = pages.byteOffset + first * PAGE_SIZE
        }
        this.queue.push({ piece, folio })
      }
      if (options.crashWorker) this.crashNext = true
      this.pump()
    })
    try {
      await done
    } catch (err) {
      ring.release(run)
      throw err
    }
    return {
      status: ring.statusWords.subarray(run.start, run.start + count),
      out: ring.outputBytes.subarray(run.start * PAGE_SIZE, (run.start + count) * PAGE_SIZE),
      release: () => ring.release(run),
    }
  }

  /** Runs a decompress task (loadMany) on the pool. */
  async decompress(task: Omit<DecompressTask, 'op'>): Promise<TaskResult> {
    this.decompressTasks++
    const result = (await this.piscina.run({ op: 'decompress', ...task })) as TaskResult
    this.addBusy(result)
    return result
  }

  stats(): Record<string, number> {
    const s: Record<string, number> = {
      workers: this.options.workers,
      tasks: this.tasks,
      decompress_tasks: this.decompressTasks,
      pages_compressed: this.pagesCompressed,
      queue_depth: this.queue.length,
      tasks_in_flight: this.tasksInFlight,
      staging_pages_in_flight: this.ring.pagesInFlight,
      staging_peak_pages: this.ring.peakPages,
      staging_capacity_pages: this.ring.capacity,
      backpressure_waits: this.ring.waits,
      worker_failures: this.workerFailures,
    }
    let i = 0
    for (const [, ns] of [...this.busyNs].sort((a, b) => a[0] - b[0])) s[`worker${i++}_busy_ms`] = ns / 1e6
    return s
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.ready.catch(() => undefined)
    await this.piscina.destroy()
  }

  private crashNext = false

  /** Starts tasks while fewer than three per worker are in flight, coalescing queued pieces. */
  private pump(): void {
    while (this.tasksInFlight < this.maxTasksInFlight && this.queue.length > 0) {
      const batch: QueuedPiece[] = []
      let pages = 0
      while (this.queue.length > 0 && (batch.length === 0 || pages + this.queue[0].piece.count <= TASK_PAGES)) {
        const q = this.queue.shift()!
        batch.push(q)
        pages += q.piece.count
      }
      const task: CompressTask = { op: 'compress', pieces: batch.map((q) => q.piece) }
      if (this.crashNext) {
        task.die = true
        this.crashNext = false
      }
      this.tasksInFlight++
      this.piscina.run(task).then(
        (result: TaskResult) => {
          this.tasks++
          this.pagesCompressed += pages
          this.addBusy(result)
          this.finish(batch, undefined)
        },
        (err: unknown) => {
          this.workerFailures++
          this.finish(batch, err ?? new Error('worker task failed'))
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

  private addBusy(result: TaskResult): void {
    this.busyNs.set(result.threadId, (this.busyNs.get(result.threadId) ?? 0) + result.busyNs)
  }
}
