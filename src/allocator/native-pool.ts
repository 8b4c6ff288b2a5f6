/**
 * The native pool (native/allocator/): a zsmalloc-like allocator in native
 * memory that every thread of the process can allocate from. The owner thread
 * creates it; a worker attaches with the pool's id; worker threads compress a
 * batch straight into it and hand back handles and lengths in arrays the owner
 * reads. Design and numbers: docs/allocator.md.
 *
 * Options are validated here with precise errors; the native entry points check
 * every argument again (TypeError/RangeError), so nothing reaches native code unchecked.
 */
import { loadNative, type NativeCodec } from '../native.js'
import { InvalidArgumentError } from '../errors.js'
import { describe, integerOption } from '../util/validate.js'

/** Per-page statuses beyond PageStatus/DecodeStatus; mirrors native/allocator/pool_status.h. */
export const PoolStatus = {
  /** compress: no slot could be had (pool at maxBytes, or out of handles); nothing was allocated for the page. */
  AllocFail: -5,
  /** decode: the stored object does not match the expected checksum (DecodeStatus.Checksum). */
  ChecksumMismatch: -12,
  /** decode/read: the handle names no live object of that length. */
  BadHandle: -13,
} as const

/** Flags of compressBatchToPool. */
export const CompressToPool = {
  SameFilled: 1,
  /** Store incompressible pages as raw 4096-byte objects (else report -1 and allocate nothing). */
  StoreRaw: 2,
  /** Benchmark only: one lock acquisition per page instead of one per 16-page chunk. */
  LockPerPage: 4,
} as const

export const CHECKSUMS = { none: 0, crc32c: 1, xxh3: 2 } as const
export type ChecksumName = keyof typeof CHECKSUMS

export interface NativePoolOptions {
  /** Hard cap on slab pages; allocation fails past it (status AllocFail). Default 16 GiB (address space only). */
  maxBytes?: number
  /** Admission limit for reserve(): pool_total_size + reserved + bytes must stay within it. Default: none. */
  limitBytes?: number
  /** Size-class step in bytes: 8 (default: measured least rounding), 16 (zsmalloc's), 32 or 64. */
  classStep?: 8 | 16 | 32 | 64
  /**
   * Longest slab in pages, 1..32 (default 16, zsmalloc's largest chain size): longer slabs
   * make slot sizes finer (less rounding) but leave larger partly used slabs before compaction.
   */
  maxSlabPages?: number
  /** Checksum reported by compressBatchToPool and checked by the decoders. Default 'none'. */
  checksum?: ChecksumName
  /**
   * Freed slab pages kept resident for reuse, in percent of the peak of pages in use since the
   * last compact() (at least 1 MiB; 0..1000, default 100). Returning a page and faulting it back
   * costs far more than reusing it; compact() releases them all and resets the peak.
   */
  retainPercent?: number
}

export interface NativeClassStats {
  size: number
  pagesPerSlab: number
  objectsPerSlab: number
  obj_allocated: number
  obj_used: number
  pages_used: number
  freeable: number
}

export interface NativePoolStats {
  /** Bytes of pages held by slabs (zswap's pool_total_size): fragmentation included. */
  pool_total_size: number
  /** Sum of the live objects' lengths. */
  object_bytes: number
  objects: number
  /** Touched bytes of the handle table, slab table, page bitmap and class lists. */
  metadata_bytes: number
  /** The reserve() counter. */
  reserved_bytes: number
  pages_compacted: number
  objects_moved: number
  /** freeMany() calls naming a handle with no live object (double frees, garbage). */
  invalid_frees: number
  alloc_fails: number
  slabs: number
  /** Address space reserved for slab pages (virtual). */
  region_bytes: number
  /** Freed slab pages kept resident for reuse (retainPercent of the peak since compact(), min 1 MiB); compact() releases them. */
  cached_bytes: number
  classes: NativeClassStats[]
}

/** One thread's reference to a pool (the native NativePool object). */
export interface NativePool {
  /** Process-wide id: pass it to attachNativePool() in a worker thread. */
  readonly id: number
  /** Drops this thread's reference; the pool is freed when the last reference goes. Idempotent. */
  close(): void
  /** Admission: true (and counted) when pool_total_size + reserved + bytes <= limitBytes. */
  reserve(bytes: number): boolean
  unreserve(bytes: number): void
  totalSize(): number
  /** The reserve() counter (cheap; stats() builds every class). */
  reservedBytes(): number
  stats(): NativePoolStats
  /** Moves objects out of sparse slabs (same class or up to 2× slot size); returns pages released. Handles stay valid. */
  compact(): number
  /** Bare allocation (no bytes written): handles[i] = 0 where it failed. Returns the number allocated. */
  allocMany(lengths: Uint32Array, count: number, handles: Uint32Array): number
  /** [offset in the pool's region, slot size] of a live handle; for invariant checks. */
  slotRange(handle: number): [number, number] | undefined
  sizeClasses(): { size: number; pagesPerSlab: number; objectsPerSlab: number }[]
}

