// Page helpers that are cheaper in C++ than in JS: fill a page from its fill
// word (same-filled loads), and detect one (used by tests and the raw path).
#include <napi.h>
#include <cstring>
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

// memcpy between any two typed arrays. V8's TypedArray.prototype.set costs
// ~0.9 us for a 1.5 KB object on this machine (subarray + copy, and a slower
// path into SharedArrayBuffers); one N-API call is ~0.1 us plus the copy.
Napi::Value CopyBytesJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t length = IntArg(info, 4);
  uint8_t* dst = CheckedView<uint8_t>(env, info[0], IntArg(info, 1), length, "dst");
  if (!dst) return env.Undefined();
  const uint8_t* src = CheckedView<uint8_t>(env, info[2], IntArg(info, 3), length, "src");
  if (!src) return env.Undefined();
  std::memmove(dst, src, length);
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
