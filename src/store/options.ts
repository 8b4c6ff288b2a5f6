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
}

const KNOWN = new Set<string>([
  'compressor', 'level', 'maxBatch', 'incompressibleThreshold', 'sameFilled', 'storeIncompressible',
  'maxPoolBytes', 'acceptThresholdPercent', 'workers', 'device', 'checksum',
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
  }
}
