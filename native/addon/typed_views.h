// Argument helpers: typed-array views checked against the ranges the caller asks
// for, so a bad offset from JS becomes a RangeError instead of a stray write.
#pragma once
#include <napi.h>
#include <cstdint>

namespace zstash {

template <typename T>
inline T* CheckedView(const Napi::Env& env, const Napi::Value& v, size_t first, size_t count, const char* what) {
  if (!v.IsTypedArray()) {
    Napi::TypeError::New(env, std::string(what) + " must be a typed array").ThrowAsJavaScriptException();
    return nullptr;
  }
  auto ta = v.As<Napi::TypedArray>();
  size_t elem = ta.ElementSize();
  if (elem != sizeof(T) && !(sizeof(T) == 1)) {
    Napi::TypeError::New(env, std::string(what) + " has the wrong element type").ThrowAsJavaScriptException();
    return nullptr;
  }
  size_t length_bytes = ta.ByteLength();
  size_t unit = sizeof(T);
  if (first > length_bytes / unit || count > length_bytes / unit - first) {
    Napi::RangeError::New(env, std::string(what) + " is too short for the requested range")
        .ThrowAsJavaScriptException();
    return nullptr;
  }
  auto* base = static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
  return reinterpret_cast<T*>(base) + first;
}

inline int64_t IntArg(const Napi::CallbackInfo& info, size_t i) {
  return info[i].As<Napi::Number>().Int64Value();
}

}  // namespace zstash
