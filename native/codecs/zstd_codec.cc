#include <zstd.h>
#include <zstd_errors.h>
#include "codec.h"

namespace zstash {
namespace {

class ZstdCodec final : public PageCodec {
 public:
  explicit ZstdCodec(int level) : cctx_(ZSTD_createCCtx()), dctx_(ZSTD_createDCtx()), level_(level) {
    // One page is one frame; the checksum and content size cost bytes on every
    // page and the length is known from the entry, so leave them out.
    ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, level_);
    ZSTD_CCtx_setParameter(cctx_, ZSTD_c_checksumFlag, 0);
    ZSTD_CCtx_setParameter(cctx_, ZSTD_c_contentSizeFlag, 0);
    ZSTD_CCtx_setParameter(cctx_, ZSTD_c_dictIDFlag, 0);
    ZSTD_CCtx_setPledgedSrcSize(cctx_, kPageSize);
  }
  ~ZstdCodec() override {
    ZSTD_freeCCtx(cctx_);
    ZSTD_freeDCtx(dctx_);
  }

  int32_t Compress(const uint8_t* page, uint8_t* out, size_t capacity) override {
    size_t n = ZSTD_compress2(cctx_, out, capacity, page, kPageSize);
    if (ZSTD_isError(n)) {
      return ZSTD_getErrorCode(n) == ZSTD_error_dstSize_tooSmall ? kIncompressible : kCompressError;
    }
    return static_cast<int32_t>(n);
  }

  int32_t Decompress(const uint8_t* in, size_t length, uint8_t* out) override {
    size_t n = ZSTD_decompressDCtx(dctx_, out, kPageSize, in, length);
    if (ZSTD_isError(n)) return kDecodeCorrupt;
    return n == kPageSize ? static_cast<int32_t>(n) : kDecodeWrongSize;
  }

 private:
  ZSTD_CCtx* cctx_;
  ZSTD_DCtx* dctx_;
  int level_;
};

}  // namespace

std::unique_ptr<PageCodec> MakeZstdCodec(int level) { return std::make_unique<ZstdCodec>(level); }

}  // namespace zstash
