/**
 * Loads the C++ addon. The native surface is small on purpose: codecs with
 * batch entry points, page helpers, and accelerator devices. Everything else
 * (validation, allocator, entry table, policy) lives in TypeScript.
 */
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import path from 'node:path'
import { BackendUnavailableError } from './errors.js'

export interface NativeCodec {
  compressBatch(
    src: Uint8Array, srcPage: number, count: number,
    dst: Uint8Array, dstPage: number,
    status: Int32Array, statusIndex: number,
    threshold: number, detectSameFilled: boolean,
  ): void
  /** PAGE_SIZE, or a DecodeStatus; with `checksum`, the object is checked before it is decoded. */
  decompress(src: Uint8Array, srcOffset: number, length: number, dst: Uint8Array, dstOffset: number, checksum?: number): number
  decompressBatch(
    arenas: readonly (Uint8Array | undefined)[], jobs: Int32Array, count: number, dst: Uint8Array, status: Int32Array,
    sums?: Uint32Array,
  ): void
}

/** Third argument of `new Codec(name, level, options)`: the dictionary form (zstd, lz4); see native/codecs/dict_codecs.h. */
export interface NativeDictCodecOptions {
  dictionary: Uint8Array
  /** 1..255: the first byte of every object, checked on decode (required with a non-empty dictionary). */
  id?: number
  /** zstd: load the dictionary's entropy tables (default 'auto': only at levels whose strategy is lazy or stronger). */
  tables?: boolean | 'auto'
  /** zstd frame header fields (default off): the frame's own dictionary id, the content size, a checksum. */
  dictIdFlag?: boolean
  contentSizeFlag?: boolean
  checksumFlag?: boolean
}

/** Options of the native trainer (ZDICT fastCover or cover); 0 or absent means ZDICT's default or "optimize". */
export interface NativeTrainOptions {
  algorithm?: 'fastcover' | 'cover'
  k?: number
  d?: number
  steps?: number
  f?: number
  accel?: number
  split?: number
  threads?: number
  level?: number
  dictId?: number
}

export interface NativeAddon {
  Codec: new (name: string, level: number, options?: NativeDictCodecOptions) => NativeCodec
  /** Trains a zstd dictionary on a libuv pool thread; the samples are copied before it returns. */
  trainDictionary(samples: Uint8Array, sampleSizes: Uint32Array, capacity: number, options: NativeTrainOptions): Promise<{ dictionary: Uint8Array; k: number; d: number }>
  /** The id in a zstd dictionary's header (0: raw content). */
  dictionaryId(dictionary: Uint8Array): number
  /** Whether the zstd dictionary codec loads the entropy tables at this level by default. */
  dictionaryUsesTables(level: number, dictionaryBytes: number): boolean
  fillPage(dst: Uint8Array, offset: number, lo: number, hi: number): void
  /** plan: [arena, dstOffset, srcOffset, length] per object; sums[srcOffset / 4096] gets each object's checksum. */
  copyObjects(arenas: readonly (Uint8Array | undefined)[], plan: Int32Array, count: number, src: Uint8Array, sums?: Uint32Array): void
  /** CRC32C of bytes[offset, offset + length), as the store checks objects. */
  checksum(bytes: Uint8Array, offset: number, length: number): number
  /** status[i] = 0 when job i's object matches sums[i], else a DecodeStatus. */
  checkObjects(arenas: readonly (Uint8Array | undefined)[], jobs: Int32Array, count: number, sums: Uint32Array, status: Int32Array): void
  codecLibraries: string
  pageSize: number
  // Device entries are typed in src/devices/.
  devices: unknown[]
  [name: string]: unknown
}

const here = path.dirname(fileURLToPath(import.meta.url))
// dist/src/native.js -> repository root is two levels up.
const root = path.resolve(here, '..', '..')

let cached: NativeAddon | undefined

export function loadNative(): NativeAddon {
  if (cached) return cached
  const require = createRequire(import.meta.url)
  const candidates = [
    process.env.ZSTASH_NATIVE,
    path.join(root, 'build', 'Release', 'zstash.node'),
    path.join(root, 'build', 'Debug', 'zstash.node'),
  ].filter((p): p is string => !!p)
  const failures: string[] = []
  for (const file of candidates) {
    try {
      cached = require(file) as NativeAddon
      return cached
    } catch (err) {
      failures.push(`${file}: ${(err as Error).message.split('\n')[0]}`)
    }
  }
  throw new BackendUnavailableError(
    `zstash native addon not found. Run 'npm run setup' (installs the codec libraries and builds it).\n  ${failures.join('\n  ')}`,
  )
}

export const addonRoot = root
