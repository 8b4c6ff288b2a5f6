#include "size_classes.h"
#include <algorithm>
#include <cmath>
#include "../common/page.h"

namespace zstash::alloc {

namespace {

constexpr uint32_t kMinObjects = 4;

double Usage(uint32_t size, uint32_t pages) {
  double bytes = pages * double(kPageSize);
  return std::floor(bytes / size) * size / bytes;
}

// Slab length: the shortest within kUsageTolerance of the best usage (tail waste)
// that holds kMinObjects. Exact best usage picks 16-page slabs for small gains,
// and every class keeps a partly used slab before compaction: measured on the
// node/py corpora, 0.5 % cut the overhead of a fresh full store by ~30 %
// (438 -> 303 B/page, node/lz4) for ≤ 1 B/page more after compaction.
constexpr double kUsageTolerance = 0.005;

uint32_t BestPageCount(uint32_t size, uint32_t max_pages) {
  constexpr double tol = kUsageTolerance;
  double best_usage = 0;
  for (uint32_t pages = 1; pages <= max_pages; pages++) best_usage = std::max(best_usage, Usage(size, pages));
  // The shortest slab within tol of the best usage that holds kMinObjects; else the shortest within tol.
  uint32_t any = 0;
  for (uint32_t pages = 1; pages <= max_pages; pages++) {
    if (Usage(size, pages) + tol + 1e-9 < best_usage) continue;
    if (!any) any = pages;
    if (pages * kPageSize / size >= kMinObjects) return pages;
  }
  return any;
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
