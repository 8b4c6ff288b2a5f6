/**
 * PageStore options, validated in JS with precise errors before anything
 * native is touched (better-sqlite3's way): an unknown key, a wrong type or an
 * out-of-range value throws InvalidArgumentError naming the option.
 */
import { InvalidArgumentError } from '../errors.js'
import { booleanOption as boolean, describe, integerOption as integer } from '../util/validate.js'

export { describe }
import { FORMAT_SPECS, isFormat, type StreamFormat } from '../codecs/formats.js'
import { PAGE_SIZE } from '../codecs/status.js'
import { resolveBackingOptions, type BackingOptions } from '../tier/options.js'

export const MAX_FOLIO_PAGES = 512
export const DEFAULT_MAX_BATCH = 8

export interface PageStoreOptions {
  /** 'lz4' (default), 'zstd', 'deflate', 'deflate-4k', 'lzo', or a device backend name ('sim', 'dpdk:isal', 'qpl', …). */
  compressor?: string
  /** Codec level; see FORMAT_SPECS for what it means per codec. */
  level?: number
  /** Largest number of pages compressed in one batch (zswap's ZSWAP_MAX_BATCH_SIZE). Default 8. */
  maxBatch?: number
  /** Largest compressed length accepted; a longer result makes the page incompressible. Default PAGE_SIZE - 1. */
  incompressibleThreshold?: number
  /** Store same-filled pages as their 8-byte fill word. Default true. */
  sameFilled?: boolean
  /**
   * Store incompressible pages raw (zswap with writeback enabled). When false the
   * whole folio is rejected instead (reject_compress_poor). Default true.
   */
  storeIncompressible?: boolean
  /** zswap's max_pool: stores are refused once pool_total_size reaches this. Default: no limit. */
  maxPoolBytes?: number
  /** zswap's accept_threshold_percent: after the limit is hit, stores resume below this share of it. Default 90. */
  acceptThresholdPercent?: number
  /** Worker threads for software compression; 0 compresses on the calling thread. */
  workers?: number
  /** Options passed to a device backend (see docs/devices.md). */
  device?: Record<string, unknown>
  /**
   * Keep a CRC32C of every stored object and check it on every load: a damaged
   * object fails with DecompressError (decompress_fail) instead of decoding to
   * wrong bytes. Default true (it costs about 1–3 % of store throughput; see docs/reliability.md).
   */
  checksum?: boolean
  /**
   * The tier below the pool: a backing store cold objects are written back to
   * when the pool is at its limit, like zswap's swap device. { type: 'file', path? }
   * (a temp file removed at close by default) or { type: 'cluster', nodes: ['host:port', …] }
   * (Valkey/Redis Cluster, encrypted by default). See docs/writeback.md.
   */
  backing?: BackingOptions
  /**
   * memory.zswap.writeback: write cold entries back when the pool is full (default true
   * when `backing` is given). False: a full pool rejects stores at once.
   */
  writeback?: boolean
  /** Pages per writeback batch (one putMany). Default 64. */
  writebackBatch?: number
  /** zram's writeback_limit: at most `pages` written back per `periodMs`. Default: no limit. */
  writebackLimit?: { pages: number; periodMs: number }
  /** zswap's second chance: a referenced entry is passed over once by the writeback scan. Default true. */
  secondChance?: boolean
  /**
   * A shrinker: every `intervalMs`, write back entries not used since the previous
   * round (idle ≥ intervalMs), and/or the coldest until the pool is at most `targetBytes`.
   */
  shrinker?: { intervalMs: number; targetBytes?: number; idle?: boolean }
}

export interface ResolvedOptions {
  compressor: string
  format: StreamFormat | undefined
  level: number | undefined
  maxBatch: number | undefined
  incompressibleThreshold: number
  sameFilled: boolean
  storeIncompressible: boolean
  maxPoolBytes: number
  acceptThresholdPercent: number
  workers: number
  device: Record<string, unknown>
  checksum: boolean
  backing: BackingOptions | undefined
  writeback: boolean
  writebackBatch: number
  writebackLimit: { pages: number; periodMs: number }
  secondChance: boolean
  shrinker: { intervalMs: number; targetBytes: number; idle: boolean } | undefined
}

const KNOWN = new Set<string>([
  'compressor', 'level', 'maxBatch', 'incompressibleThreshold', 'sameFilled', 'storeIncompressible',
  'maxPoolBytes', 'acceptThresholdPercent', 'workers', 'device', 'checksum',
  'backing', 'writeback', 'writebackBatch', 'writebackLimit', 'secondChance', 'shrinker',
])

/**
 * Validates options. `isDevice(name)` tells whether a compressor name belongs to
 * a device backend (their levels and batch sizes are checked by the device).
 */
