/**
 * Trained zstd dictionaries for pages: train one from sampled pages (libzstd's
 * ZDICT, off the main thread), keep dictionaries under small ids with reference
 * counts ("keep a dictionary while any object uses it"), and tell when the
 * measured ratio has drifted from the ratio at training time.
 *
 * A dictionary object is [id byte][zstd frame | lz4 block] (native/codecs/
 * dict_codecs.h): the id is 1..255, so an entry needs 8 bits to name its
 * dictionary and the decoder refuses a page under any other dictionary.
 */
import { InvalidArgumentError, ZstashError } from '../errors.js'
import { loadNative, type NativeCodec, type NativeTrainOptions } from '../native.js'
import { FORMAT_SPECS } from './formats.js'
import { PAGE_SIZE, PageStatus } from './status.js'

/** Largest dictionary id: the id is one byte in every object. */
export const MAX_DICTIONARY_ID = 255
/** ZDICT's smallest dictionary. */
export const MIN_DICTIONARY_BYTES = 256
export const MAX_DICTIONARY_BYTES = 16 << 20
/** Default capacity: the sweep in bench/dictionary.ts (docs/dictionaries.md). */
export const DEFAULT_DICTIONARY_BYTES = 64 << 10
export const DICTIONARY_FORMATS = ['zstd', 'lz4'] as const
export type DictionaryFormat = (typeof DICTIONARY_FORMATS)[number]

/** Training failed (ZDICT refused the samples) or a dictionary is unusable. */
export class DictionaryError extends ZstashError {
  constructor(message: string, code = 'ERR_ZSTASH_DICTIONARY', options?: { cause?: unknown }) {
    super(code, message, options)
  }
}

export interface TrainDictionaryOptions {
  /** Dictionary size limit in bytes (256 … 16 MiB). Default 64 KiB. */
  capacity?: number
  /** zstd level the entropy tables are built for. Default 3. */
  level?: number
  /** Written into the dictionary header (1..255); default: none (random). */
  id?: number
  /** ZDICT algorithm. Default 'fastcover'. */
  algorithm?: 'fastcover' | 'cover'
  /** Segment and d-mer size; leave out to let ZDICT optimize them (slower). Defaults k=1024, d=8 (see docs/dictionaries.md). */
  k?: number
  d?: number
  /** Optimizer: parameter points tried (default 40), share of samples trained on (default 0.75), threads. */
  steps?: number
  split?: number
  threads?: number
  /** fastCover acceleration 1..10. */
  accel?: number
  /** Optimize k and d instead of the defaults (k, d ignored). */
  optimize?: boolean
}

export interface TrainedDictionary {
  bytes: Uint8Array
  /** The id in the dictionary's header (0 when none was asked for and ZDICT chose a random one it did not write). */
  headerId: number
  k: number
  d: number
  samples: number
  sampleBytes: number
  trainMs: number
}

/** Default COVER parameters for 4 KiB pages: within 1 % of the optimizer's ratio at a fraction of its time (bench/dictionary.ts). */
const DEFAULT_K = 1024
const DEFAULT_D = 8

/**
 * Trains a zstd dictionary from `samples` (concatenated; `sampleSizes[i]` bytes
 * each, or every sample PAGE_SIZE bytes when sampleSizes is omitted). Runs on
 * a libuv pool thread; the samples are copied first, so the caller may reuse them.
 */
