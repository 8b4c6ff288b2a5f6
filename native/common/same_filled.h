// Same-filled detection (zram's page_same_filled): a page whose 64-bit words are
// all equal is stored as that word alone. First, middle and last word are
// compared before the full scan, because most pages that are not same-filled
// differ at one of those three places and the scan is then skipped.
#pragma once
#include <cstring>
#include "page.h"

namespace zstash {

inline bool PageIsSameFilled(const uint8_t* page, uint64_t* fill) {
  uint64_t first, middle, last;
  std::memcpy(&first, page, 8);
  std::memcpy(&middle, page + kPageSize / 2, 8);
  std::memcpy(&last, page + kPageSize - 8, 8);
  if (first != middle || first != last) return false;
  for (size_t off = 8; off < kPageSize; off += 8) {
    uint64_t word;
    std::memcpy(&word, page + off, 8);
    if (word != first) return false;
  }
  *fill = first;
  return true;
}

inline void FillPage(uint8_t* page, uint64_t fill) {
  for (size_t off = 0; off < kPageSize; off += 8) std::memcpy(page + off, &fill, 8);
}

}  // namespace zstash
