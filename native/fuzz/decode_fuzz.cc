// libFuzzer harness for the page decoders: every codec must turn arbitrary
// bytes into exactly one page or an error code, never read past the input or
// write past one page (AddressSanitizer checks both). The first input byte
// picks the codec, so one corpus covers all of them: 0-4 the plain codecs,
// 5-7 the dictionary codecs (zstd content-only at level 1, zstd with entropy
// tables at level 9, lz4), with the dictionary in the file $ZSTASH_FUZZ_DICT
// (scripts/fuzz.sh trains one from corpus pages; without it 5-7 are skipped).
// Build and run: scripts/fuzz.sh [seconds]
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>
#include "../codecs/codec.h"
#include "../codecs/dict_codecs.h"

using zstash::PageCodec;

constexpr size_t kSlots = 8;
constexpr uint8_t kDictId = 1;

static std::vector<uint8_t> ReadDictionary() {
  std::vector<uint8_t> dict;
  const char* path = std::getenv("ZSTASH_FUZZ_DICT");
  if (!path) return dict;
  if (FILE* f = std::fopen(path, "rb")) {
    uint8_t buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) dict.insert(dict.end(), buf, buf + n);
    std::fclose(f);
  }
  return dict;
}

static std::vector<std::unique_ptr<PageCodec>>& Codecs() {
  static std::vector<std::unique_ptr<PageCodec>> codecs = [] {
    std::vector<std::unique_ptr<PageCodec>> v;
    std::string err;
    for (const char* name : {"lz4", "zstd", "deflate", "deflate-4k", "lzo"}) v.push_back(zstash::MakeCodec(name, 1, &err));
    std::vector<uint8_t> dict = ReadDictionary();
    if (!dict.empty()) {
      zstash::ZstdDictOptions content, tables;
      content.id = tables.id = kDictId;
      content.tables = zstash::ZstdDictOptions::kSkip;
      tables.tables = zstash::ZstdDictOptions::kUse;
      v.push_back(zstash::MakeZstdDictCodec(dict.data(), dict.size(), 1, content, &err));
      v.push_back(zstash::MakeZstdDictCodec(dict.data(), dict.size(), 9, tables, &err));
      v.push_back(zstash::MakeLz4DictCodec(dict.data(), dict.size(), 1, kDictId, &err));
    }
    v.resize(kSlots);
    return v;
  }();
  return codecs;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  auto& codecs = Codecs();
  PageCodec* codec = codecs[data[0] % kSlots].get();
  if (!codec) return 0;
  // Copy into an exact-size heap buffer so ASan catches any overread.
  std::unique_ptr<uint8_t[]> in(new uint8_t[size - 1]);
  std::memcpy(in.get(), data + 1, size - 1);
  std::unique_ptr<uint8_t[]> out(new uint8_t[zstash::kPageSize]);
  int32_t r = codec->Decompress(in.get(), size - 1, out.get());
  if (r != static_cast<int32_t>(zstash::kPageSize) && r != zstash::kDecodeCorrupt && r != zstash::kDecodeWrongSize) __builtin_trap();
  // A stream that decodes must re-encode and decode to the same page.
  if (r == static_cast<int32_t>(zstash::kPageSize)) {
    std::unique_ptr<uint8_t[]> comp(new uint8_t[zstash::kPageSize]);
    int32_t n = codec->Compress(out.get(), comp.get(), zstash::kPageSize);
    if (n > 0) {
      std::unique_ptr<uint8_t[]> back(new uint8_t[zstash::kPageSize]);
      if (codec->Decompress(comp.get(), n, back.get()) != static_cast<int32_t>(zstash::kPageSize) ||
          std::memcmp(back.get(), out.get(), zstash::kPageSize) != 0) __builtin_trap();
    }
  }
  return 0;
}
