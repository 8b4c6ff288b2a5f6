/**
 * The store's object pool: the native zsmalloc-like pool (docs/allocator.md)
 * behind the few calls the store and the tier below it make. Everything here
 * is batched — one native call per batch of objects, never one per page —
 * and every handle a call allocates is written to the caller's array inside
 * that call, so a caller that fails (or a worker that dies) can always name
 * what it must free.
 *
 * `ObjectPool` is the seam writeback uses (docs/writeback.md): gather objects
 * into one buffer for the backing store, put promoted objects back, free.
 * `StorePool` adds what the PageStore needs on top: admission, decoding,
 * compaction, stats, and the pool's id for worker threads.
 *
 * Reading and moving: compaction is the only thing that moves an object, and
 * it holds the pool's move lock exclusively; every call that reads or writes
 * object bytes (decode, gather, put, compress-into-pool on a worker) holds it
 * shared for its whole length, and a moved object keeps its handle. So a
 * reader on any thread never sees an object move under it, and compaction may
 * run while batched loads are in flight. Frees are different: a slot freed
 * while a worker reads it could be reused at once, so the store defers frees
 * of objects named by an in-flight batched load until that load is done.
 */
import { nativeAllocator, createNativePool, type NativePool, type NativePoolStats, type ChecksumName } from './native-pool.js'
import type { NativeCodec } from '../native.js'

export { PoolStatus } from './native-pool.js'

/** What writeback needs from the pool (the lead's tier integration calls exactly these). */
export interface ObjectPool {
  /**
   * Copies object i (handles[i], lengths[i] bytes) to into[offsets[i]] for i < count, in one
   * native call. Returns the bytes copied, or PoolStatus.BadHandle (-12) when a handle names
   * no live object of that length (objects before it were copied, none after).
   * Throws RangeError when an object would not fit in `into`.
   */
  gather(handles: Uint32Array, lengths: Uint32Array, count: number, into: Uint8Array, offsets: Uint32Array): number
  /**
   * Allocates an object for each bytes[offsets[i], offsets[i] + lengths[i]) (1..4096 bytes) and
   * copies it in, in one native call. handles[i] gets the handle, or 0 where no slot could be
   * had (pool at its hard cap); checksums[i], when given, the pool's checksum of the object.
   * Returns the number stored; a caller that needs all or nothing frees the others.
   */
  put(bytes: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count: number, handles: Uint32Array, checksums?: Uint32Array): number
  /** Frees handles[first, first + count); zero handles are skipped, dead ones counted (invalid_frees). Returns the number freed. */
  free(handles: Uint32Array, count: number, first?: number): number
}

export type PoolStats = NativePoolStats
export type { NativeClassStats as ClassStats } from './native-pool.js'

export interface StorePoolOptions {
  /** Admission limit (reserve()); Infinity for none. */
  limitBytes: number
  /** Hard cap on slab pages: allocation fails past it. */
  maxBytes?: number
  checksum: boolean
}

const A = nativeAllocator()

export class StorePool implements ObjectPool {
  readonly native: NativePool
  /** Whether objects carry a CRC32C (checked before every decode). */
  readonly checksummed: boolean

  constructor(options: StorePoolOptions) {
    const checksum: ChecksumName = options.checksum ? 'crc32c' : 'none'
    this.native = createNativePool({
      checksum,
      ...(Number.isFinite(options.limitBytes) ? { limitBytes: options.limitBytes } : {}),
      ...(options.maxBytes !== undefined ? { maxBytes: options.maxBytes } : {}),
    })
    this.checksummed = options.checksum
  }

  /** The process-wide id worker threads attach with (attachNativePool). */
  get id(): number {
    return this.native.id
  }

  gather(handles: Uint32Array, lengths: Uint32Array, count: number, into: Uint8Array, offsets: Uint32Array): number {
    return A.gatherObjects(this.native, handles, lengths, count, into, offsets)
  }

  put(bytes: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count: number, handles: Uint32Array, checksums?: Uint32Array): number {
    return A.putObjects(this.native, bytes, offsets, lengths, count, handles, checksums ?? null)
  }

  free(handles: Uint32Array, count: number, first = 0): number {
    return count === 0 ? 0 : A.freeMany(this.native, handles, count, first)
  }

  /** Decodes one object into dst[offset, offset + 4096): 4096, or a DecodeStatus / PoolStatus. A 4096-byte object is a raw page. */
  decode(codec: NativeCodec, handle: number, length: number, dst: Uint8Array, offset: number, checksum?: number): number {
    return checksum === undefined
      ? A.decompressFromPool(codec, this.native, handle, length, dst, offset)
      : A.decompressFromPool(codec, this.native, handle, length, dst, offset, checksum)
  }

  /** Decodes job i into page dstPages[i] of dst; status[i] gets 4096 or a DecodeStatus / PoolStatus. Returns pages decoded. */
  decodeMany(
    codec: NativeCodec, handles: Uint32Array, lengths: Uint32Array, count: number,
    dst: Uint8Array, dstPages: Uint32Array, status: Int32Array, checksums: Uint32Array | undefined,
  ): number {
    return A.decompressManyFromPool(codec, this.native, handles, lengths, count, dst, dstPages, status, checksums ?? null)
  }

  /** Admission: reserves `bytes` against the limit (pool_total_size + reserved + bytes ≤ limit). */
  reserve(bytes: number): boolean {
    return this.native.reserve(bytes)
  }

  unreserve(bytes: number): void {
    this.native.unreserve(bytes)
  }

  get reservedBytes(): number {
    return this.native.reservedBytes()
  }

  totalSize(): number {
    return this.native.totalSize()
  }

  stats(): PoolStats {
    return this.native.stats()
  }

  /** Moves objects out of sparse slabs; returns the pages released. Handles stay valid. */
  compact(): number {
    return this.native.compact()
  }

  /** Drops the store's reference; worker threads drop theirs when they end. */
  close(): void {
    this.native.close()
  }
}

/**
 * Frees the objects of a pooled compress result (docs: PooledResult): a page
 * owns an object iff its status is not SameFilled (whose lo is a fill word)
 * and its lo is not 0. One native call. Returns the number freed.
 */
export function freeResults(pool: ObjectPool, status: Int32Array, lo: Uint32Array, count: number): number {
  const handles = new Uint32Array(count)
  let n = 0
  for (let i = 0; i < count; i++) if (status[i] !== SAME_FILLED && lo[i] !== 0) handles[n++] = lo[i]
  return pool.free(handles, n)
}

const SAME_FILLED = 0
