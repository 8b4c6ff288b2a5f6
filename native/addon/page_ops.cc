// Page helpers that are cheaper in C++ than in JS: fill a page from its fill
// word (same-filled loads), and detect one (used by tests and the raw path).
#include <napi.h>
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

Napi::Value SameFilledWordJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const uint8_t* src = CheckedView<uint8_t>(env, info[0], IntArg(info, 1), kPageSize, "src");
  if (!src) return env.Undefined();
  uint64_t fill;
  if (!PageIsSameFilled(src, &fill)) return env.Null();
  return Napi::BigInt::New(env, static_cast<uint64_t>(fill));
}

}  // namespace zstash
