#include <lz4.h>
#include <vector>
#include "codec.h"

namespace zstash {
namespace {

class Lz4Codec final : public PageCodec {
 public:
  explicit Lz4Codec(int acceleration) : state_(LZ4_sizeofState()), acceleration_(acceleration) {}

  int32_t Compress(const uint8_t* page, uint8_t* out, size_t capacity) override {
    // LZ4 returns 0 when the output does not fit: that is the incompressible case.
    int n = LZ4_compress_fast_extState(state_.data(), reinterpret_cast<const char*>(page),
                                       reinterpret_cast<char*>(out), kPageSize,
                                       static_cast<int>(capacity), acceleration_);
    return n > 0 ? n : kIncompressible;
  }

  int32_t Decompress(const uint8_t* in, size_t length, uint8_t* out) override {
    int n = LZ4_decompress_safe(reinterpret_cast<const char*>(in), reinterpret_cast<char*>(out),
                                static_cast<int>(length), kPageSize);
    if (n < 0) return kDecodeCorrupt;
    return n == static_cast<int>(kPageSize) ? n : kDecodeWrongSize;
  }

 private:
  std::vector<char> state_;
  int acceleration_;
};

}  // namespace

std::unique_ptr<PageCodec> MakeLz4Codec(int level) {
  return std::make_unique<Lz4Codec>(level < 1 ? 1 : level);
}

}  // namespace zstash
