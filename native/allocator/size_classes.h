// zsmalloc's size classes: slots from 32 B to one page in `step`-byte steps.
// Each class carves slabs of 1..max_pages contiguous pages: the shortest whose
// tail waste is within 0.5 % of the least (holding at least four objects when
// it can); adjacent classes with the same slab geometry are merged into the
// larger one, so a merged object costs rounding but no extra partly used slab.
// The rules of src/allocator/size-classes.ts, with the step and the longest
// slab as parameters so the benchmark can sweep them.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace zstash::alloc {

constexpr uint32_t kMinObjectSize = 32;
// Longest slab (zsmalloc's CONFIG_ZSMALLOC_CHAIN_SIZE goes to 16): 32 B objects
// in 32 pages make 4096 slots, so slot indexes fit in 12 bits.
constexpr uint32_t kMaxPagesPerSlab = 32;
constexpr uint32_t kMaxObjectsPerSlab = kMaxPagesPerSlab * 4096 / kMinObjectSize;

struct SizeClass {
  uint32_t size;
  uint16_t pages;
  uint16_t objects;
};

class SizeClassTable {
 public:
  // step: 8, 16, 32 or 64; max_pages: 1..kMaxPagesPerSlab.
  SizeClassTable(uint32_t step, uint32_t max_pages);

  size_t count() const { return classes_.size(); }
  const SizeClass& at(size_t i) const { return classes_[i]; }
  uint32_t step() const { return step_; }

  // Class of an object of `length` bytes (1..4096).
  uint16_t ClassFor(uint32_t length) const {
    uint32_t slot = length <= kMinObjectSize ? 0 : (length - kMinObjectSize + step_ - 1) / step_;
    return lookup_[slot];
  }

 private:
  uint32_t step_;
  std::vector<SizeClass> classes_;
  std::vector<uint16_t> lookup_;
};

}  // namespace zstash::alloc
