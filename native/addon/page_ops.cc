// Page helpers that are cheaper in C++ than in JS: fill a page from its fill
// word (same-filled loads) and copy a folio's objects into the pool.
#include <napi.h>
#include <cstring>
#include <string>
#include "../common/same_filled.h"
#include "typed_views.h"

namespace zstash {

Napi::Value FillPageJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint8_t* dst = CheckedView<uint8_t>(env, info[0], IntArg(info, 1), kPageSize, "dst");
  if (!dst) return env.Undefined();
  uint64_t lo = info[2].As<Napi::Number>().Uint32Value(), hi = info[3].As<Napi::Number>().Uint32Value();
  FillPage(dst, lo | (hi << 32));
  return env.Undefined();
}

// copyObjects(arenas, plan, count, src): for each job [arena, dstOffset,
// srcOffset, length] copies src[srcOffset, +length) into arenas[arena] at
// dstOffset. One call per folio instead of a typed-array view and set() per
// stored page.
Napi::Value CopyObjectsJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsArray()) {
    Napi::TypeError::New(env, "copyObjects(arenas[], plan, count, src)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto arenas = info[0].As<Napi::Array>();
  size_t count = IntArg(info, 2);
  const int32_t* plan = CheckedView<int32_t>(env, info[1], 0, count * 4, "plan");
  if (!plan) return env.Undefined();
  uint8_t* src;
  size_t src_bytes, elem;
  if (!TypedArrayBytes(env, info[3], &src, &src_bytes, &elem)) {
    Napi::TypeError::New(env, "src must be a typed array").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int32_t cached_index = -1;
  uint8_t* arena = nullptr;
  size_t arena_bytes = 0;
  for (size_t i = 0; i < count; i++) {
    const int32_t* j = plan + i * 4;
    if (j[0] != cached_index) {
      Napi::Value a = arenas.Get(static_cast<uint32_t>(j[0]));
      if (!TypedArrayBytes(env, a, &arena, &arena_bytes, &elem)) {
        Napi::RangeError::New(env, "copyObjects: no arena " + std::to_string(j[0])).ThrowAsJavaScriptException();
        return env.Undefined();
      }
      cached_index = j[0];
    }
    size_t dst_off = static_cast<uint32_t>(j[1]), src_off = static_cast<uint32_t>(j[2]), len = static_cast<uint32_t>(j[3]);
    if (dst_off > arena_bytes || len > arena_bytes - dst_off || src_off > src_bytes || len > src_bytes - src_off) {
      Napi::RangeError::New(env, "copyObjects: job out of range").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    std::memcpy(arena + dst_off, src + src_off, len);
  }
  return env.Undefined();
}

}  // namespace zstash
