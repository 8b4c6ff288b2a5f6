// Page-granular memory for slabs: one reservation of address space (mmap,
// MAP_NORESERVE) handing out runs of 1..kMaxRun contiguous pages. The region is never
// unmapped while the pool lives: a reader racing a free (a caller bug) reads
// stale bytes or zeros, it cannot fault.
//
// Freed runs stay resident in a cache and are handed out again first; only
// when the cache overflows (and on Trim) do they go back to the kernel, all at
// once with adjacent runs coalesced. zsmalloc takes and frees pages through the
// buddy allocator at no such cost; a userspace pool pays a syscall and a TLB
// shootdown to return a page and a fault to touch it again. On the 2-vCPU
// development VM (shadow paging) we measured 115-270 µs per madvise and
// 20-60 µs per first touch of a page, against ~6 µs to lz4 one page: keeping
// freed pages resident is what makes steady-state stores run at codec speed.
//
// Native memory rather than SharedArrayBuffers: JS never touches object bytes
// (compress, decompress and copies are native calls), so worker threads need
// only the pool's id, not views of arenas; and one flat region makes a handle's
// address one multiply-add.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>
#include "virtual_array.h"

namespace zstash::alloc {

class PageRegion {
 public:
  static constexpr uint32_t kNoRun = UINT32_MAX;
  static constexpr uint32_t kMaxRun = 32;

  PageRegion() = default;
  PageRegion(const PageRegion&) = delete;
  PageRegion& operator=(const PageRegion&) = delete;
  ~PageRegion();

  bool Reserve(size_t pages);

  // First page of a free run of `pages` pages, or kNoRun when the region is full.
  uint32_t AllocRun(uint32_t pages);
  // Keeps the run resident for reuse; `cache_cap` bounds cached pages (the excess is released).
  void FreeRun(uint32_t first, uint32_t pages, size_t cache_cap);
  // Returns every cached page to the kernel.
  void Trim();
  size_t cached_pages() const { return cached_; }

  uint8_t* base() const { return base_; }
  size_t pages() const { return pages_; }
  size_t pages_in_use() const { return in_use_; }
  // Highest page ever handed out + 1 (the bitmap's touched extent).
  size_t high_water() const { return high_water_; }
  size_t MetadataBytes() const { return VirtualArray<uint64_t>::TouchedBytes((high_water_ + 63) / 64); }

 private:
  bool Used(size_t p) const { return (bits_[p >> 6] >> (p & 63)) & 1; }
  void Mark(size_t first, size_t n, bool used);
  uint32_t SearchRun(uint32_t pages);
  void Release(uint32_t first, uint32_t pages);

  // Cached runs by length (index = pages - 1), LIFO: the most recently freed
  // (warmest) run goes out first. Cached pages stay marked used in the bitmap.
  std::vector<uint32_t> cache_[kMaxRun];
  size_t cached_ = 0;

  uint8_t* base_ = nullptr;
  size_t pages_ = 0;
  size_t in_use_ = 0;
  size_t high_water_ = 0;
  // Lowest page that may be free: first fit searches from here.
  size_t hint_ = 0;
  VirtualArray<uint64_t> bits_;
};

}  // namespace zstash::alloc
