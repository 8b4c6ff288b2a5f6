// The content-only mode needs ZSTD_dct_rawContent (ZSTD_createCDict_advanced,
// "static linking only"). The addon is compiled from source against the zstd.h
// of the libzstd it links (one Debian package); the version check refuses the
// mode if another libzstd is loaded at run time.
#define ZSTD_STATIC_LINKING_ONLY
#include <zdict.h>
#include <zstd.h>
#include <zstd_errors.h>
#include "dict_codecs.h"

namespace zstash {
namespace {

class ZstdDictCodec final : public PageCodec {
 public:
  ZstdDictCodec(const uint8_t* dict, size_t size, int level, const ZstdDictOptions& o)
      : cctx_(ZSTD_createCCtx()), dctx_(ZSTD_createDCtx()), id_(o.id), prefix_(size ? 1 : 0) {
    if (!cctx_ || !dctx_) return;
    ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, level);
    ZSTD_CCtx_setParameter(cctx_, ZSTD_c_checksumFlag, o.checksum ? 1 : 0);
    ZSTD_CCtx_setParameter(cctx_, ZSTD_c_contentSizeFlag, o.content_size ? 1 : 0);
    ZSTD_CCtx_setParameter(cctx_, ZSTD_c_dictIDFlag, o.dict_id_flag ? 1 : 0);
    if (size == 0) {
      empty_ = true;
      return;
    }
    bool tables = o.tables == ZstdDictOptions::kUse || (o.tables == ZstdDictOptions::kAuto && ZstdDictUsesTables(level, size));
    // Digested once per instance; CDict and DDict keep their own copies, so
    // nothing points at the caller's buffer after construction.
    if (tables || ZDICT_getDictID(dict, size) == 0) {
      cdict_ = ZSTD_createCDict(dict, size, level);
      ddict_ = ZSTD_createDDict(dict, size);
    } else if (ZSTD_versionNumber() == ZSTD_VERSION_NUMBER) {
      size_t header = ZDICT_getDictHeaderSize(dict, size);
      if (ZDICT_isError(header) || header >= size) return;
      const uint8_t* content = dict + header;
      size_t n = size - header;
      cdict_ = ZSTD_createCDict_advanced(content, n, ZSTD_dlm_byCopy, ZSTD_dct_rawContent,
                                         ZSTD_getCParams(level, kPageSize, n), ZSTD_defaultCMem);
      ddict_ = ZSTD_createDDict_advanced(content, n, ZSTD_dlm_byCopy, ZSTD_dct_rawContent, ZSTD_defaultCMem);
    }
    if (cdict_ && ddict_) {
      ZSTD_CCtx_refCDict(cctx_, cdict_);
      ZSTD_DCtx_refDDict(dctx_, ddict_);
    }
  }
  ~ZstdDictCodec() override {
    ZSTD_freeCDict(cdict_);
    ZSTD_freeDDict(ddict_);
    ZSTD_freeCCtx(cctx_);
    ZSTD_freeDCtx(dctx_);
  }

  bool ok() const { return cctx_ && dctx_ && (empty_ || (cdict_ && ddict_)); }

  int32_t Compress(const uint8_t* page, uint8_t* out, size_t capacity) override {
    if (capacity <= prefix_) return kIncompressible;
    size_t n = ZSTD_compress2(cctx_, out + prefix_, capacity - prefix_, page, kPageSize);
    if (ZSTD_isError(n)) {
      return ZSTD_getErrorCode(n) == ZSTD_error_dstSize_tooSmall ? kIncompressible : kCompressError;
    }
    if (prefix_) out[0] = id_;
    return static_cast<int32_t>(n + prefix_);
  }

  int32_t Decompress(const uint8_t* in, size_t length, uint8_t* out) override {
    if (length <= prefix_ || (prefix_ && in[0] != id_)) return kDecodeCorrupt;
    size_t n = ZSTD_decompressDCtx(dctx_, out, kPageSize, in + prefix_, length - prefix_);
    if (ZSTD_isError(n)) return kDecodeCorrupt;
    return n == kPageSize ? static_cast<int32_t>(n) : kDecodeWrongSize;
  }

 private:
  ZSTD_CCtx* cctx_;
  ZSTD_DCtx* dctx_;
  ZSTD_CDict* cdict_ = nullptr;
  ZSTD_DDict* ddict_ = nullptr;
  uint8_t id_;
  size_t prefix_;
  bool empty_ = false;
};

}  // namespace

uint32_t ZstdDictionaryId(const uint8_t* dict, size_t dict_size) {
  return static_cast<uint32_t>(ZDICT_getDictID(dict, dict_size));
}

bool ZstdDictUsesTables(int level, size_t dict_size) {
  return ZSTD_getCParams(level, kPageSize, dict_size).strategy >= ZSTD_lazy;
}

std::unique_ptr<PageCodec> MakeZstdDictCodec(const uint8_t* dict, size_t dict_size, int level,
                                             const ZstdDictOptions& options, std::string* error) {
  if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel()) {
    *error = "zstd level " + std::to_string(level) + " is out of range";
    return nullptr;
  }
  if (dict_size > 0 && options.id == 0) {
    *error = "a zstd dictionary codec needs an id in 1..255";
    return nullptr;
  }
  auto codec = std::make_unique<ZstdDictCodec>(dict, dict_size, level, options);
  if (!codec->ok()) {
    *error = "libzstd refused the dictionary (corrupt header or entropy tables, or a libzstd other than the one built against)";
    return nullptr;
  }
  return codec;
}

}  // namespace zstash
