/**
 * Internals for zstash's own benchmarks and tests ('zstash/internals'): the
 * mechanics behind PageStore, the native addon, and the test-only fault
 * injection. No stability promise; applications use 'zstash'.
 */
export * from './index.js'
export { LOAD_MANY_INLINE_PAGES, LOAD_MANY_INLINE_PAGES_SLOW, openPageStore } from './store/page-store.js'
export type { OpenHooks } from './store/page-store.js'
export { WorkerPoolBackend } from './pool/worker-pool.js'
export { CpuBackend } from './codecs/cpu-backend.js'
export { PageStatus, DecodeStatus, PAGE_SHIFT, decodeStatusName } from './codecs/status.js'
export type { CompressBackend, CompressOptions, CompressResult, PooledResult, DecompressRequest, ArenaDecompressRequest } from './codecs/backend.js'
export { NOT_REACHED } from './codecs/backend.js'
export { StorePool, freeResults } from './allocator/object-pool.js'
export type { ObjectPool, StorePoolOptions } from './allocator/object-pool.js'
export { buildSizeClasses } from './allocator/size-classes.js'
export { EntryTable, EntryKind } from './entries/entry-table.js'
export { TEST_HOOKS } from './store/test-hooks.js'
export type { TestHooks } from './store/test-hooks.js'
export { loadNative } from './native.js'
export type { NativeAddon, NativeCodec, NativeDictCodecOptions, NativeTrainOptions } from './native.js'
export {
  trainDictionary, samplePages, measureRatio, openDictionaryCodec, DictionaryRegistry, DictionaryError,
  MAX_DICTIONARY_ID, DEFAULT_DICTIONARY_BYTES, DICTIONARY_FORMATS,
} from './codecs/dictionary.js'
export type {
  TrainDictionaryOptions, TrainedDictionary, PageSample, RatioMeasure, DictionaryEntry, DriftReport, DictionaryRegistryOptions, DictionaryFormat,
} from './codecs/dictionary.js'
export { openDeviceBackend, isDeviceCompressor, parseDeviceName, DeviceBackend, cpuAffinity } from './devices/index.js'
export type { DeviceCompressBackend, OpenDeviceOptions } from './devices/index.js'
export { sizeName } from './swapcache/index.js'
export * as usemem from './usemem/index.js'
export * as report from './report/index.js'
export { BatchHistogram, parseListen, isLoopback, STORE_METRICS, SWAPCACHE_METRICS, BACKEND_METRIC, HISTOGRAMS, REJECT_REASONS } from './metrics/index.js'
export * as tier from './tier/index.js'
export { createNativePool, attachNativePool, nativeAllocator, PoolStatus, CompressToPool, CHECKSUMS } from './allocator/native-pool.js'
export type { NativePool, NativePoolOptions, NativePoolStats, NativeClassStats, ChecksumName } from './allocator/native-pool.js'
