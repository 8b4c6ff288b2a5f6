// The per-batch loop: one native call compresses up to a batch of pages, so the
// JS<->native crossing is paid once per batch, not once per page.
#pragma once
#include "../codecs/codec.h"

namespace zstash {

struct CompressBatchArgs {
  const uint8_t* src;      // count pages, contiguous
  uint8_t* dst;            // count output slots of kPageSize bytes each
  int32_t* status;         // count results: length, or a PageStatus
  size_t count;
  size_t threshold;        // largest accepted compressed length
  bool detect_same_filled;
};

void CompressBatch(PageCodec& codec, const CompressBatchArgs& args);

}  // namespace zstash