export async function trainDictionary(samples: Uint8Array, sampleSizes?: Uint32Array, options: TrainDictionaryOptions = {}): Promise<TrainedDictionary> {
  if (!(samples instanceof Uint8Array)) throw new InvalidArgumentError('samples must be a Uint8Array')
  const sizes = sampleSizes ?? pageSizes(samples)
  if (!(sizes instanceof Uint32Array)) throw new InvalidArgumentError('sampleSizes must be a Uint32Array')
  if (sizes.length === 0) throw new InvalidArgumentError('no samples to train on')
  let total = 0
  for (const s of sizes) total += s
  if (total > samples.length) throw new InvalidArgumentError(`sampleSizes add up to ${total} bytes, samples holds ${samples.length}`)
  checkKnown(options, ['capacity', 'level', 'id', 'algorithm', 'k', 'd', 'steps', 'split', 'threads', 'accel', 'optimize'], 'trainDictionary options')
  const capacity = intIn(options.capacity ?? DEFAULT_DICTIONARY_BYTES, MIN_DICTIONARY_BYTES, MAX_DICTIONARY_BYTES, 'capacity')
  const spec = FORMAT_SPECS.zstd
  const native: NativeTrainOptions = {
    algorithm: options.algorithm ?? 'fastcover',
    level: intIn(options.level ?? 3, spec.minLevel, spec.maxLevel, 'level'),
    dictId: options.id === undefined ? 0 : intIn(options.id, 1, MAX_DICTIONARY_ID, 'id'),
  }
  if (native.algorithm !== 'fastcover' && native.algorithm !== 'cover') throw new InvalidArgumentError(`algorithm must be 'fastcover' or 'cover', got ${String(options.algorithm)}`)
  if (!options.optimize) {
    native.k = intIn(options.k ?? DEFAULT_K, 16, 1 << 20, 'k')
    native.d = intIn(options.d ?? DEFAULT_D, 6, 16, 'd')
    if (native.d > native.k) throw new InvalidArgumentError('d must not exceed k')
  }
  if (options.steps !== undefined) native.steps = intIn(options.steps, 1, 1000, 'steps')
  if (options.split !== undefined) {
    if (!(typeof options.split === 'number' && options.split > 0 && options.split <= 1)) throw new InvalidArgumentError('split must be in (0, 1]')
    native.split = options.split
  }
  if (options.threads !== undefined) native.threads = intIn(options.threads, 1, 64, 'threads')
  if (options.accel !== undefined) native.accel = intIn(options.accel, 1, 10, 'accel')

  const addon = loadNative()
  const t0 = performance.now()
  let r: { dictionary: Uint8Array; k: number; d: number }
  try {
    r = await addon.trainDictionary(samples, sizes, capacity, native)
  } catch (err) {
    throw new DictionaryError(`dictionary training failed on ${sizes.length} samples (${total} bytes): ${(err as Error).message}`, 'ERR_ZSTASH_DICTIONARY_TRAIN', { cause: err })
  }
  return {
    bytes: r.dictionary, headerId: addon.dictionaryId(r.dictionary), k: r.k, d: r.d,
    samples: sizes.length, sampleBytes: total, trainMs: performance.now() - t0,
  }
}

export interface PageSample {
  /** The sampled pages, concatenated. */
  pages: Uint8Array
  /** PAGE_SIZE per sample, for trainDictionary. */
  sizes: Uint32Array
  /** Page index (within the input) of each sample. */
  indexes: Uint32Array
}

/**
 * Picks up to `count` pages spread evenly across `pages` (n × PAGE_SIZE bytes),
 * skipping same-filled pages: they never reach the codec, so a dictionary
 * learns nothing useful from them.
 */
