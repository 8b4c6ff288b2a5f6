/**
 * The tier below the pool: where zswap-style writeback puts cold compressed
 * objects. One small batched interface, two stores behind it (a packed local
 * file, a Valkey/Redis Cluster). Everything a batch carries is typed arrays —
 * no JS object per page — and every object is named by a 32-bit locator the
 * entry table keeps in a u32.
 *
 * Contract, in the order the integration relies on it:
 *   - putMany reads every source byte synchronously, before it returns its
 *     promise: the caller may free, compact or reuse the pool slots at once.
 *   - putMany is all or nothing: when it rejects, no locator of the batch is
 *     readable and the space it took is reclaimed (file: dead space compaction
 *     frees; cluster: the keys are queued for deletion).
 *   - An object acknowledged by a resolved putMany is readable until it is
 *     deleted (or, for the cluster, until the node holding it is lost: that
 *     object then reads as MISSING, never as other bytes).
 *   - getMany never returns wrong bytes: per object it gives the payload
 *     length, or a negative GetStatus (its destination then holds no
 *     unauthenticated bytes).
 *   - deleteMany takes effect at once in memory (a later getMany of the
 *     locator gives MISSING); the backing I/O may be deferred and batched.
 *   - After close() every call throws ClosedError; a call in flight settles
 *     (resolves, or rejects with ClosedError or BackingStoreError), never hangs.
 */
import type { BackingStoreReason } from '../errors.js'
import type { HistogramSummary } from './histogram.js'
import type { SealingMode } from './sealing.js'

/** Largest object a store takes (a compressed page is at most 4096 bytes; larger is allowed for multi-page objects). */
export const MAX_OBJECT_BYTES = 65536
/** Most objects in one putMany / getMany / deleteMany call. */
export const MAX_BATCH_OBJECTS = 4096
/** A locator no store ever hands out, free for the integration to mean "none". */
export const NO_LOCATOR = 0

/** One writeback batch. Arrays are indexed by object, 0..count-1 (they may be longer). */
export interface PutBatch {
  count: number
  /** Page key of each object: bound into the object, so it cannot be read back under another key. */
  keys: Uint32Array
  /** An opaque word per object (format id, flags), returned by getMany. Stored sealed. */
  tags: Uint32Array
  /** The caller's checksum per object, returned by getMany. Stored sealed (a page checksum is an oracle on its content). */
  checksums: Uint32Array
  /** Where the compressed bytes are: the pool's arena views (shared memory) or one staging buffer. Read in place. */
  sources: readonly (Uint8Array | undefined)[]
  /** Index into `sources` per object; omitted: every object is in sources[0]. */
  sourceIndex?: Uint32Array
  /** Byte offset of each object in its source. */
  offsets: Uint32Array
  /** Byte length of each object (1..MAX_OBJECT_BYTES). */
  lengths: Uint32Array
}

/** One read-back batch. */
export interface GetBatch {
  count: number
  /** Locators putMany returned. */
  locators: Uint32Array
  /** The page key each locator was written under: another key's object gives WRONG_KEY or CORRUPT. */
  keys: Uint32Array
  /** Destination of the compressed bytes. Must not be touched until the promise settles. */
  into: Uint8Array
  /** Byte offset in `into` of each object. */
  offsets: Uint32Array
  /** Bytes available at each offset; omitted: PAGE_SIZE (4096) each. */
  capacities?: Uint32Array
  /** Output arrays to fill (length ≥ count) instead of allocating new ones. */
  status?: Int32Array
  tags?: Uint32Array
  checksums?: Uint32Array
}

export interface GetResult {
  /** Payload length (≥ 0) of each object, or a negative GetStatus. */
  status: Int32Array
  tags: Uint32Array
  checksums: Uint32Array
  /** Objects whose status is negative. */
  failures: number
}