interface NativeAllocatorAddon {
  NativePool: new (arg: object | number) => NativePool
  compressBatchToPool(
    codec: NativeCodec, pool: NativePool, src: Uint8Array, srcPage: number, count: number,
    status: Int32Array, lo: Uint32Array, hi: Uint32Array, outIndex: number,
    checksums: Uint32Array | null, threshold: number, flags: number,
  ): number
  decompressFromPool(
    codec: NativeCodec, pool: NativePool, handle: number, length: number,
    dst: Uint8Array, dstOffset: number, expectedChecksum?: number,
  ): number
  decompressManyFromPool(
    codec: NativeCodec, pool: NativePool, handles: Uint32Array, lengths: Uint32Array, count: number,
    dst: Uint8Array, dstPages: Uint32Array | null, status: Int32Array, checksums: Uint32Array | null,
  ): number
  readObjects(pool: NativePool, handles: Uint32Array, lengths: Uint32Array, count: number, dst: Uint8Array): number
  storeObjects(pool: NativePool, src: Uint8Array, lengths: Uint32Array, count: number, handles: Uint32Array): number
  gatherObjects(pool: NativePool, handles: Uint32Array, lengths: Uint32Array, count: number, into: Uint8Array, offsets: Uint32Array): number
  putObjects(
    pool: NativePool, src: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count: number,
    handles: Uint32Array, checksums: Uint32Array | null,
  ): number
  freeMany(pool: NativePool, handles: Uint32Array, count: number, first?: number): number
  checksumBytes(kind: number, bytes: Uint8Array, offset: number, length: number, pieces?: Uint32Array): number
  livePools(): number
  /** CPU time of the calling thread, in ms (benchmarks). */
  threadCpuMs(): number
}

/** The native pool entry points (each checks its arguments and throws TypeError/RangeError). */
export function nativeAllocator(): NativeAllocatorAddon {
  return loadNative() as unknown as NativeAllocatorAddon
}

const KNOWN = new Set(['maxBytes', 'limitBytes', 'classStep', 'checksum', 'retainPercent', 'maxSlabPages'])
const MAX_BYTES = 2 ** 40

/** Creates a pool on this (owner) thread. */
export function createNativePool(options: NativePoolOptions = {}): NativePool {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError(`NativePool options must be an object, got ${describe(options)}`)
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) {
      throw new InvalidArgumentError(`unknown option '${key}' (known: ${[...KNOWN].join(', ')})`, 'ERR_ZSTASH_UNKNOWN_OPTION')
    }
  }
  const native: Record<string, number> = {}
  if (options.maxBytes !== undefined) native.maxBytes = integerOption('maxBytes', options.maxBytes, 4096, MAX_BYTES)
  if (options.limitBytes !== undefined) native.limitBytes = integerOption('limitBytes', options.limitBytes, 0, MAX_BYTES)
  if (options.maxSlabPages !== undefined) native.maxSlabPages = integerOption('maxSlabPages', options.maxSlabPages, 1, 32)
  if (options.retainPercent !== undefined) native.retainPercent = integerOption('retainPercent', options.retainPercent, 0, 1000)
  if (options.classStep !== undefined) {
    if (![8, 16, 32, 64].includes(options.classStep as number)) {
      throw new InvalidArgumentError(`option 'classStep' must be 8, 16, 32 or 64, got ${describe(options.classStep)}`, 'ERR_ZSTASH_OUT_OF_RANGE')
    }
    native.classStep = options.classStep
  }
  if (options.checksum !== undefined) {
    if (!(typeof options.checksum === 'string' && options.checksum in CHECKSUMS)) {
      throw new InvalidArgumentError(`option 'checksum' must be one of ${Object.keys(CHECKSUMS).join(', ')}, got ${describe(options.checksum)}`)
    }
    native.checksum = CHECKSUMS[options.checksum]
  }
  return new (nativeAllocator().NativePool)(native)
}

/** Attaches this thread to a pool created elsewhere in the process. Throws when the pool is gone. */
export function attachNativePool(id: number): NativePool {
  if (!Number.isInteger(id) || id < 1 || id > 0xffffffff) {
    throw new InvalidArgumentError(`pool id must be a positive 32-bit integer, got ${describe(id)}`)
  }
  return new (nativeAllocator().NativePool)(id)
}