export function samplePages(pages: Uint8Array, count: number): PageSample {
  if (!(pages instanceof Uint8Array) || pages.length % PAGE_SIZE !== 0) throw new InvalidArgumentError('pages must be a Uint8Array of whole pages')
  const n = pages.length / PAGE_SIZE
  const want = Math.min(intIn(count, 1, 1 << 24, 'count'), n)
  // Word compares when the view is 8-byte aligned (a Buffer from a pool may not be).
  const words = pages.byteOffset % 8 === 0 ? new BigUint64Array(pages.buffer, pages.byteOffset, pages.length / 8) : new BigUint64Array(0)
  const picked: number[] = []
  // Walk the stride from an offset that moves each round, so skipped pages are replaced by others spread out as well.
  const stride = n / want
  for (let round = 0; picked.length < want && round < 4; round++) {
    const seen = new Set(picked)
    for (let i = 0; i < want && picked.length < want; i++) {
      const p = Math.min(n - 1, Math.floor(i * stride + (round * stride) / 4))
      if (!seen.has(p) && !isSameFilled(pages, words, p)) {
        picked.push(p)
        seen.add(p)
      }
    }
  }
  picked.sort((a, b) => a - b)
  const out = new Uint8Array(picked.length * PAGE_SIZE)
  picked.forEach((p, j) => out.set(pages.subarray(p * PAGE_SIZE, (p + 1) * PAGE_SIZE), j * PAGE_SIZE))
  return { pages: out, sizes: new Uint32Array(picked.length).fill(PAGE_SIZE), indexes: Uint32Array.from(picked) }
}

function isSameFilled(pages: Uint8Array, words: BigUint64Array, p: number): boolean {
  if (words.length) {
    const base = (p * PAGE_SIZE) / 8, w = words[base]
    for (let i = 1; i < PAGE_SIZE / 8; i++) if (words[base + i] !== w) return false
    return true
  }
  const base = p * PAGE_SIZE
  for (let i = 8; i < PAGE_SIZE; i++) if (pages[base + i] !== pages[base + (i & 7)]) return false
  return true
}

export interface RatioMeasure {
  /** Uncompressed bytes of the pages that reached the codec (same-filled pages excluded). */
  inputBytes: number
  /** Their stored bytes: compressed length, or PAGE_SIZE when incompressible. */
  storedBytes: number
  ratio: number
}

/** Compresses `pages` with `codec` (8-page batches) and measures the ratio the way the store would keep them. */
export function measureRatio(codec: NativeCodec, pages: Uint8Array, threshold = PAGE_SIZE - 1): RatioMeasure {
  const n = pages.length / PAGE_SIZE
  const out = new Uint8Array(8 * PAGE_SIZE)
  const status = new Int32Array(8)
  let inputBytes = 0, storedBytes = 0
  for (let first = 0; first < n; first += 8) {
    const count = Math.min(8, n - first)
    codec.compressBatch(pages, first, count, out, 0, status, 0, threshold, true)
    for (let i = 0; i < count; i++) {
      const s = status[i]
      if (s === PageStatus.SameFilled) continue
      inputBytes += PAGE_SIZE
      storedBytes += s > 0 ? s : PAGE_SIZE
    }
  }
  return { inputBytes, storedBytes, ratio: storedBytes ? inputBytes / storedBytes : 0 }
}

export interface DictionaryEntry {
  readonly id: number
  /** The dictionary, in shared memory: hand `bytes.buffer` to a worker once and it builds its own codec. */
  readonly bytes: Uint8Array
  readonly format: DictionaryFormat
  readonly level: number
  /** Ratio on held-out pages when it was added (the drift baseline). */
  readonly trainedRatio: number
  /** No new stores use it; it is dropped when its last object goes. */
  retired: boolean
}

export interface DriftReport {
  id: number
  trainedRatio: number
  /** Ratio of the stores recorded since the last reset (0 before any). */
  measuredRatio: number
  pages: number
  /** measuredRatio fell more than `tolerance` below trainedRatio over at least `minPages` pages. */
  drifted: boolean
}

export interface DictionaryRegistryOptions {
  /** Relative ratio loss that counts as drift. Default 0.05 (5 %). */
  tolerance?: number
  /** Pages recorded before drift is judged. Default 1024. */
  minPages?: number
}

/**
 * Dictionaries by id (1..255) with reference counts kept in typed arrays (no
 * object per stored page). The store calls ref() when it publishes objects
 * made with a dictionary and unref() when it frees them; a retired dictionary
 * is dropped, and its id reused, when the count reaches zero.
 */
