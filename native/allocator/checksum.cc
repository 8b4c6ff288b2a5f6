#include "checksum.h"
#include "../common/checksum.h"
#include <xxhash.h>

namespace zstash::alloc {

uint32_t Checksum(ChecksumKind kind, const uint8_t* data, size_t length) {
  switch (kind) {
    case ChecksumKind::kCrc32c:
      // The store's one CRC32C (native/common/checksum.h): sums stay comparable with checkObjects.
      return ObjectChecksum(data, length);
    case ChecksumKind::kXxh3:
      return static_cast<uint32_t>(XXH3_64bits(data, length));
    case ChecksumKind::kNone:
      break;
  }
  return 0;
}

}  // namespace zstash::alloc
