// One page codec: compress a 4 KiB page into at most `capacity` bytes, or decode
// one stream back to exactly one page. An instance owns its library contexts and
// must be used by one thread at a time (like zswap's per-CPU acomp_ctx); every
// worker thread makes its own.
#pragma once
#include <memory>
#include <string>
#include "../common/page.h"

namespace zstash {

class PageCodec {
 public:
  virtual ~PageCodec() = default;
  // Returns the compressed length (1..capacity), kIncompressible when the result
  // does not fit in `capacity`, or kCompressError.
  virtual int32_t Compress(const uint8_t* page, uint8_t* out, size_t capacity) = 0;
  // Returns kPageSize, or a DecodeStatus. Never writes past out[kPageSize) and
  // never reads past in[length).
  virtual int32_t Decompress(const uint8_t* in, size_t length, uint8_t* out) = 0;
};

// Names are the public compressor names: lz4, zstd, deflate, deflate-4k, lzo.
// Returns nullptr for an unknown name; `error` says why.
std::unique_ptr<PageCodec> MakeCodec(const std::string& name, int level, std::string* error);

// "name version" of every linked codec library, for backends() and reports.
std::string CodecLibraryVersions();

}  // namespace zstash
