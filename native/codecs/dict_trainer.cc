// The COVER trainers are in ZDICT's "static linking only" section. The addon is
// always compiled from source against the zdict.h of the libzstd it links (one
// Debian package), so the parameter structs match; the runtime version check
// below refuses to use them if another libzstd is loaded at run time, and falls
// back to the stable ZDICT_trainFromBuffer + ZDICT_finalizeDictionary.
#define ZDICT_STATIC_LINKING_ONLY
#include "dict_trainer.h"
#include <zdict.h>
#include <zstd.h>

namespace zstash {
namespace {

bool AdvancedApiMatches() { return ZSTD_versionNumber() == ZSTD_VERSION_NUMBER; }

ZDICT_params_t ZParams(const TrainOptions& o) {
  ZDICT_params_t z{};
  z.compressionLevel = o.level;
  z.dictID = o.dict_id;
  return z;
}

// Stable-API path: train (optimized fastCover, d=8, 4 steps), then rebuild the
// header for our level and id around the trained content.
size_t TrainStable(std::vector<uint8_t>& out, const uint8_t* samples, const size_t* sizes, unsigned count,
                   const TrainOptions& o) {
  std::vector<uint8_t> first(out.size());
  size_t n = ZDICT_trainFromBuffer(first.data(), first.size(), samples, sizes, count);
  if (ZDICT_isError(n)) return n;
  size_t header = ZDICT_getDictHeaderSize(first.data(), n);
  if (ZDICT_isError(header)) return header;
  return ZDICT_finalizeDictionary(out.data(), out.size(), first.data() + header, n - header, samples, sizes, count,
                                  ZParams(o));
}

}  // namespace

TrainResult TrainDictionary(const uint8_t* samples, const size_t* sizes, unsigned count, size_t capacity,
                            const TrainOptions& o) {
  TrainResult r;
  std::vector<uint8_t> out(capacity);
  size_t n;
  if (!AdvancedApiMatches()) {
    n = TrainStable(out, samples, sizes, count, o);
  } else if (o.algorithm == TrainOptions::kCover) {
    ZDICT_cover_params_t p{};
    p.k = o.k;
    p.d = o.d;
    p.steps = o.steps;
    p.nbThreads = o.threads ? o.threads : 1;
    p.splitPoint = o.split;
    p.zParams = ZParams(o);
    n = (p.k && p.d) ? ZDICT_trainFromBuffer_cover(out.data(), out.size(), samples, sizes, count, p)
                     : ZDICT_optimizeTrainFromBuffer_cover(out.data(), out.size(), samples, sizes, count, &p);
    r.k = p.k;
    r.d = p.d;
  } else {
    ZDICT_fastCover_params_t p{};
    p.k = o.k;
    p.d = o.d;
    p.f = o.f;
    p.steps = o.steps;
    p.accel = o.accel;
    p.nbThreads = o.threads ? o.threads : 1;
    p.splitPoint = o.split;
    p.zParams = ZParams(o);
    n = (p.k && p.d) ? ZDICT_trainFromBuffer_fastCover(out.data(), out.size(), samples, sizes, count, p)
                     : ZDICT_optimizeTrainFromBuffer_fastCover(out.data(), out.size(), samples, sizes, count, &p);
    r.k = p.k;
    r.d = p.d;
  }
  if (ZDICT_isError(n)) {
    r.error = ZDICT_getErrorName(n);
    return r;
  }
  out.resize(n);
  r.dictionary = std::move(out);
  return r;
}

}  // namespace zstash
