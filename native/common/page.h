// Shared constants and per-page status codes. The same numbers are mirrored in
// src/codecs/status.ts; change both or neither.
#pragma once
#include <cstddef>
#include <cstdint>

namespace zstash {

constexpr size_t kPageSize = 4096;
constexpr size_t kWordsPerPage = kPageSize / sizeof(uint64_t);

// Result of compressing one page. Positive values are compressed lengths.
enum PageStatus : int32_t {
  kSameFilled = 0,        // every 8-byte word equal; the word is written to the output slot
  kIncompressible = -1,   // output would exceed the threshold: store raw, not an error
  kCompressError = -2,    // the codec failed for a reason other than output size
  // -3 was a test hook; fault injection now lives in a test-only JS backend.
};

// Result of decompressing one page: kPageSize on success, else one of these.
enum DecodeStatus : int32_t {
  kDecodeCorrupt = -10,   // the stream is malformed, truncated or has trailing output
  kDecodeWrongSize = -11, // the stream decoded to something other than one page
  kDecodeChecksum = -12,  // the stored object does not match its checksum: not decoded
};

}  // namespace zstash
