// Strict argument readers for the pool entry points: a wrong type is a
// TypeError, a non-integer or out-of-range number a RangeError, always before
// any memory is touched. Each returns false with the JS exception pending.
#pragma once
#include <napi.h>
#include <cmath>
#include <cstdint>
#include <string>
#include "../addon/typed_views.h"

namespace zstash::alloc {

inline bool ThrowType(const Napi::Env& env, const std::string& msg) {
  Napi::TypeError::New(env, msg).ThrowAsJavaScriptException();
  return false;
}
inline bool ThrowRange(const Napi::Env& env, const std::string& msg) {
  Napi::RangeError::New(env, msg).ThrowAsJavaScriptException();
  return false;
}

inline bool UintArg(const Napi::CallbackInfo& info, size_t i, const char* name, uint64_t max, uint64_t* out) {
  Napi::Env env = info.Env();
  if (i >= info.Length() || !info[i].IsNumber()) return ThrowType(env, std::string(name) + " must be a number");
  double v = info[i].As<Napi::Number>().DoubleValue();
  if (!(v >= 0) || v != std::floor(v) || v > double(max)) {
    return ThrowRange(env, std::string(name) + " must be an integer in 0.." + std::to_string(max));
  }
  *out = static_cast<uint64_t>(v);
  return true;
}

inline const char* TypeName(napi_typedarray_type type) {
  switch (type) {
    case napi_uint8_array: return "Uint8Array";
    case napi_int32_array: return "Int32Array";
    case napi_uint32_array: return "Uint32Array";
    default: return "typed array";
  }
}

// A typed array whose element type is exactly T's (Int32Array for int32_t,
// Uint32Array for uint32_t, Uint8Array for uint8_t), holding [first, first + count).
template <typename T>
inline T* ArrayArg(const Napi::CallbackInfo& info, size_t i, const char* name, napi_typedarray_type type,
                   size_t first, size_t count) {
  Napi::Env env = info.Env();
  if (i >= info.Length() || !info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != type) {
    ThrowType(env, std::string(name) + " must be a " + TypeName(type));
    return nullptr;
  }
  return CheckedView<T>(env, info[i], first, count, name);
}

inline bool IsAbsent(const Napi::CallbackInfo& info, size_t i) {
  return i >= info.Length() || info[i].IsUndefined() || info[i].IsNull();
}

}  // namespace zstash::alloc
