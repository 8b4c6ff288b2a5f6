// Argument helpers: typed-array views checked against the ranges the caller asks
// for, so a bad offset from JS becomes a RangeError instead of a stray write.
#pragma once
#include <napi.h>
#include <cstdint>

namespace zstash {

// Data pointer and byte length of any typed array, SharedArrayBuffer-backed ones
// included (Napi::ArrayBuffer::Data() rejects a SharedArrayBuffer).
inline bool TypedArrayBytes(napi_env env, napi_value value, uint8_t** data, size_t* byte_length, size_t* element_size) {
  napi_typedarray_type type;
  size_t length;
  void* ptr = nullptr;
  if (napi_get_typedarray_info(env, value, &type, &length, &ptr, nullptr, nullptr) != napi_ok) return false;
  size_t elem = 1;
  switch (type) {
    case napi_int16_array: case napi_uint16_array: elem = 2; break;
    case napi_int32_array: case napi_uint32_array: case napi_float32_array: elem = 4; break;
    case napi_float64_array: case napi_bigint64_array: case napi_biguint64_array: elem = 8; break;
    default: elem = 1;
  }
  *data = static_cast<uint8_t*>(ptr);
  *byte_length = length * elem;
  *element_size = elem;
  return true;
}

template <typename T>
inline T* CheckedView(const Napi::Env& env, const Napi::Value& v, size_t first, size_t count, const char* what) {
  if (!v.IsTypedArray()) {
    Napi::TypeError::New(env, std::string(what) + " must be a typed array").ThrowAsJavaScriptException();
    return nullptr;
  }
  uint8_t* base = nullptr;
  size_t length_bytes = 0, elem = 0;
  if (!TypedArrayBytes(env, v, &base, &length_bytes, &elem)) {
    Napi::TypeError::New(env, std::string(what) + " is not a readable typed array").ThrowAsJavaScriptException();
    return nullptr;
  }
  if (elem != sizeof(T) && !(sizeof(T) == 1)) {
    Napi::TypeError::New(env, std::string(what) + " has the wrong element type").ThrowAsJavaScriptException();
    return nullptr;
  }
  size_t unit = sizeof(T);
  if (first > length_bytes / unit || count > length_bytes / unit - first) {
    Napi::RangeError::New(env, std::string(what) + " is too short for the requested range")
        .ThrowAsJavaScriptException();
    return nullptr;
  }
  // An empty (or detached) array has no data pointer; a zero-length range of it is
  // still a valid argument, so hand out a pointer that is never dereferenced.
  static T empty[1];
  if (!base) return empty;
  return reinterpret_cast<T*>(base) + first;
}

inline int64_t IntArg(const Napi::CallbackInfo& info, size_t i) {
  return info[i].As<Napi::Number>().Int64Value();
}

}  // namespace zstash
