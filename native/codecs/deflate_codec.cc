// Raw deflate with libdeflate (32 KiB window: on a 4 KiB page the window never
// limits matches, but IAA-produced streams are also valid input here).
#include <libdeflate.h>
#include "codec.h"

namespace zstash {
namespace {

class DeflateCodec final : public PageCodec {
 public:
  explicit DeflateCodec(int level)
      : compressor_(libdeflate_alloc_compressor(level)), decompressor_(libdeflate_alloc_decompressor()) {}
  ~DeflateCodec() override {
    libdeflate_free_compressor(compressor_);
    libdeflate_free_decompressor(decompressor_);
  }

  int32_t Compress(const uint8_t* page, uint8_t* out, size_t capacity) override {
    size_t n = libdeflate_deflate_compress(compressor_, page, kPageSize, out, capacity);
    return n > 0 ? static_cast<int32_t>(n) : kIncompressible;
  }

  int32_t Decompress(const uint8_t* in, size_t length, uint8_t* out) override {
    size_t produced = 0;
    auto r = libdeflate_deflate_decompress(decompressor_, in, length, out, kPageSize, &produced);
    if (r == LIBDEFLATE_SUCCESS) return produced == kPageSize ? static_cast<int32_t>(kPageSize) : static_cast<int32_t>(kDecodeWrongSize);
    return r == LIBDEFLATE_INSUFFICIENT_SPACE ? kDecodeWrongSize : kDecodeCorrupt;
  }

 private:
  libdeflate_compressor* compressor_;
  libdeflate_decompressor* decompressor_;
};

}  // namespace

std::unique_ptr<PageCodec> MakeDeflateCodec(int level) {
  if (level < 0 || level > 12) return nullptr;
  return std::make_unique<DeflateCodec>(level);
}

}  // namespace zstash
