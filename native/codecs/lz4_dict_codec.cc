#include <lz4.h>
#include <cstring>
#include <vector>
#include "dict_codecs.h"

namespace zstash {
namespace {

constexpr size_t kLz4Window = 64 * 1024;

class Lz4DictCodec final : public PageCodec {
 public:
  Lz4DictCodec(const uint8_t* dict, size_t size, int acceleration, uint8_t id)
      : acceleration_(acceleration), id_(id) {
    // lz4 only reaches back 64 KiB: keep the dictionary's tail (ZDICT puts the
    // most useful content last).
    size_t keep = size < kLz4Window ? size : kLz4Window;
    dict_.assign(dict + size - keep, dict + size);
    LZ4_initStream(&loaded_, sizeof loaded_);
    LZ4_loadDict(&loaded_, reinterpret_cast<const char*>(dict_.data()), static_cast<int>(dict_.size()));
  }

  int32_t Compress(const uint8_t* page, uint8_t* out, size_t capacity) override {
    if (capacity < 2) return kIncompressible;
    // Hashing the dictionary again per page would cost more than the page; lz4.h
    // documents copying a stream state with the dictionary loaded as the way to
    // reuse it (LZ4_attach_dictionary is not exported by the shared library).
    std::memcpy(&work_, &loaded_, sizeof work_);
    int n = LZ4_compress_fast_continue(&work_, reinterpret_cast<const char*>(page), reinterpret_cast<char*>(out + 1),
                                       kPageSize, static_cast<int>(capacity - 1), acceleration_);
    if (n <= 0) return kIncompressible;
    out[0] = id_;
    return n + 1;
  }

  int32_t Decompress(const uint8_t* in, size_t length, uint8_t* out) override {
    if (length < 2 || in[0] != id_) return kDecodeCorrupt;
    int n = LZ4_decompress_safe_usingDict(reinterpret_cast<const char*>(in + 1), reinterpret_cast<char*>(out),
                                          static_cast<int>(length - 1), kPageSize,
                                          reinterpret_cast<const char*>(dict_.data()), static_cast<int>(dict_.size()));
    if (n < 0) return kDecodeCorrupt;
    return n == static_cast<int>(kPageSize) ? n : kDecodeWrongSize;
  }

 private:
  std::vector<uint8_t> dict_;
  LZ4_stream_t loaded_;
  LZ4_stream_t work_;
  int acceleration_;
  uint8_t id_;
};

}  // namespace

std::unique_ptr<PageCodec> MakeLz4DictCodec(const uint8_t* dict, size_t dict_size, int acceleration, uint8_t id,
                                            std::string* error) {
  if (id == 0) {
    *error = "an lz4 dictionary needs an id in 1..255";
    return nullptr;
  }
  return std::make_unique<Lz4DictCodec>(dict, dict_size, acceleration < 1 ? 1 : acceleration, id);
}

}  // namespace zstash
