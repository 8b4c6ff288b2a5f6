/**
 * A piscina worker: compresses folio pieces from the store's staging copy into
 * output slots, and decompresses readahead batches straight out of the pool's
 * arenas. Every worker owns its codec contexts (zswap's per-CPU acomp_ctx).
 * Tasks carry offsets and counts; the memory is shared, never copied.
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
  /** The pool's output ring (page slots) and its status words. */
  output: SharedArrayBuffer
  status: SharedArrayBuffer
}

/**
 * One piece of a folio: `count` pages at byte `srcOffset` of `src` (the store's
 * staging copy), compressed into output slots from `page` — of the shared
 * output ring, or of `out`/`status` when the ring had no room.
 */
export interface CompressPiece {
  src: SharedArrayBuffer
  srcOffset: number
  count: number
  page: number
  out?: SharedArrayBuffer
  status?: SharedArrayBuffer
}

export interface CompressTask {
  op: 'compress'
  pieces: CompressPiece[]
}

export interface DecompressTask {
  op: 'decompress'
  /** Arena byte buffers by arena index (only those the jobs name). */
  arenas: (SharedArrayBuffer | undefined)[]
  /** [arena, offset, length, dstPage] per job, in submission order. */
  jobs: Int32Array
  /** Stream format slot per job. */
  slots: Uint8Array
  /** Expected object checksum per job, when the store keeps them. */
  sums?: Uint32Array
  dst: SharedArrayBuffer
  /** Byte offset of page 0 of the destination within `dst`. */
  dstOffset: number
  status: SharedArrayBuffer
  statusOffset: number
}

/** Answered once the module (and the native addon) has loaded: the pool's readiness probe. */
export interface PingTask {
  op: 'ping'
}

export interface TaskResult {
  threadId: number
  busyNs: number
}

const setup = workerData as WorkerSetup
const native = loadNative()
const codec = new native.Codec(setup.format, setup.level)
const output = new Uint8Array(setup.output)
const status = new Int32Array(setup.status)
const decoders: (NativeCodec | undefined)[] = []

function compress(task: CompressTask): void {
  for (const p of task.pieces) {
    const src = new Uint8Array(p.src, p.srcOffset, p.count * 4096)
    const target = p.out
      ? { out: new Uint8Array(p.out), status: new Int32Array(p.status!), page: p.page }
      : { out: output, status, page: p.page }
    compressInBatches(codec, src, 0, p.count, target, setup.maxBatch, setup.threshold, setup.sameFilled)
  }
}

function decompress(task: DecompressTask): void {
  const arenas = task.arenas.map((a) => (a ? new Uint8Array(a) : undefined))
  const dst = new Uint8Array(task.dst, task.dstOffset)
  const { jobs, slots, sums } = task
  const out = new Int32Array(task.status, task.statusOffset * 4, slots.length)
  // One native call per run of jobs in the same stream format (usually all of them).
  for (let i = 0; i < slots.length; ) {
    let j = i + 1
    while (j < slots.length && slots[j] === slots[i]) j++
    const slot = slots[i]
    const decoder = decoders[slot] ?? (decoders[slot] = new native.Codec(FORMATS[slot], 1))
    decoder.decompressBatch(arenas, jobs.subarray(i * 4, j * 4), j - i, dst, out.subarray(i, j), sums?.subarray(i, j))
    i = j
  }
}

export default function run(task: CompressTask | DecompressTask | PingTask): TaskResult {
  const t0 = process.hrtime.bigint()
  if (task.op === 'compress') compress(task)
  else if (task.op === 'decompress') decompress(task)
  return { threadId, busyNs: Number(process.hrtime.bigint() - t0) }
}
