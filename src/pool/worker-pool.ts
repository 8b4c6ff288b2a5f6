/**
 * Software compression in a piscina worker pool. The costs it is designed
 * around (measured here): a piscina round trip is 25–120 µs, an lz4 page is
 * ~6 µs. So a task is never one page: queued folio pieces are coalesced into
 * tasks of up to TASK_PAGES pages, a large folio is split so every worker
 * shares it, and at most three tasks per worker are in flight (one running,
 * the others queued in its port to hide the round trip). Workers read the
 * store's staging copy in place and write into a shared output ring; a task
 * carries offsets and counts.
 *
 * Nothing here waits for memory: a folio whose output does not fit in the ring
 * gets output buffers of its own. close() fails every piece not yet started
 * with ClosedError, waits for the running tasks, then ends the threads, so no
 * task error can escape as an unhandled rejection.
 */
import { Piscina } from 'piscina'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Worker } from 'node:worker_threads'
import { PAGE_SIZE } from '../codecs/status.js'
import type { StreamFormat } from '../codecs/formats.js'
import type { BackendInfo, CompressBackend, CompressOptions, CompressResult, DecompressRequest } from '../codecs/backend.js'
import { ClosedError } from '../errors.js'
import { loadNative } from '../native.js'
import { PageRing, type PageRun } from '../util/page-ring.js'
import type { SlotDictionary } from '../store/codec-slots.js'
import type { CompressPiece, CompressTask, DecompressTask, RecodeTask, TaskResult, WorkerSetup } from '../../workers/page-worker.js'

/**
 * Pages per task: large enough that a task's cost on the owner thread (post,
 * completion, ~50–100 µs on this machine) is small next to its work
 * (128 × 6 µs for lz4), small enough that a 2 MiB folio is shared by 4 tasks.
 */
export const TASK_PAGES = 128
/** Below this many compressed pages a loadMany decodes on the calling thread: a pool round trip would cost more. */
export const LOAD_MANY_INLINE_PAGES = 64
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
  /** Output ring size in pages. Default max(4096, 1024 × workers). */
  ringPages?: number
  /** Compress with this trained dictionary (every worker builds its own codec from the shared bytes). */
  dictionary?: SlotDictionary
}

export class WorkerPoolBackend implements CompressBackend {
  readonly info: BackendInfo
  readonly synchronous = false
  readonly minDecompressBatch = LOAD_MANY_INLINE_PAGES
  readonly ready: Promise<void>
  private readonly piscina: Piscina
  private readonly ring: PageRing
  private readonly output: Uint8Array
  private readonly status: Int32Array
  private readonly queue: QueuedPiece[] = []
  private readonly maxTasksInFlight: number
  private tasksInFlight = 0
  private readonly running = new Set<Promise<unknown>>()
  private closing: Promise<void> | undefined
  // Counters
  private tasks = 0
  private pagesCompressed = 0
  private decompressTasks = 0
  private workerFailures = 0
  private readonly busyNs = new Map<number, number>()

