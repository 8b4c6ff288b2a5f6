#include "compress_batch.h"
#include <cstring>
#include "../common/same_filled.h"

namespace zstash {

void CompressBatch(PageCodec& codec, const CompressBatchArgs& a) {
  for (size_t i = 0; i < a.count; i++) {
    const uint8_t* page = a.src + i * kPageSize;
    uint8_t* slot = a.dst + i * kPageSize;
    uint64_t fill;
    if (a.detect_same_filled && PageIsSameFilled(page, &fill)) {
      std::memcpy(slot, &fill, sizeof fill);
      a.status[i] = kSameFilled;
      continue;
    }
    a.status[i] = codec.Compress(page, slot, a.threshold);
  }
}

}  // namespace zstash
