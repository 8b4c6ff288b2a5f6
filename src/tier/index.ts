/** The tier below the pool: backing stores for writeback (see docs/writeback.md). */
export { openBackingStore } from './open.js'
export {
  GetStatus, statusReason, MAX_OBJECT_BYTES, MAX_BATCH_OBJECTS, NO_LOCATOR,
} from './backing-store.js'
export type {
  BackingStore, BackingStoreStats, BackingStoreType, PutBatch, GetBatch, GetResult, GetStatusCode,
  FileStoreDetails, ClusterStoreDetails,
} from './backing-store.js'
export { resolveBackingOptions, DEFAULT_SEGMENT_BYTES } from './options.js'
export type { BackingOptions, FileBackingOptions, ClusterBackingOptions } from './options.js'
export { FileStore } from './file-store.js'
export { ClusterStore, redisReason } from './cluster-store.js'
export { Sealer, SEALING_MODES, RECORD_OVERHEAD } from './sealing.js'
export type { SealingMode, NativeObjectSealer } from './sealing.js'
export type { HistogramSummary } from './histogram.js'
