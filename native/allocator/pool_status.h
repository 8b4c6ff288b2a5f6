// Per-page results of the pool entry points beyond page.h's PageStatus and
// DecodeStatus; mirrored in src/allocator/native-pool.ts.
#pragma once
#include <cstdint>

namespace zstash::alloc {

enum PoolStatus : int32_t {
  kAllocFail = -5,          // compress: no slot (the pool is at max_bytes or out of handles)
  // decode: the stored bytes do not match the expected checksum. The same value as page.h's
  // kDecodeChecksum, so every load path (pool, checkObjects, devices) reports one status.
  kChecksumMismatch = -12,
  kBadHandle = -13,  // decode/read: the handle names no live object of that length
};

}  // namespace zstash::alloc
