/**
 * zstash's public API: the store, the swap cache built on it, the usemem load
 * generator and its reports, the backend listing, and the errors. Everything
 * else (allocator, entry table, native addon, test hooks) is reachable for
 * benchmarks and tests through 'zstash/internals' and may change.
 */
export { PageStore, MAX_KEY } from './store/page-store.js'
export type { LoadOptions, LoadManyResult, PageStoreStats } from './store/page-store.js'
export type { PageStoreOptions } from './store/options.js'
export { MAX_FOLIO_PAGES, DEFAULT_MAX_BATCH } from './store/options.js'
export { PAGE_SIZE } from './codecs/status.js'
export { FORMATS, FORMAT_SPECS } from './codecs/formats.js'
export type { StreamFormat, FormatSpec } from './codecs/formats.js'
export type { BackendInfo, BackendPath } from './codecs/backend.js'
export type { PoolStats, ClassStats } from './allocator/object-pool.js'
export {
  ZstashError, InvalidArgumentError, StoreRejectedError, DecompressError, ClosedError, BackendUnavailableError,
  WouldBlockError, BackingStoreError,
} from './errors.js'
export type { RejectReason, BackingStoreReason } from './errors.js'
export type { BackingOptions, FileBackingOptions, ClusterBackingOptions, BackingStoreStats } from './tier/index.js'
export { SwapCache, Region, ResidentLimitError, RegionFreedError, SwapCacheLostPageError, FOLIO_PAGES, MAX_RESIDENT_LIMIT } from './swapcache/index.js'
export type { SwapCacheStats, SwapCacheOptions, FolioSize, PressureEvent } from './swapcache/index.js'
export { backends, DEVICE_COMPRESSORS, DeviceError } from './devices/index.js'
export type {
  BackendListing, BackendsOptions, DeviceKind, DeviceName, DeviceOptions, EngineOptions, DpdkOptions, QplOptions, SimOptions,
  DeviceCaps, DeviceCounters,
} from './devices/index.js'
export { runUsemem, resolveUsemem, parseUsememArgs, USEMEM_USAGE, DataMismatchError } from './usemem/index.js'
export type { UsememOptions, UsememResult, UsememIo } from './usemem/index.js'
export { buildTable, render, REPORT_FORMATS } from './report/index.js'
export { createMetrics, serveMetrics, NOOP_OBSERVER, DEFAULT_METRICS_LISTEN } from './metrics/index.js'
export type { MetricsOptions, MetricsSource, SwapCacheSource, StoreMetrics, ServeMetricsOptions, MetricsServer, StoreObserver } from './metrics/index.js'
export type { ReportTable, ReportFormat } from './report/index.js'
