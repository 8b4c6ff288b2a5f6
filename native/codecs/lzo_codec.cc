#include <lzo/lzo1x.h>
#include <vector>
#include "codec.h"

namespace zstash {
namespace {

// lzo1x_1_compress takes no output bound, so it writes into a scratch buffer of
// the documented worst case and the result is copied out only if it fits.
constexpr size_t kLzoWorstCase = kPageSize + kPageSize / 16 + 64 + 3;

class LzoCodec final : public PageCodec {
 public:
  LzoCodec() : work_(LZO1X_1_MEM_COMPRESS), scratch_(kLzoWorstCase) {}

  int32_t Compress(const uint8_t* page, uint8_t* out, size_t capacity) override {
    lzo_uint n = scratch_.size();
    if (lzo1x_1_compress(page, kPageSize, scratch_.data(), &n, work_.data()) != LZO_E_OK) {
      return kCompressError;
    }
    if (n > capacity) return kIncompressible;
    std::copy(scratch_.begin(), scratch_.begin() + n, out);
    return static_cast<int32_t>(n);
  }

  int32_t Decompress(const uint8_t* in, size_t length, uint8_t* out) override {
    lzo_uint n = kPageSize;
    int r = lzo1x_decompress_safe(in, length, out, &n, nullptr);
    if (r == LZO_E_OK) return n == kPageSize ? static_cast<int32_t>(kPageSize) : static_cast<int32_t>(kDecodeWrongSize);
    return r == LZO_E_OUTPUT_OVERRUN ? kDecodeWrongSize : kDecodeCorrupt;
  }

 private:
  std::vector<uint8_t> work_;
  std::vector<uint8_t> scratch_;
};

}  // namespace

std::unique_ptr<PageCodec> MakeLzoCodec() {
  static const bool ready = lzo_init() == LZO_E_OK;
  if (!ready) return nullptr;
  return std::make_unique<LzoCodec>();
}

}  // namespace zstash
