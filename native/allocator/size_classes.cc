#include "size_classes.h"
#include <algorithm>
#include <cmath>
#include "../common/page.h"

namespace zstash::alloc {

namespace {

constexpr uint32_t kMinObjects = 4;

uint32_t BestPageCount(uint32_t size, uint32_t max_pages) {
  uint32_t best = 1;
  double best_key = -1;
  for (uint32_t pages = 1; pages <= max_pages; pages++) {
    double bytes = pages * double(kPageSize);
    uint32_t objects = static_cast<uint32_t>(bytes / size);
    double usage = std::round(objects * double(size) / bytes * 1e9) / 1e9;
    double key = usage * 2 + (objects >= kMinObjects ? 1 : 0);  // usage first, then enough objects
    if (key > best_key + 1e-12) {
      best = pages;
      best_key = key;
    }
  }
  return best;
}

}  // namespace

SizeClassTable::SizeClassTable(uint32_t step, uint32_t max_pages) : step_(step) {
  struct Raw { uint32_t size, pages, objects; };
  std::vector<Raw> raw;
  // Slots kMinObjectSize + k * step; the last one is always exactly one page
  // (with a step of 64, 4096 is not on the grid).
  for (uint32_t k = 0;; k++) {
    uint32_t size = std::min<uint32_t>(kMinObjectSize + k * step, kPageSize);
    uint32_t pages = BestPageCount(size, max_pages);
    raw.push_back({size, pages, static_cast<uint32_t>(pages * kPageSize / size)});
    if (size == kPageSize) break;
  }
  // Walk from the largest down so a smaller class can merge into its larger neighbour.
  std::vector<size_t> canonical(raw.size());
  std::vector<SizeClass> reversed;
  for (size_t i = raw.size(); i-- > 0;) {
    const Raw& r = raw[i];
    if (reversed.empty() || reversed.back().pages != r.pages || reversed.back().objects != r.objects) {
      reversed.push_back({r.size, static_cast<uint16_t>(r.pages), static_cast<uint16_t>(r.objects)});
    }
    canonical[i] = reversed.size() - 1;
  }
  classes_.assign(reversed.rbegin(), reversed.rend());
  lookup_.resize(raw.size());
  for (size_t i = 0; i < raw.size(); i++) lookup_[i] = static_cast<uint16_t>(classes_.size() - 1 - canonical[i]);
}

}  // namespace zstash::alloc
