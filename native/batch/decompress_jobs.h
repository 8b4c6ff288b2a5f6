// Decompress jobs name objects by [arena, offset, length, dstPage]. The arena
// table and the bounds check are shared by the CPU codec batch and the device
// engines, so a job from JS can never point outside an arena or the destination.
#pragma once
#include <napi.h>
#include <cstdint>
#include <vector>
#include "../addon/typed_views.h"
#include "../common/page.h"

namespace zstash {

struct ArenaTable {
  std::vector<std::pair<const uint8_t*, size_t>> spans;

  // Reads a JS array of arena views; a hole (a released arena) stays empty and
  // fails every job that names it. `keep` sees each view that was taken.
  template <typename Keep>
  static ArenaTable FromJs(Napi::Env env, const Napi::Array& views, Keep keep) {
    ArenaTable t;
    t.spans.assign(views.Length(), {nullptr, 0});
    for (uint32_t i = 0; i < views.Length(); i++) {
      Napi::Value a = views.Get(i);
      if (env.IsExceptionPending()) break;  // a getter threw: the caller returns it
      uint8_t* data;
      size_t bytes, elem;
      if (!a.IsTypedArray() || !TypedArrayBytes(env, a, &data, &bytes, &elem)) continue;
      t.spans[i] = {data, bytes};
      keep(a);
    }
    return t;
  }

  // The source bytes of a job, or nullptr when it is out of range.
  const uint8_t* Resolve(const int32_t* job, size_t dst_pages) const {
    uint32_t arena = job[0], off = job[1], len = job[2], page = job[3];
    if (arena >= spans.size() || !spans[arena].first || off > spans[arena].second ||
        len > spans[arena].second - off || page >= dst_pages) {
      return nullptr;
    }
    return spans[arena].first + off;
  }
};

}  // namespace zstash
