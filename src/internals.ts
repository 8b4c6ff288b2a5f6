/**
 * Internals for zstash's own benchmarks and tests ('zstash/internals'): the
 * mechanics behind PageStore, the native addon, and the test-only fault
 * injection. No stability promise; applications use 'zstash'.
 */
export * from './index.js'
export { LOAD_MANY_INLINE_PAGES } from './store/page-store.js'
export { PageStatus, DecodeStatus, PAGE_SHIFT } from './codecs/status.js'
export type { CompressBackend, CompressOptions, CompressResult } from './codecs/backend.js'
export { ZsPool } from './allocator/zs-pool.js'
export { buildSizeClasses } from './allocator/size-classes.js'
export { EntryTable, EntryKind } from './entries/entry-table.js'
export { TEST_HOOKS } from './store/test-hooks.js'
export type { TestHooks } from './store/test-hooks.js'
export { loadNative } from './native.js'
export type { NativeAddon, NativeCodec } from './native.js'
export { openDeviceBackend, isDeviceCompressor, parseDeviceName, DeviceBackend, cpuAffinity } from './devices/index.js'
export type { DeviceCompressBackend, DecompressMany, OpenDeviceOptions } from './devices/index.js'
export { sizeName } from './swapcache/index.js'
export * as usemem from './usemem/index.js'
export * as report from './report/index.js'
export { createNativePool, attachNativePool, nativeAllocator, PoolStatus, CompressToPool, CHECKSUMS } from './allocator/native-pool.js'
export type { NativePool, NativePoolOptions, NativePoolStats, NativeClassStats, ChecksumName } from './allocator/native-pool.js'
