/**
 * SwapCache options, validated up front with the same error codes PageStore
 * uses, so a typo fails at create() rather than as odd reclaim behaviour later.
 */
import { InvalidArgumentError } from '../errors.js'
import { PAGE_SIZE } from '../codecs/status.js'
import { PageStore, MAX_KEY } from '../store/page-store.js'
import { booleanOption, describe, integerOption as int } from '../util/validate.js'

export type FolioSize = '4k' | '64k' | '2m'

export const FOLIO_PAGES: Record<FolioSize, number> = { '4k': 1, '64k': 16, '2m': 512 }

/** Largest resident buffer: one SharedArrayBuffer indexed by typed arrays with 32-bit offsets. */
export const MAX_RESIDENT_LIMIT = 2 ** 32 - 2 ** 21

export interface PressureEvent {
  /** 'reclaim_fail': a folio could not be stored even in 4K units and stays resident.
   *  'limit': a synchronous access or reserve() found no free frame (memory.max-like).
   *  'charge' (chargePool): the compressed pool leaves less than the floor of frames under
   *  the limit and the store has no backing tier to shrink it into (a memcg's OOM). */
  kind: 'reclaim_fail' | 'limit' | 'charge'
  freeSlots: number
  usedSlots: number
}

export interface SwapCacheOptions {
  /** The store pages are swapped out to. The cache does not close it. */
  store: PageStore
  /** Bytes of the resident frame buffer (a multiple of the folio size, at least 2 folios). */
  residentLimit: number
  /** Reclaim and fault unit. Default '64k'. */
  folioSize?: FolioSize
  /** Resident bytes above which reclaim starts (memory.high). Default residentLimit − max(2 folios, residentLimit/8). */
  highWatermark?: number
  /** Folios reclaimed below the high watermark per reclaim run. Default min(32, headroom/2), at least 1. */
  reclaimBatch?: number
  /** Folio stores in flight at once during reclaim (fills a worker pool). Default 32. */
  maxInFlight?: number
  /** Pages brought in per fault, a power of two dividing the folio's pages. Default: the whole folio. */
  readahead?: number
  /** Start reclaim by itself (after the current synchronous code) when above the high watermark. Default true. */
  autoReclaim?: boolean
  /** First store key the cache uses; keys base … base + pages are the cache's. Default 0. */
  keyBase?: number
  /**
   * Charge the store's compressed pool to residentLimit, as memcg charges zswap's pool to
   * memory.max: frames in use + the store's pool_total_size ≤ residentLimit. The whole
   * store's pool is charged (one store, one memcg), so caches sharing a store share it.
   * Default false: the limit bounds resident frames only. See docs/swapcache.md.
   */
  chargePool?: boolean
  /** Called on pressure events (also counted). */
  onPressure?: (event: PressureEvent) => void
}

export interface ResolvedSwapCacheOptions {
  store: PageStore
  folioPages: number
  slots: number
  highSlots: number
  lowSlots: number
  maxInFlight: number
  readahead: number
  autoReclaim: boolean
  keyBase: number
  chargePool: boolean
  /** chargePool: frames reclaim keeps room for, shrinking the pool into a backing tier if it must. */
  floorSlots: number
  onPressure: ((event: PressureEvent) => void) | undefined
}

const KNOWN = new Set(['store', 'residentLimit', 'folioSize', 'highWatermark', 'reclaimBatch', 'maxInFlight', 'readahead', 'autoReclaim', 'keyBase', 'chargePool', 'onPressure'])

export function resolveSwapCacheOptions(options: unknown): ResolvedSwapCacheOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidArgumentError(`SwapCache options must be an object, got ${describe(options)}`)
  }
  const o = options as Record<string, unknown>
  for (const key of Object.keys(o)) {
    if (!KNOWN.has(key)) throw new InvalidArgumentError(`unknown option '${key}' (known: ${[...KNOWN].join(', ')})`, 'ERR_ZSTASH_UNKNOWN_OPTION')
  }
  if (!(o.store instanceof PageStore)) throw new InvalidArgumentError(`option 'store' must be a PageStore, got ${describe(o.store)}`)
  const folioSize = o.folioSize ?? '64k'
  if (typeof folioSize !== 'string' || !(folioSize in FOLIO_PAGES)) {
    throw new InvalidArgumentError(`option 'folioSize' must be '4k', '64k' or '2m', got ${describe(folioSize)}`)
  }
  const folioPages = FOLIO_PAGES[folioSize as FolioSize]
  const folioBytes = folioPages * PAGE_SIZE
  const limit = int('residentLimit', o.residentLimit, 2 * folioBytes, MAX_RESIDENT_LIMIT)
  if (limit % folioBytes !== 0) {
    throw new InvalidArgumentError(`option 'residentLimit' must be a multiple of the folio size (${folioBytes} bytes), got ${limit}`, 'ERR_ZSTASH_BAD_SIZE')
  }
  const slots = limit / folioBytes
  const headroom = Math.max(2, Math.floor(slots / 8))
  let highSlots = Math.max(1, slots - headroom)
  if (o.highWatermark !== undefined) {
    const high = int('highWatermark', o.highWatermark, folioBytes, limit)
    highSlots = Math.floor(high / folioBytes)
  }
  const chargePool = o.chargePool === undefined ? false : booleanOption('chargePool', o.chargePool)
  // Charged reclaim reads the pool's size once per wave (stats() builds every size class): at
  // small folios a wave of 32 folios would spend more time there than storing, so it takes ≥ 1 MiB.
  const batchFolios = chargePool ? Math.max(32, Math.ceil((1 << 20) / folioBytes)) : 32
  const defaultBatch = Math.max(1, Math.min(batchFolios, Math.floor((slots - highSlots) / 2)))
  const batch = o.reclaimBatch === undefined ? defaultBatch : int('reclaimBatch', o.reclaimBatch, 1, slots)
  const readahead = o.readahead === undefined ? folioPages : int('readahead', o.readahead, 1, folioPages)
  if ((readahead & (readahead - 1)) !== 0) {
    throw new InvalidArgumentError(`option 'readahead' must be a power of two, got ${readahead}`, 'ERR_ZSTASH_OUT_OF_RANGE')
  }
  if (o.onPressure !== undefined && typeof o.onPressure !== 'function') {
    throw new InvalidArgumentError(`option 'onPressure' must be a function, got ${describe(o.onPressure)}`)
  }
  return {
    store: o.store,
    folioPages,
    slots,
    highSlots,
    lowSlots: Math.max(0, highSlots - batch),
    maxInFlight: o.maxInFlight === undefined ? 32 : int('maxInFlight', o.maxInFlight, 1, 4096),
    readahead,
    autoReclaim: o.autoReclaim === undefined ? true : booleanOption('autoReclaim', o.autoReclaim),
    keyBase: o.keyBase === undefined ? 0 : int('keyBase', o.keyBase, 0, MAX_KEY),
    chargePool,
    // One access may span two folios; a piece of readAsync/writeAsync shrinks to what is allowed.
    floorSlots: Math.min(slots, 2),
    onPressure: o.onPressure as ResolvedSwapCacheOptions['onPressure'],
  }
}