export class DictionaryRegistry {
  private readonly entries: (DictionaryEntry | undefined)[] = new Array(MAX_DICTIONARY_ID + 1)
  private readonly refs = new Float64Array(MAX_DICTIONARY_ID + 1)
  private readonly inBytes = new Float64Array(MAX_DICTIONARY_ID + 1)
  private readonly outBytes = new Float64Array(MAX_DICTIONARY_ID + 1)
  private readonly pages = new Float64Array(MAX_DICTIONARY_ID + 1)
  private readonly tolerance: number
  private readonly minPages: number
  private currentId = 0
  /** Called with an entry when it is dropped (retired and unreferenced). */
  onDrop?: (entry: DictionaryEntry) => void

  constructor(options: DictionaryRegistryOptions = {}) {
    checkKnown(options, ['tolerance', 'minPages'], 'DictionaryRegistry options')
    const t = options.tolerance ?? 0.05
    if (!(typeof t === 'number' && t >= 0 && t < 1)) throw new InvalidArgumentError('tolerance must be in [0, 1)')
    this.tolerance = t
    this.minPages = intIn(options.minPages ?? 1024, 1, 2 ** 40, 'minPages')
  }

  /** The dictionary new stores use (undefined: none). */
  get current(): DictionaryEntry | undefined {
    return this.entries[this.currentId]
  }

  get size(): number {
    return this.entries.reduce((n, e) => n + (e ? 1 : 0), 0)
  }

  /**
   * Adds a dictionary under the lowest free id and makes it current; the
   * previous current one is retired. Throws DictionaryError when all 255 ids
   * are held by dictionaries that objects still use.
   */
  add(bytes: Uint8Array, options: { format?: DictionaryFormat; level?: number; trainedRatio: number }): DictionaryEntry {
    if (!(bytes instanceof Uint8Array) || bytes.length < 1 || bytes.length > MAX_DICTIONARY_BYTES) {
      throw new InvalidArgumentError(`a dictionary must be a Uint8Array of 1 byte .. 16 MiB`)
    }
    const format = options.format ?? 'zstd'
    if (!(DICTIONARY_FORMATS as readonly string[]).includes(format)) throw new InvalidArgumentError(`dictionary format must be zstd or lz4, got ${String(format)}`)
    const spec = FORMAT_SPECS[format]
    const level = intIn(options.level ?? spec.defaultLevel, spec.minLevel, spec.maxLevel, 'level')
    if (!(typeof options.trainedRatio === 'number' && options.trainedRatio >= 0)) throw new InvalidArgumentError('trainedRatio must be a number ≥ 0')
    let id = 0
    for (let i = 1; i <= MAX_DICTIONARY_ID; i++) if (!this.entries[i]) { id = i; break }
    if (!id) throw new DictionaryError(`all ${MAX_DICTIONARY_ID} dictionary ids are in use by stored objects`, 'ERR_ZSTASH_DICTIONARY_FULL')
    const shared = new Uint8Array(new SharedArrayBuffer(bytes.length))
    shared.set(bytes)
    const entry: DictionaryEntry = { id, bytes: shared, format, level, trainedRatio: options.trainedRatio, retired: false }
    this.entries[id] = entry
    this.inBytes[id] = this.outBytes[id] = this.pages[id] = 0
    const previous = this.currentId
    this.currentId = id
    if (previous) this.retire(previous)
    return entry
  }

  get(id: number): DictionaryEntry | undefined {
    return Number.isInteger(id) && id > 0 && id <= MAX_DICTIONARY_ID ? this.entries[id] : undefined
  }

  /** Objects that use dictionary `id`. */
  refCount(id: number): number {
    this.mustGet(id)
    return this.refs[id]
  }

  /** `count` more objects use dictionary `id`. */
  ref(id: number, count = 1): void {
    this.mustGet(id)
    this.refs[id] += count
  }