export function resolveOptions(options: unknown, isDevice: (name: string) => boolean, defaultWorkers: number): ResolvedOptions {
  if (options === undefined) options = {}
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidArgumentError(`PageStore options must be an object, got ${describe(options)}`)
  }
  const o = options as Record<string, unknown>
  for (const key of Object.keys(o)) {
    if (!KNOWN.has(key)) {
      throw new InvalidArgumentError(`unknown option '${key}' (known: ${[...KNOWN].join(', ')})`, 'ERR_ZSTASH_UNKNOWN_OPTION')
    }
  }
  const compressor = o.compressor ?? 'lz4'
  if (typeof compressor !== 'string') throw new InvalidArgumentError(`option 'compressor' must be a string, got ${describe(compressor)}`)
  const format = isFormat(compressor) ? compressor : undefined
  if (!format && !isDevice(compressor)) {
    throw new InvalidArgumentError(
      `unknown compressor '${compressor}' (software: lz4, zstd, deflate, deflate-4k, lzo; devices: see backends())`,
      'ERR_ZSTASH_UNKNOWN_COMPRESSOR',
    )
  }
  let level: number | undefined
  if (o.level !== undefined) {
    if (format) {
      const spec = FORMAT_SPECS[format]
      level = integer('level', o.level, spec.minLevel, spec.maxLevel)
    } else {
      level = integer('level', o.level, -100, 100)
    }
  } else if (format) {
    level = FORMAT_SPECS[format].defaultLevel
  }
  const maxBatch = o.maxBatch === undefined ? (format ? DEFAULT_MAX_BATCH : undefined) : integer('maxBatch', o.maxBatch, 1, MAX_FOLIO_PAGES)
  const threshold = o.incompressibleThreshold === undefined ? PAGE_SIZE - 1 : integer('incompressibleThreshold', o.incompressibleThreshold, 1, PAGE_SIZE - 1)
  const maxPoolBytes = o.maxPoolBytes === undefined ? Infinity : integer('maxPoolBytes', o.maxPoolBytes, PAGE_SIZE, Number.MAX_SAFE_INTEGER)
  const device = o.device ?? {}
  if (typeof device !== 'object' || device === null || Array.isArray(device)) {
    throw new InvalidArgumentError(`option 'device' must be an object, got ${describe(device)}`)
  }
  return {
    compressor,
    format,
    level,
    maxBatch,
    incompressibleThreshold: threshold,
    sameFilled: o.sameFilled === undefined ? true : boolean('sameFilled', o.sameFilled),
    storeIncompressible: o.storeIncompressible === undefined ? true : boolean('storeIncompressible', o.storeIncompressible),
    maxPoolBytes,
    acceptThresholdPercent: o.acceptThresholdPercent === undefined ? 90 : integer('acceptThresholdPercent', o.acceptThresholdPercent, 1, 100),
    workers: o.workers === undefined ? defaultWorkers : integer('workers', o.workers, 0, 256),
    device: device as Record<string, unknown>,
    checksum: o.checksum === undefined ? true : boolean('checksum', o.checksum),
    ...tierOptions(o),
  }
}

/** The writeback options: checked here; the backing store's own options are checked by src/tier/options.ts. */
function tierOptions(o: Record<string, unknown>): Pick<ResolvedOptions, 'backing' | 'writeback' | 'writebackBatch' | 'writebackLimit' | 'secondChance' | 'shrinker'> {
  let backing: BackingOptions | undefined
  if (o.backing !== undefined) {
    resolveBackingOptions(o.backing as BackingOptions) // throws InvalidArgumentError naming the bad option
    backing = o.backing as BackingOptions
  }
  const writeback = o.writeback === undefined ? backing !== undefined : boolean('writeback', o.writeback)
  if (writeback && !backing) {
    throw new InvalidArgumentError("option 'writeback' needs a 'backing' store to write to")
  }
  const limit = plainObject('writebackLimit', o.writebackLimit, ['pages', 'periodMs'])
  const shrinker = plainObject('shrinker', o.shrinker, ['intervalMs', 'targetBytes', 'idle'])
  if (shrinker && !backing) throw new InvalidArgumentError("option 'shrinker' needs a 'backing' store to write to")
  return {
    backing,
    writeback,
    writebackBatch: o.writebackBatch === undefined ? 64 : integer('writebackBatch', o.writebackBatch, 1, 4096),
    writebackLimit: limit
      ? { pages: integer('writebackLimit.pages', limit.pages, 0, Number.MAX_SAFE_INTEGER), periodMs: integer('writebackLimit.periodMs', limit.periodMs, 1, 86_400_000) }
      : { pages: Infinity, periodMs: 1000 },
    secondChance: o.secondChance === undefined ? true : boolean('secondChance', o.secondChance),
    shrinker: shrinker
      ? {
          intervalMs: integer('shrinker.intervalMs', shrinker.intervalMs, 10, 86_400_000),
          targetBytes: shrinker.targetBytes === undefined ? Infinity : integer('shrinker.targetBytes', shrinker.targetBytes, 0, Number.MAX_SAFE_INTEGER),
          idle: shrinker.idle === undefined ? shrinker.targetBytes === undefined : boolean('shrinker.idle', shrinker.idle),
        }
      : undefined,
  }
}

function plainObject(name: string, value: unknown, known: string[]): Record<string, unknown> | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError(`option '${name}' must be an object, got ${describe(value)}`)
  }
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) throw new InvalidArgumentError(`unknown option '${name}.${key}' (known: ${known.join(', ')})`, 'ERR_ZSTASH_UNKNOWN_OPTION')
  }
  return value as Record<string, unknown>
}
