/**
 * What a store is opened on: its native pool, sized from maxPoolBytes, and
 * the backend a compressor name stands for (a device, the worker pool, or the
 * calling thread). PageStore.open() uses both; setCompressor() opens each new
 * backend here too, on the same pool.
 */
import { BackendUnavailableError } from '../errors.js'
import type { CompressBackend } from '../codecs/backend.js'
import { CpuBackend } from '../codecs/cpu-backend.js'
import { StorePool } from '../allocator/object-pool.js'
import { WorkerPoolBackend } from '../pool/worker-pool.js'
import { openDeviceBackend } from '../devices/index.js'
import { DEFAULT_MAX_BATCH, type ResolvedOptions } from './options.js'
import type { SlotDictionary } from './codec-slots.js'

/** Staging ring of the store's own copies of folios in flight (16 MiB, virtual until touched). */
export const STAGING_PAGES = 4096

/**
 * How far the pool's hard cap is past maxPoolBytes. Admission reserves every
 * folio's worst case (all raw), so objects alone never pass the limit; what
 * can is slab rounding: one partly filled slab (≤ 16 pages) per size class
 * being filled (docs/allocator.md, "Reservation and limits"). The cap only
 * backs that up; pages past it fail with pool_limit.
 */
const POOL_CAP_SLACK = 16 * 1024 * 1024
/** The native pool's largest limit (address space is reserved for 2 × the cap). */
const POOL_MAX_BYTES = 2 ** 40
/** Hard cap of a pool without a limit (virtual until used). */
const UNLIMITED_POOL_BYTES = 16 * 2 ** 30

/** The store's native pool: capped a little past maxPoolBytes when limited (see POOL_CAP_SLACK). */
export function openStorePool(resolved: ResolvedOptions): StorePool {
  const limited = Number.isFinite(resolved.maxPoolBytes) && resolved.maxPoolBytes < POOL_MAX_BYTES - POOL_CAP_SLACK
  return new StorePool({
    limitBytes: limited ? resolved.maxPoolBytes : Infinity,
    maxBytes: limited ? resolved.maxPoolBytes + POOL_CAP_SLACK : UNLIMITED_POOL_BYTES,
    checksum: resolved.checksum,
  })
}

/** The backend a compressor name stands for: a device, the worker pool, or the calling thread; CPU ones allocate in `storePool`. */
export async function openBackend(resolved: ResolvedOptions, storePool: StorePool, dictionary?: SlotDictionary): Promise<CompressBackend> {
  const format = resolved.format
  if (!format) {
    // An accelerator: it compresses (with its own CPU fallback); loads use the CPU decoder or the device.
    return openDeviceBackend(resolved.compressor, {
      maxBatch: resolved.maxBatch ?? DEFAULT_MAX_BATCH, level: resolved.level, device: resolved.device,
    })
  }
  if (resolved.workers === 0) return new CpuBackend(format, resolved.level!, resolved.maxBatch!, storePool, dictionary)
  const pool = new WorkerPoolBackend({
    format, level: resolved.level!, maxBatch: resolved.maxBatch!, workers: resolved.workers,
    threshold: resolved.incompressibleThreshold, sameFilled: resolved.sameFilled,
    storeIncompressible: resolved.storeIncompressible, pool: storePool, stagingPages: STAGING_PAGES, dictionary,
  })
  try {
    await pool.ready
  } catch (err) {
    await pool.close().catch(() => undefined)
    throw new BackendUnavailableError(`the compression worker pool failed to start: ${(err as Error).message}`, { cause: err })
  }
  return pool
}