  /** `count` objects that used dictionary `id` are gone; a retired dictionary goes with its last object. */
  unref(id: number, count = 1): void {
    this.mustGet(id)
    if (count > this.refs[id]) throw new DictionaryError(`dictionary ${id} has ${this.refs[id]} references, ${count} released`, 'ERR_ZSTASH_DICTIONARY_REFS')
    this.refs[id] -= count
    this.dropIfUnused(id)
  }

  /** New stores stop using dictionary `id`; it is dropped once no object uses it. */
  retire(id: number): void {
    const e = this.mustGet(id)
    e.retired = true
    if (this.currentId === id) this.currentId = 0
    this.dropIfUnused(id)
  }

  /** Records a batch stored with dictionary `id`: `pages` pages that reached the codec, `storedBytes` kept for them. */
  record(id: number, pages: number, storedBytes: number): void {
    this.mustGet(id)
    this.pages[id] += pages
    this.inBytes[id] += pages * PAGE_SIZE
    this.outBytes[id] += storedBytes
  }

  /** The ratio since the last reset against the training ratio. */
  drift(id: number): DriftReport {
    const e = this.mustGet(id)
    const measured = this.outBytes[id] ? this.inBytes[id] / this.outBytes[id] : 0
    const pages = this.pages[id]
    return {
      id, trainedRatio: e.trainedRatio, measuredRatio: measured, pages,
      drifted: pages >= this.minPages && measured < e.trainedRatio * (1 - this.tolerance),
    }
  }

  /** Starts a new measuring window for drift(). */
  resetDrift(id: number): void {
    this.mustGet(id)
    this.inBytes[id] = this.outBytes[id] = this.pages[id] = 0
  }

  /** A codec for this thread that compresses and decodes with dictionary `id`. */
  codec(id: number): NativeCodec {
    const e = this.mustGet(id)
    return openDictionaryCodec(e.format, e.level, e.bytes, id)
  }

  private mustGet(id: number): DictionaryEntry {
    const e = this.get(id)
    if (!e) throw new DictionaryError(`no dictionary with id ${id}`, 'ERR_ZSTASH_DICTIONARY_UNKNOWN')
    return e
  }

  private dropIfUnused(id: number): void {
    const e = this.entries[id]
    if (!e || !e.retired || this.refs[id] > 0) return
    this.entries[id] = undefined
    this.onDrop?.(e)
  }
}

/** A native codec with a dictionary (zstd or lz4); every object it writes starts with `id`. */
export function openDictionaryCodec(format: DictionaryFormat, level: number, dictionary: Uint8Array, id: number): NativeCodec {
  if (!(DICTIONARY_FORMATS as readonly string[]).includes(format)) throw new InvalidArgumentError(`no dictionary form of ${String(format)} (zstd, lz4)`)
  intIn(id, 1, MAX_DICTIONARY_ID, 'id')
  try {
    return new (loadNative().Codec)(format, level, { dictionary, id })
  } catch (err) {
    throw new DictionaryError(`cannot use dictionary ${id}: ${(err as Error).message}`, 'ERR_ZSTASH_DICTIONARY', { cause: err })
  }
}

function pageSizes(samples: Uint8Array): Uint32Array {
  if (samples.length % PAGE_SIZE !== 0 || samples.length === 0) throw new InvalidArgumentError('without sampleSizes, samples must be whole pages')
  return new Uint32Array(samples.length / PAGE_SIZE).fill(PAGE_SIZE)
}

function intIn(v: unknown, min: number, max: number, name: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new InvalidArgumentError(`${name} must be an integer in ${min}..${max}, got ${String(v)}`, 'ERR_ZSTASH_OUT_OF_RANGE')
  }
  return v
}

function checkKnown(o: object, known: string[], what: string): void {
  if (typeof o !== 'object' || o === null) throw new InvalidArgumentError(`${what} must be an object`)
  for (const k of Object.keys(o)) if (!known.includes(k)) throw new InvalidArgumentError(`unknown option '${k}' in ${what}`, 'ERR_ZSTASH_UNKNOWN_OPTION')
}
