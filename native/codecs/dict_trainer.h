// zstd dictionary training (libzstd's ZDICT) for page samples. Pure C++, no
// N-API: the addon runs it on a libuv pool thread, the fuzzer and tools call it
// directly.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace zstash {

struct TrainOptions {
  enum Algorithm { kFastCover, kCover };
  Algorithm algorithm = kFastCover;
  // COVER segment size and d-mer size; 0 = let ZDICT optimize over k in
  // [50, 2000] (`steps` points) and d in {6, 8}.
  unsigned k = 0, d = 0;
  unsigned steps = 0;      // 0: ZDICT's default (40)
  unsigned f = 0;          // fastCover: log2 of the frequency table (0: 20)
  unsigned accel = 0;      // fastCover: 1..10 (0: 1)
  double split = 0;        // share of samples trained on while optimizing, the rest scored (0: default)
  unsigned threads = 1;    // optimizer threads (when libzstd was built with threads)
  int level = 3;           // the entropy tables are built for this zstd level
  uint32_t dict_id = 0;    // written into the header; 0 = random
};

struct TrainResult {
  std::vector<uint8_t> dictionary;  // empty on failure
  std::string error;                // ZDICT's error name on failure
  unsigned k = 0, d = 0;            // parameters the optimizer chose
};

TrainResult TrainDictionary(const uint8_t* samples, const size_t* sample_sizes, unsigned count, size_t capacity,
                            const TrainOptions& options);

}  // namespace zstash
