// 32-bit checksums of stored objects, so a load can tell a corrupted object
// from a codec failure. crc32c through ISA-L (crc32_iscsi: SSE4.2/PCLMUL) or
// the low half of xxh3-64 (libxxhash); the benchmark prints the cost of each.
#pragma once
#include <cstddef>
#include <cstdint>

namespace zstash::alloc {

enum class ChecksumKind : uint8_t { kNone = 0, kCrc32c = 1, kXxh3 = 2 };

uint32_t Checksum(ChecksumKind kind, const uint8_t* data, size_t length);

}  // namespace zstash::alloc
