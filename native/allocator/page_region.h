// Page-granular memory for slabs: one reservation of address space (mmap,
// MAP_NORESERVE) handing out runs of 1..8 contiguous pages. A freed run is
// returned to the kernel at once (MADV_DONTNEED), so pool_total_size is what
// the pool holds. The region is never unmapped while the pool lives: a reader
// racing a free (a caller bug) reads zeros, it cannot fault.
//
// Native memory rather than SharedArrayBuffers: JS never touches object bytes
// (compress, decompress and copies are native calls), so worker threads need
// only the pool's id, not views of arenas; and one flat region makes a handle's
// address one multiply-add.
#pragma once
#include <cstddef>
#include <cstdint>
#include "virtual_array.h"

namespace zstash::alloc {

class PageRegion {
 public:
  static constexpr uint32_t kNoRun = UINT32_MAX;

  PageRegion() = default;
  PageRegion(const PageRegion&) = delete;
  PageRegion& operator=(const PageRegion&) = delete;
  ~PageRegion();

  bool Reserve(size_t pages);

  // First page of a free run of `pages` pages, or kNoRun when the region is full.
  uint32_t AllocRun(uint32_t pages);
  void FreeRun(uint32_t first, uint32_t pages);

  uint8_t* base() const { return base_; }
  size_t pages() const { return pages_; }
  size_t pages_in_use() const { return in_use_; }
  // Highest page ever handed out + 1 (the bitmap's touched extent).
  size_t high_water() const { return high_water_; }
  size_t MetadataBytes() const { return VirtualArray<uint64_t>::TouchedBytes((high_water_ + 63) / 64); }

 private:
  bool Used(size_t p) const { return (bits_[p >> 6] >> (p & 63)) & 1; }
  void Mark(size_t first, size_t n, bool used);

  uint8_t* base_ = nullptr;
  size_t pages_ = 0;
  size_t in_use_ = 0;
  size_t high_water_ = 0;
  // Lowest page that may be free: first fit searches from here.
  size_t hint_ = 0;
  VirtualArray<uint64_t> bits_;
};

}  // namespace zstash::alloc
