// libFuzzer harness for the page decoders: every codec must turn arbitrary
// bytes into exactly one page or an error code, never read past the input or
// write past one page (AddressSanitizer checks both). The first input byte
// picks the codec, so one corpus covers all five.
// Build and run: scripts/fuzz.sh [seconds]
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>
#include "../codecs/codec.h"

using zstash::PageCodec;

static std::vector<std::unique_ptr<PageCodec>>& Codecs() {
  static std::vector<std::unique_ptr<PageCodec>> codecs = [] {
    std::vector<std::unique_ptr<PageCodec>> v;
    std::string err;
    for (const char* name : {"lz4", "zstd", "deflate", "deflate-4k", "lzo"}) v.push_back(zstash::MakeCodec(name, 1, &err));
    return v;
  }();
  return codecs;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  auto& codecs = Codecs();
  PageCodec& codec = *codecs[data[0] % codecs.size()];
  // Copy into an exact-size heap buffer so ASan catches any overread.
  std::unique_ptr<uint8_t[]> in(new uint8_t[size - 1]);
  std::memcpy(in.get(), data + 1, size - 1);
  std::unique_ptr<uint8_t[]> out(new uint8_t[zstash::kPageSize]);
  int32_t r = codec.Decompress(in.get(), size - 1, out.get());
  if (r != static_cast<int32_t>(zstash::kPageSize) && r != zstash::kDecodeCorrupt && r != zstash::kDecodeWrongSize) __builtin_trap();
  // A stream that decodes must re-encode and decode to the same page.
  if (r == static_cast<int32_t>(zstash::kPageSize)) {
    std::unique_ptr<uint8_t[]> comp(new uint8_t[zstash::kPageSize]);
    int32_t n = codec.Compress(out.get(), comp.get(), zstash::kPageSize);
    if (n > 0) {
      std::unique_ptr<uint8_t[]> back(new uint8_t[zstash::kPageSize]);
      if (codec.Decompress(comp.get(), n, back.get()) != static_cast<int32_t>(zstash::kPageSize) ||
          std::memcmp(back.get(), out.get(), zstash::kPageSize) != 0) __builtin_trap();
    }
  }
  return 0;
}
