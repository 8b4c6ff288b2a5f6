// Argument checking for every native entry point. node-addon-api aborts the
// process when code throws while an exception is already pending, so an entry
// point must throw at most once: Args records the first failure, throws it,
// and turns every later read into a no-op. Read all arguments, then test ok().
#pragma once
#include <napi.h>
#include <cmath>
#include <cstdint>
#include <string>
#include "typed_views.h"

namespace zstash {

// Throws `message` as a TypeError/RangeError unless an exception is already pending.
inline void ThrowOnce(Napi::Env env, const std::string& message, bool range = false) {
  if (env.IsExceptionPending()) return;
  if (range) Napi::RangeError::New(env, message).ThrowAsJavaScriptException();
  else Napi::TypeError::New(env, message).ThrowAsJavaScriptException();
}

// Wrapped native objects are type-tagged at construction, and every method
// checks the tag of `this`: calling one class's method on another class's
// object (Codec.prototype.decompress.call(engine)) must throw, not reinterpret.
inline void TagThis(const Napi::CallbackInfo& info, const napi_type_tag* tag) {
  info.This().As<Napi::Object>().TypeTag(tag);
}

inline bool ThisIs(const Napi::CallbackInfo& info, const napi_type_tag* tag, const char* cls) {
  Napi::Value self = info.This();
  if (self.IsObject() && self.As<Napi::Object>().CheckTypeTag(tag)) return true;
  ThrowOnce(info.Env(), std::string("method called on an object that is not a ") + cls);
  return false;
}

class Args {
 public:
  Args(const Napi::CallbackInfo& info, const char* fn) : info_(info), env_(info.Env()), fn_(fn) {
    if (env_.IsExceptionPending()) failed_ = true;
  }

  bool ok() const { return !failed_ && !env_.IsExceptionPending(); }
  size_t length() const { return info_.Length(); }

  // An integer in [min, max]; fractional, NaN and non-numbers are type errors.
  int64_t Int(size_t i, const char* name, int64_t min, int64_t max) {
    if (failed_) return 0;
    Napi::Value v = info_[i];
    if (!v.IsNumber()) return Fail(std::string(name) + " must be a number"), 0;
    double d = v.As<Napi::Number>().DoubleValue();
    if (!std::isfinite(d) || std::floor(d) != d) return Fail(std::string(name) + " must be an integer"), 0;
    if (d < static_cast<double>(min) || d > static_cast<double>(max)) {
      return Fail(std::string(name) + " is out of range", true), 0;
    }
    return static_cast<int64_t>(d);
  }

  // A non-negative size that fits a buffer index.
  size_t Size(size_t i, const char* name, size_t max = (size_t{1} << 40)) {
    return static_cast<size_t>(Int(i, name, 0, static_cast<int64_t>(max)));
  }

  bool Bool(size_t i) { return failed_ ? false : info_[i].ToBoolean().Value(); }

  // A typed-array view of `count` elements of T from element `first`, bounds-checked.
  template <typename T>
  T* View(size_t i, const char* name, size_t first, size_t count) {
    if (failed_) return nullptr;
    T* p = CheckedView<T>(env_, info_[i], first, count, name);
    if (!p) failed_ = true;
    return p;
  }

  // A whole typed array of T elements; *count receives its length in elements.
  template <typename T>
  T* ViewAll(size_t i, const char* name, size_t* count) {
    *count = 0;
    if (failed_) return nullptr;
    uint8_t* data = nullptr;
    size_t bytes = 0, elem = 0;
    if (!info_[i].IsTypedArray() || !TypedArrayBytes(env_, info_[i], &data, &bytes, &elem)) {
      return Fail(std::string(name) + " must be a typed array"), nullptr;
    }
    if (elem != sizeof(T)) return Fail(std::string(name) + " has the wrong element type"), nullptr;
    static T empty[1];
    *count = bytes / sizeof(T);
    return data ? reinterpret_cast<T*>(data) : empty;
  }

  // Data and byte length of any typed array (the caller checks ranges).
  uint8_t* Bytes(size_t i, const char* name, size_t* bytes) {
    *bytes = 0;
    if (failed_) return nullptr;
    uint8_t* data = nullptr;
    size_t elem = 0;
    if (!info_[i].IsTypedArray() || !TypedArrayBytes(env_, info_[i], &data, bytes, &elem)) {
      return Fail(std::string(name) + " must be a typed array"), nullptr;
    }
    static uint8_t empty[1];
    return data ? data : empty;
  }

  // True when argument i is absent, undefined or null.
  bool Missing(size_t i) const { return i >= info_.Length() || info_[i].IsUndefined() || info_[i].IsNull(); }

  Napi::Value Get(size_t i) const { return info_[i]; }

  void Fail(const std::string& message, bool range = false) {
    if (failed_) return;
    failed_ = true;
    ThrowOnce(env_, std::string(fn_) + ": " + message, range);
  }

 private:
  const Napi::CallbackInfo& info_;
  Napi::Env env_;
  const char* fn_;
  bool failed_ = false;
};

}  // namespace zstash