  constructor(private readonly options: WorkerPoolOptions) {
    const native = loadNative()
    // 4096 pages (16 MiB, virtual until touched): a smaller ring sent folios to
    // private buffers often enough to cost ~10–20% throughput (measured at 1024).
    const ringPages = options.ringPages ?? Math.max(4096, 1024 * options.workers)
    this.ring = new PageRing(ringPages)
    const output = new SharedArrayBuffer(ringPages * PAGE_SIZE)
    const status = new SharedArrayBuffer(ringPages * 4)
    this.output = new Uint8Array(output)
    this.status = new Int32Array(status)
    const setup: WorkerSetup = {
      format: options.format,
      level: options.level,
      maxBatch: options.maxBatch,
      threshold: options.threshold,
      sameFilled: options.sameFilled,
      output,
      status,
      dictionary: options.dictionary,
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
  async compress(pages: Uint8Array, count: number, options: CompressOptions): Promise<CompressResult> {
    if (this.closing) throw new ClosedError('worker pool')
    if (!(pages.buffer instanceof SharedArrayBuffer)) throw new TypeError('worker pool input must be in shared memory')
    if (options.threshold !== this.options.threshold || options.detectSameFilled !== this.options.sameFilled) {
      throw new TypeError('worker pool options are fixed when the pool starts')
    }
    const run = this.ring.take(count)
    const own = run ? undefined : { out: new SharedArrayBuffer(count * PAGE_SIZE), status: new SharedArrayBuffer(count * 4) }
    const base = run ? run.start : 0
    try {
      await new Promise<void>((resolve, reject) => {
        const folio: FolioJob = {
          remaining: Math.ceil(count / TASK_PAGES),
          error: undefined,
          settle: (error) => (error ? reject(error) : resolve()),
        }
        // Split on TASK_PAGES: a batch (≤ maxBatch pages) never straddles pieces while maxBatch divides 128.
        for (let first = 0; first < count; first += TASK_PAGES) {
          const n = Math.min(TASK_PAGES, count - first)
          const piece: CompressPiece = {
            src: pages.buffer as SharedArrayBuffer, srcOffset: pages.byteOffset + first * PAGE_SIZE, count: n, page: base + first,
          }
          if (own) Object.assign(piece, own)
          this.queue.push({ piece, folio })
        }
        this.pump()
      })
    } catch (err) {
      if (run) this.ring.release(run)
      throw err
    }
    return this.result(run, own, count)
  }

  /** Decodes a loadMany batch across the workers; jobs are dealt round-robin so every task starts with its longest. */
  async decompressMany(request: DecompressRequest): Promise<void> {
    if (this.closing) throw new ClosedError('worker pool')
    const { jobs, slots, sums, count, dst, status, dicts } = request
    if (!(dst.buffer instanceof SharedArrayBuffer) || !(status.buffer instanceof SharedArrayBuffer)) {
      throw new TypeError('loadMany destinations must be in shared memory')
    }
    const tasks = Math.min(this.options.workers, Math.ceil(count / (LOAD_MANY_INLINE_PAGES / 2)))
    const runs: Promise<TaskResult>[] = []
    // Submission order is task by task: the status words of task t follow those of task t-1.
    const order = new Int32Array(count)
    let statusOffset = 0
    for (let t = 0; t < tasks; t++) {
      const n = Math.ceil((count - t) / tasks)
      const taskJobs = new Int32Array(n * 4)
      const taskSlots = new Uint8Array(n)
      const taskSums = sums ? new Uint32Array(n) : undefined
      const used: (SharedArrayBuffer | undefined)[] = []
      for (let local = 0, j = t; j < count; j += tasks, local++) {
        taskJobs.set(jobs.subarray(j * 4, j * 4 + 4), local * 4)
        taskSlots[local] = slots[j]
        if (taskSums) taskSums[local] = sums![j]
        order[statusOffset + local] = j
        const arena = jobs[j * 4]
        used[arena] ??= request.arenas[arena]?.buffer as SharedArrayBuffer | undefined
      }
      const task: DecompressTask = {
        op: 'decompress', arenas: used, jobs: taskJobs, slots: taskSlots, sums: taskSums, dicts,
        dst: dst.buffer as SharedArrayBuffer, dstOffset: dst.byteOffset,
        status: status.buffer as SharedArrayBuffer, statusOffset: status.byteOffset / 4 + statusOffset,
      }
      statusOffset += n
      this.decompressTasks++
      runs.push(this.track(this.piscina.run(task)) as Promise<TaskResult>)
    }
    const results = await Promise.allSettled(runs)
    for (const r of results) if (r.status === 'fulfilled') this.addBusy(r.value)
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failed) throw this.closing ? new ClosedError('worker pool') : failed.reason
    // Status words were written in task order; put them back in job order.
    const byTask = status.slice(0, count)
    for (let k = 0; k < count; k++) status[order[k]] = byTask[k]
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
      pages_compressed: this.pagesCompressed,
      queue_depth: this.queue.length,
      tasks_in_flight: this.tasksInFlight,
      output_ring_pages: this.ring.capacity,
      output_ring_peak_pages: this.ring.peakPages,
      output_ring_misses: this.ring.misses,
      worker_failures: this.workerFailures,
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
    for (const { folio } of this.queue.splice(0)) {
      folio.error ??= closed
      if (--folio.remaining === 0) folio.settle(folio.error)
    }
    // Running tasks finish (their results are dropped by the store); only then do the threads end.
    while (this.running.size > 0) await Promise.allSettled([...this.running])
    await this.piscina.destroy()
  }

  private result(run: PageRun | undefined, own: { out: SharedArrayBuffer; status: SharedArrayBuffer } | undefined, count: number): CompressResult {
    if (own) return { status: new Int32Array(own.status), out: new Uint8Array(own.out), release: () => {} }
    return {
      status: this.status.subarray(run!.start, run!.start + count),
      out: this.output.subarray(run!.start * PAGE_SIZE, (run!.start + count) * PAGE_SIZE),
      release: () => this.ring.release(run!),
    }
  }

  /** Starts tasks while fewer than three per worker are in flight, coalescing queued pieces. */
  private pump(): void {
    while (this.tasksInFlight < this.maxTasksInFlight && this.queue.length > 0 && !this.closing) {
      const batch: QueuedPiece[] = []
      let pages = 0
      while (this.queue.length > 0 && (batch.length === 0 || pages + this.queue[0].piece.count <= TASK_PAGES)) {
        const q = this.queue.shift()!
        batch.push(q)
        pages += q.piece.count
      }
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
  }
}
