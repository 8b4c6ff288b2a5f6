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
import { openDictionaryCodec } from '../src/codecs/dictionary.js'
import type { SlotDictionary } from '../src/store/codec-slots.js'

export interface WorkerSetup {
  format: string
  level: number
  maxBatch: number
  threshold: number
  sameFilled: boolean
  /** The pool's output ring (page slots) and its status words. */
  output: SharedArrayBuffer
  status: SharedArrayBuffer
  /** Compress with this dictionary (objects are [id][frame]). */
  dictionary?: SlotDictionary
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
  /** The dictionaries of the dictionary slots the jobs name. */
  dicts?: Record<number, SlotDictionary>
  dst: SharedArrayBuffer
  /** Byte offset of page 0 of the destination within `dst`. */
  dstOffset: number
  status: SharedArrayBuffer
  statusOffset: number
}

/** Recompression: decode each object, compress the page with the target codec under its limit. */
export interface RecodeTask {
  op: 'recode'
  count: number
  input: SharedArrayBuffer
  offsets: Uint32Array
  lengths: Uint32Array
  slots: Uint8Array
  limits: Uint32Array
  output: SharedArrayBuffer
  status: SharedArrayBuffer
  dicts?: Record<number, SlotDictionary>
  target: { format: string; level: number; dictionary?: SlotDictionary }
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
const codec = setup.dictionary
  ? openDictionaryCodec(setup.dictionary.format, setup.level, setup.dictionary.bytes, setup.dictionary.id)
  : new native.Codec(setup.format, setup.level)
// Decoders by slot; a dictionary slot's decoder is rebuilt when the slot holds another dictionary.
const decoderIds: number[] = []
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
    const decoder = decoderFor(slot, task.dicts?.[slot])
    decoder.decompressBatch(arenas, jobs.subarray(i * 4, j * 4), j - i, dst, out.subarray(i, j), sums?.subarray(i, j))
    i = j
  }
}

const targets = new Map<string, NativeCodec>()
const scratchPage = new Uint8Array(4096)
const one = new Int32Array(1)

function decoderFor(slot: number, dict: SlotDictionary | undefined): NativeCodec {
  let decoder = decoders[slot]
  if (!decoder || (dict && decoderIds[slot] !== dict.id)) {
    decoder = decoders[slot] = dict ? openDictionaryCodec(dict.format, dict.level, dict.bytes, dict.id) : new native.Codec(FORMATS[slot], 1)
    decoderIds[slot] = dict?.id ?? 0
  }
  return decoder
}

function recode(task: RecodeTask): void {
  const t = task.target
  const name = `${t.format}:${t.level}:${t.dictionary?.id ?? 0}`
  let target = targets.get(name)
  if (!target) {
    target = t.dictionary ? openDictionaryCodec(t.dictionary.format, t.level, t.dictionary.bytes, t.dictionary.id) : new native.Codec(t.format, t.level)
    targets.set(name, target)
  }
  const input = new Uint8Array(task.input)
  const output = new Uint8Array(task.output)
  const status = new Int32Array(task.status)
  for (let i = 0; i < task.count; i++) {
    const len = task.lengths[i]
    const at = task.offsets[i]
    if (len === 4096) scratchPage.set(input.subarray(at, at + 4096))
    else if (decoderFor(task.slots[i], task.dicts?.[task.slots[i]]).decompress(input, at, len, scratchPage, 0) !== 4096) {
      status[i] = -2
      continue
    }
    target.compressBatch(scratchPage, 0, 1, output, i, one, 0, Math.max(1, task.limits[i]), false)
    status[i] = one[0]
  }
}

export default function run(task: CompressTask | DecompressTask | RecodeTask | PingTask): TaskResult {
  const t0 = process.hrtime.bigint()
  if (task.op === 'compress') compress(task)
  else if (task.op === 'decompress') decompress(task)
  else if (task.op === 'recode') recode(task)
  return { threadId, busyNs: Number(process.hrtime.bigint() - t0) }
}
