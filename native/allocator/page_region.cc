#include "page_region.h"
#include <sys/mman.h>
#include <algorithm>
#include "../common/page.h"

namespace zstash::alloc {

PageRegion::~PageRegion() {
  if (base_) munmap(base_, pages_ * kPageSize);
}

bool PageRegion::Reserve(size_t pages) {
  void* p = mmap(nullptr, pages * kPageSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return false;
  base_ = static_cast<uint8_t*>(p);
  pages_ = pages;
  return bits_.Reserve((pages + 63) / 64);
}

void PageRegion::Mark(size_t first, size_t n, bool used) {
  for (size_t p = first; p < first + n; p++) {
    uint64_t bit = uint64_t(1) << (p & 63);
    if (used) bits_[p >> 6] |= bit;
    else bits_[p >> 6] &= ~bit;
  }
}

uint32_t PageRegion::AllocRun(uint32_t pages) {
  // A cached run of this length, else a longer one split (the rest stays cached).
  for (uint32_t len = pages; len <= kMaxRun; len++) {
    std::vector<uint32_t>& c = cache_[len - 1];
    if (c.empty()) continue;
    uint32_t first = c.back();
    c.pop_back();
    cached_ -= len;
    if (len > pages) {
      cache_[len - pages - 1].push_back(first + pages);
      cached_ += len - pages;
    }
    in_use_ += pages;
    return first;
  }
  return SearchRun(pages);
}

uint32_t PageRegion::SearchRun(uint32_t pages) {
  // First fit below the high-water mark, skipping full words; else extend it.
  size_t run_start = hint_, run = 0;
  for (size_t p = hint_; p < high_water_;) {
    if ((p & 63) == 0 && bits_[p >> 6] == ~uint64_t(0)) {
      p += 64;
      run = 0;
      run_start = p;
      continue;
    }
    if (Used(p)) {
      run = 0;
      run_start = ++p;
      continue;
    }
    if (++run == pages) break;
    p++;
  }
  if (run != pages) {
    // The tail of a partial run at the high-water mark is extended in place.
    if (run_start + pages > pages_) return kNoRun;
    high_water_ = run_start + pages;
  }
  Mark(run_start, pages, true);
  in_use_ += pages;
  if (run_start == hint_) {
    size_t h = run_start + pages;
    while (h < high_water_ && Used(h)) h++;
    hint_ = h;
  }
  return static_cast<uint32_t>(run_start);
}

void PageRegion::FreeRun(uint32_t first, uint32_t pages, size_t cache_cap) {
  in_use_ -= pages;
  cache_[pages - 1].push_back(first);
  cached_ += pages;
  // Over the cap: release the whole cache at once, adjacent runs coalesced, so
  // a shrinking pool pays one shootdown per contiguous range, not per slab.
  if (cached_ > cache_cap) Trim();
}

void PageRegion::Trim() {
  // Adjacent cached runs are released as one range: one TLB shootdown each.
  std::vector<std::pair<uint32_t, uint32_t>> runs;
  for (uint32_t len = 1; len <= kMaxRun; len++) {
    for (uint32_t first : cache_[len - 1]) runs.emplace_back(first, len);
    cache_[len - 1].clear();
  }
  cached_ = 0;
  std::sort(runs.begin(), runs.end());
  for (size_t i = 0; i < runs.size();) {
    uint32_t first = runs[i].first, end = first + runs[i].second;
    for (i++; i < runs.size() && runs[i].first == end; i++) end += runs[i].second;
    Release(first, end - first);
  }
}

void PageRegion::Release(uint32_t first, uint32_t pages) {
  Mark(first, pages, false);
  if (first < hint_) hint_ = first;
  madvise(base_ + size_t(first) * kPageSize, size_t(pages) * kPageSize, MADV_DONTNEED);
}

}  // namespace zstash::alloc
