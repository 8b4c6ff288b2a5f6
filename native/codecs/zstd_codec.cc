// ZSTD_c_format / ZSTD_d_format (magicless frames) are in zstd's "experimental"
// section; the enum values have not changed since 1.3.x and Debian's libzstd
// exports the setters, so the stable setParameter entry points are enough.
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>
#include <zstd_errors.h>
#include "codec.h"

namespace zstash {
namespace {

// One page is one frame, compressed with parameters set once per codec (a
// reused CCtx, ZSTD_compress2). Measured per page (bench/codecs.ts): ZSTD_compress
// (a context per call) runs at ~half the speed; ZSTD_compressCCtx, the buffer-less
// API and explicit hash sizes are within noise of this call. What the page store
// does not need is left out of every frame: the 4-byte magic number (the entry's
// format says what the object is), the checksum, the content size (always one
// page) and the dictionary ID — ~5 bytes per page, +0.5% ratio on the node corpus.
// The decoder is set to the same magicless format, so objects written by this
// codec (and only those) decode; no other producer writes zstd objects.
class ZstdCodec final : public PageCodec {
 public:
  explicit ZstdCodec(int level) : cctx_(ZSTD_createCCtx()), dctx_(ZSTD_createDCtx()) {
    ok_ = cctx_ && dctx_ &&
          Set(ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, level)) &&
          Set(ZSTD_CCtx_setParameter(cctx_, ZSTD_c_windowLog, 12)) &&  // one page of history is all a page has
          Set(ZSTD_CCtx_setParameter(cctx_, ZSTD_c_checksumFlag, 0)) &&
          Set(ZSTD_CCtx_setParameter(cctx_, ZSTD_c_contentSizeFlag, 0)) &&
          Set(ZSTD_CCtx_setParameter(cctx_, ZSTD_c_dictIDFlag, 0)) &&
          Set(ZSTD_CCtx_setParameter(cctx_, ZSTD_c_format, ZSTD_f_zstd1_magicless)) &&
          Set(ZSTD_DCtx_setParameter(dctx_, ZSTD_d_format, ZSTD_f_zstd1_magicless));
  }
  ~ZstdCodec() override {
    ZSTD_freeCCtx(cctx_);
    ZSTD_freeDCtx(dctx_);
  }

  bool ok() const { return ok_; }

  int32_t Compress(const uint8_t* page, uint8_t* out, size_t capacity) override {
    size_t n = ZSTD_compress2(cctx_, out, capacity, page, kPageSize);
    if (ZSTD_isError(n)) {
      return ZSTD_getErrorCode(n) == ZSTD_error_dstSize_tooSmall ? kIncompressible : kCompressError;
    }
    return static_cast<int32_t>(n);
  }

  int32_t Decompress(const uint8_t* in, size_t length, uint8_t* out) override {
    size_t n = ZSTD_decompressDCtx(dctx_, out, kPageSize, in, length);
    if (ZSTD_isError(n)) {
      return ZSTD_getErrorCode(n) == ZSTD_error_dstSize_tooSmall ? kDecodeWrongSize : kDecodeCorrupt;
    }
    return n == kPageSize ? static_cast<int32_t>(n) : kDecodeWrongSize;
  }

 private:
  static bool Set(size_t r) { return !ZSTD_isError(r); }

  ZSTD_CCtx* cctx_;
  ZSTD_DCtx* dctx_;
  bool ok_ = false;
};

}  // namespace

std::unique_ptr<PageCodec> MakeZstdCodec(int level) {
  auto codec = std::make_unique<ZstdCodec>(level);
  if (!codec->ok()) return nullptr;
  return codec;
}

}  // namespace zstash