/** Per-object failure of getMany. Values are shared with native/tier/object_sealer.cc. */
export const GetStatus = {
  /** No live object at this locator: never written, deleted, or gone from the store (evicted, node lost). */
  MISSING: -1,
  /** The locator holds another page key's object (the integration asked with the wrong key). */
  WRONG_KEY: -2,
  /** The object did not authenticate (or its CRC failed): tampered, swapped, stale or foreign. */
  CORRUPT: -3,
  /** The object is longer than its destination capacity; nothing was written. */
  TOO_LARGE: -4,
  /** The store could not be reached (node down, connection lost, file read failed). */
  UNAVAILABLE: -5,
  /** The store did not answer in time. */
  TIMEOUT: -6,
  /** The store refused our credentials. */
  AUTH: -7,
} as const
export type GetStatusCode = (typeof GetStatus)[keyof typeof GetStatus]

/** The BackingStoreError reason of a negative GetStatus. */
export function statusReason(status: number): BackingStoreReason {
  switch (status) {
    case GetStatus.MISSING: return 'missing'
    case GetStatus.WRONG_KEY: return 'missing'
    case GetStatus.CORRUPT: return 'corrupt'
    case GetStatus.TOO_LARGE: return 'corrupt'
    case GetStatus.TIMEOUT: return 'timeout'
    case GetStatus.AUTH: return 'auth'
    case GetStatus.UNAVAILABLE: return 'unavailable'
    default: return 'io'
  }
}

export type BackingStoreType = 'file' | 'cluster'

export interface BackingStoreStats {
  type: BackingStoreType
  sealing: SealingMode
  /** Live objects. */
  objects: number
  /** Compressed bytes of the live objects, as the callers handed them in. */
  payload_bytes: number
  /** Bytes of the live records (payload + per-object overhead of the sealing mode). */
  record_bytes: number
  /** File: the file's size. Cluster: the record bytes held in the cluster (values; Redis adds its per-key overhead). */
  backing_bytes: number
  /** backing_bytes / payload_bytes (0 when empty). */
  space_amplification: number
  bytes_written: number
  bytes_read: number
  put_batches: number
  put_objects: number
  get_batches: number
  get_objects: number
  /** Reads the store issued for getMany (file: preads after coalescing; cluster: MGET commands). */
  get_reads: number
  deleted_objects: number
  /** Deletions accepted but not yet sent to the store. */
  pending_deletes: number
  /** putMany calls that rejected. */
  put_failures: number
  /** Objects that could not be written (putMany) or read (getMany), by reason; `missing` includes WRONG_KEY. */
  failures: Record<BackingStoreReason, number>
  /** putMany latency in µs, per batch. */
  put_latency_us: HistogramSummary
  /** getMany latency in µs, per batch. */
  get_latency_us: HistogramSummary
  /** Objects per putMany. */
  put_batch_objects: HistogramSummary
  /** Store-specific details. */
  file?: FileStoreDetails
  cluster?: ClusterStoreDetails
}

export interface FileStoreDetails {
  path: string
  segment_bytes: number
  segments: number
  free_segments: number
  compactions: number
  relocated_objects: number
  relocated_bytes: number
  /** Compaction steps that stopped on an I/O error (the records stayed where they were). */
  compaction_failures: number
}

export interface ClusterStoreDetails {
  nodes: number
  namespace: string
  batches: number
  delete_failures: number
  /** Keys whose deletion failed and is retried on the next flush. */
  delete_retry: number
  /** Connection errors the client reported for single nodes (each lost connection, each failed reconnect). */
  node_errors: number
}

export interface BackingStore {
  readonly type: BackingStoreType
  /** Writes a batch; resolves with one locator per object (a new Uint32Array of length count). */
  putMany(batch: PutBatch): Promise<Uint32Array>
  /** Reads objects back into `into`; per-object statuses, never wrong bytes. */
  getMany(batch: GetBatch): Promise<GetResult>
  /**
   * Frees objects. With `keys`, a locator is freed only if it holds that key's
   * object (guards against freeing a reused locator). Returns how many were freed;
   * unknown or already freed locators are ignored.
   */
  deleteMany(locators: Uint32Array, count?: number, keys?: Uint32Array): number
  /** Sends deferred deletions and waits for them (and, file store, for a compaction in progress). */
  flush(): Promise<void>
  stats(): BackingStoreStats
  /** Closes the store: the temp file is removed, connections are closed, the sealing key is wiped. */
  close(): Promise<void>
  readonly closed: boolean
}
