/**
 * A piscina worker: compresses folio pieces from the store's staging copy
 * straight into the store's native pool, and decodes readahead batches
 * straight out of it. Every worker owns its codec contexts (zswap's per-CPU
 * acomp_ctx) and its reference to the pool (attached by id; dropped when the
 * thread ends, however it ends). Tasks carry offsets and counts; the memory
 * they name is shared, never copied, and a compress task returns no bytes:
 * the handles and lengths it allocated are in the shared result ring, written
 * by the native call that allocated them, so nothing a dying worker allocated
 * is out of the owner's sight.
 */
import { threadId, workerData } from 'node:worker_threads'
import { loadNative, type NativeCodec } from '../src/native.js'
import { FORMATS } from '../src/codecs/formats.js'
import { compressInBatchesToPool, type PoolTarget } from '../src/folio/batches.js'
import { attachNativePool, nativeAllocator } from '../src/allocator/native-pool.js'
import { markLoaded } from '../src/pool/loaded-threads.js'
import { openDictionaryCodec } from '../src/codecs/dictionary.js'
import type { SlotDictionary } from '../src/store/codec-slots.js'

export interface WorkerSetup {
  format: string
  level: number
  maxBatch: number
  threshold: number
  /** compressBatchToPool flags (same-filled detection, raw pages). */
  flags: number
  /** The store's native pool (attachNativePool). */
  poolId: number
  /** The result ring: status, lo (handle or fill word), hi (length or fill word), checksums. */
  status: SharedArrayBuffer
  lo: SharedArrayBuffer
  hi: SharedArrayBuffer
  sums: SharedArrayBuffer | undefined
  /** The store's staging memory: pieces without `src` are read from here. */
  staging: SharedArrayBuffer
  /** Thread ids of workers that finished loading (src/pool/loaded-threads.ts). */
  loaded: SharedArrayBuffer
  /** Compress with this dictionary (objects are [id][frame]). */
  dictionary?: SlotDictionary
}

/** Result arrays of a folio that did not fit in the ring. */
export interface OwnResults {
  status: SharedArrayBuffer
  lo: SharedArrayBuffer
  hi: SharedArrayBuffer
  sums: SharedArrayBuffer | undefined
}

/**
 * One piece of a folio: `count` pages at byte `srcOffset` of the store's
 * staging memory (or of `src`, a folio staged elsewhere), with results from
 * index `page` — of the shared ring, or of `own` when the ring had no room.
 */
export interface CompressPiece {
  src?: SharedArrayBuffer
  srcOffset: number
  count: number
  page: number
  own?: OwnResults
}

export interface CompressTask {
  op: 'compress'
  pieces: CompressPiece[]
}

/**
 * Jobs [first, first + count) of a loadMany batch. The job arrays share one
 * buffer (src/store/decode-jobs.ts); the *At fields are their byte offsets.
 */
export interface DecompressTask {
  op: 'decompress'
  jobs: SharedArrayBuffer
  handlesAt: number
  lengthsAt: number
  slotsAt: number
  /** -1: no checksums. */
  sumsAt: number
  pagesAt: number
  statusAt: number
  first: number
  count: number
  /** The dictionaries of the dictionary slots the jobs name (absent when none does). */
  dicts?: Record<number, SlotDictionary>
  dst: SharedArrayBuffer
  /** Byte offset of page 0 of the destination within `dst`. */
  dstOffset: number
  dstLength: number
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
  /** CPU time of the task on its thread (on a loaded host, busyNs includes time the thread waited for a core). */
  cpuMs: number
}

const setup = workerData as WorkerSetup
const native = loadNative()
const A = nativeAllocator()
const codec = setup.dictionary
  ? openDictionaryCodec(setup.dictionary.format, setup.level, setup.dictionary.bytes, setup.dictionary.id)
  : new native.Codec(setup.format, setup.level)
const pool = attachNativePool(setup.poolId)
const ring: PoolTarget = {
  status: new Int32Array(setup.status), lo: new Uint32Array(setup.lo), hi: new Uint32Array(setup.hi),
  sums: setup.sums ? new Uint32Array(setup.sums) : null, page: 0,
}
// Decoders by slot; a dictionary slot's decoder is rebuilt when the slot holds another dictionary.
const decoderIds: number[] = []
const decoders: (NativeCodec | undefined)[] = []
// Loaded: from here on, ending this thread cannot catch it inside the addon's init (fatal).
markLoaded(new Int32Array(setup.loaded), threadId)

function compress(task: CompressTask): void {
  for (const p of task.pieces) {
    const src = new Uint8Array(p.src ?? setup.staging, p.srcOffset, p.count * 4096)
    const target: PoolTarget = p.own
      ? { status: new Int32Array(p.own.status), lo: new Uint32Array(p.own.lo), hi: new Uint32Array(p.own.hi), sums: p.own.sums ? new Uint32Array(p.own.sums) : null, page: p.page }
      : { ...ring, page: p.page }
    compressInBatchesToPool(codec, pool, src, 0, p.count, target, setup.maxBatch, setup.threshold, setup.flags)
  }
}

function decompress(t: DecompressTask): void {
  const { first, count } = t
  const handles = new Uint32Array(t.jobs, t.handlesAt + first * 4, count)
  const lengths = new Uint32Array(t.jobs, t.lengthsAt + first * 4, count)
  const slots = new Uint8Array(t.jobs, t.slotsAt + first, count)
  const sums = t.sumsAt >= 0 ? new Uint32Array(t.jobs, t.sumsAt + first * 4, count) : null
  const pages = new Uint32Array(t.jobs, t.pagesAt + first * 4, count)
  const status = new Int32Array(t.jobs, t.statusAt + first * 4, count)
  const dst = new Uint8Array(t.dst, t.dstOffset, t.dstLength)
  // One native call per run of jobs in the same stream format (usually all of them).
  for (let i = 0; i < count; ) {
    let j = i + 1
    while (j < count && slots[j] === slots[i]) j++
    const decoder = decoderFor(slots[i], t.dicts?.[slots[i]])
    A.decompressManyFromPool(decoder, pool, handles.subarray(i, j), lengths.subarray(i, j), j - i, dst, pages.subarray(i, j), status.subarray(i, j), sums ? sums.subarray(i, j) : null)
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
  const c0 = A.threadCpuMs()
  if (task.op === 'compress') compress(task)
  else if (task.op === 'decompress') decompress(task)
  else if (task.op === 'recode') recode(task)
  return { threadId, busyNs: Number(process.hrtime.bigint() - t0), cpuMs: A.threadCpuMs() - c0 }
}
