#include <isa-l.h>
#include <isa-l/igzip_lib.h>
#include <libdeflate.h>
#include <lz4.h>
#include <lzo/lzoconf.h>
#include <zstd.h>
#include "codec.h"

namespace zstash {

std::unique_ptr<PageCodec> MakeLz4Codec(int level);
std::unique_ptr<PageCodec> MakeZstdCodec(int level);
std::unique_ptr<PageCodec> MakeDeflateCodec(int level);
std::unique_ptr<PageCodec> MakeDeflate4kCodec(int level);
std::unique_ptr<PageCodec> MakeLzoCodec();

std::unique_ptr<PageCodec> MakeCodec(const std::string& name, int level, std::string* error) {
  std::unique_ptr<PageCodec> codec;
  if (name == "lz4") codec = MakeLz4Codec(level);
  else if (name == "zstd") codec = MakeZstdCodec(level);
  else if (name == "deflate") codec = MakeDeflateCodec(level);
  else if (name == "deflate-4k") codec = MakeDeflate4kCodec(level);
  else if (name == "lzo") codec = MakeLzoCodec();
  else {
    *error = "unknown codec '" + name + "'";
    return nullptr;
  }
  if (!codec) *error = "codec '" + name + "' rejected level " + std::to_string(level);
  return codec;
}

std::string CodecLibraryVersions() {
  return std::string("lz4 ") + LZ4_versionString() + ", zstd " + ZSTD_versionString() +
         ", libdeflate " + LIBDEFLATE_VERSION_STRING + ", isa-l igzip " + std::to_string(ISAL_MAJOR_VERSION) +
         "." + std::to_string(ISAL_MINOR_VERSION) + ", lzo " + LZO_VERSION_STRING;
}

}  // namespace zstash
