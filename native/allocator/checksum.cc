#include "checksum.h"
#include <isa-l/crc.h>
#include <xxhash.h>

namespace zstash::alloc {

uint32_t Checksum(ChecksumKind kind, const uint8_t* data, size_t length) {
  switch (kind) {
    case ChecksumKind::kCrc32c:
      return crc32_iscsi(const_cast<uint8_t*>(data), static_cast<int>(length), 0xffffffffu);
    case ChecksumKind::kXxh3:
      return static_cast<uint32_t>(XXH3_64bits(data, length));
    case ChecksumKind::kNone:
      break;
  }
  return 0;
}

}  // namespace zstash::alloc
