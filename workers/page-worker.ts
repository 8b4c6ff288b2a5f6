/**
 * A piscina worker: compresses batches into the shared staging ring, and
 * decompresses readahead batches straight out of the pool's arenas. Every
 * worker owns its codec contexts (zswap's per-CPU acomp_ctx). Tasks carry
 * offsets and counts; the memory was shared once, at worker start.
 */
import { threadId, workerData } from 'node:worker_threads'
import { loadNative, type NativeCodec } from '../src/native.js'
import { FORMATS } from '../src/codecs/formats.js'
import { compressInBatches } from '../src/folio/batches.js'

export interface WorkerSetup {
  format: string
  level: number
  maxBatch: number
  threshold: number
  sameFilled: boolean
  input: SharedArrayBuffer
  output: SharedArrayBuffer
  status: SharedArrayBuffer
}

/** One piece of a folio: `count` pages at ring slot `ring`; pages come from `src` when the caller's memory was shared. */
export interface CompressPiece {
  ring: number
  count: number
  failPage: number
  src?: SharedArrayBuffer
  srcOffset?: number
}

export interface CompressTask {
  op: 'compress'
  pieces: CompressPiece[]
  /** Test hook: end this worker thread mid-task, as a crash would. */
  die?: boolean
}

export interface DecompressTask {
  op: 'decompress'
  /** Arena byte buffers by arena index (only those the jobs name). */
  arenas: (SharedArrayBuffer | undefined)[]
  /** [arena, offset, length, dstPage] per job, in submission order. */
  jobs: Int32Array
  /** Stream format slot per job. */
  slots: Uint8Array
  dst: SharedArrayBuffer
  /** Byte offset of page 0 of the destination within `dst`. */
  dstOffset: number
  status: SharedArrayBuffer
  statusOffset: number
}

export interface TaskResult {
  threadId: number
  busyNs: number
}

const setup = workerData as WorkerSetup
const native = loadNative()
const codec = new native.Codec(setup.format, setup.level)
const input = new Uint8Array(setup.input)
const output = new Uint8Array(setup.output)
const status = new Int32Array(setup.status)
const decoders: (NativeCodec | undefined)[] = []
const target = { out: output, status, page: 0 }

function compress(task: CompressTask): void {
  if (task.die) process.exit(70)
  for (const p of task.pieces) {
    const src = p.src ? new Uint8Array(p.src, p.srcOffset ?? 0, p.count * 4096) : input
    target.page = p.ring
    compressInBatches(codec, src, p.src ? 0 : p.ring, p.count, target, setup.maxBatch, setup.threshold, setup.sameFilled, p.failPage)
  }
}

function decompress(task: DecompressTask): void {
  const arenas = task.arenas.map((a) => (a ? new Uint8Array(a) : undefined)) as Uint8Array[]
  const dst = new Uint8Array(task.dst, task.dstOffset)
  const { jobs, slots } = task
  const out = new Int32Array(task.status, task.statusOffset * 4, slots.length)
  // One native call per run of jobs in the same stream format (usually all of them).
  for (let i = 0; i < slots.length; ) {
    let j = i + 1
    while (j < slots.length && slots[j] === slots[i]) j++
    const slot = slots[i]
    const decoder = decoders[slot] ?? (decoders[slot] = new native.Codec(FORMATS[slot], 1))
    decoder.decompressBatch(arenas, jobs.subarray(i * 4, j * 4), j - i, dst, out.subarray(i, j))
    i = j
  }
}

/** Answered once the module (and the native addon) has loaded: the pool's readiness probe. */
export interface PingTask {
  op: 'ping'
}

export default function run(task: CompressTask | DecompressTask | PingTask): TaskResult {
  const t0 = process.hrtime.bigint()
  if (task.op === 'compress') compress(task)
  else if (task.op === 'decompress') decompress(task)
  return { threadId, busyNs: Number(process.hrtime.bigint() - t0) }
}
