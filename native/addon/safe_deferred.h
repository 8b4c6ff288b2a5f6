// A promise and its resolver that tolerate a refused creation.
//
// In a worker thread that is being terminated, Node-API refuses to create a
// promise; node-addon-api's Promise::Deferred then keeps uninitialized handles
// and hands one to V8 as the return value: a segfault (found by
// test/helpers/native-terminate.mjs). This one starts empty, stays empty when
// creation fails, and then returns undefined and ignores resolve/reject: the
// thread is going away and nobody can observe the promise.
#pragma once

#include <napi.h>

namespace zstash {

class SafeDeferred {
 public:
  static SafeDeferred New(Napi::Env env) { return SafeDeferred(env); }

  explicit SafeDeferred(napi_env env) : env_(env) {
    if (napi_create_promise(env, &deferred_, &promise_) != napi_ok) {
      deferred_ = nullptr;
      promise_ = nullptr;
    }
  }

  Napi::Env Env() const { return Napi::Env(env_); }
  // A Napi::Value over a null handle is undefined when returned to JS.
  Napi::Value Promise() const { return Napi::Value(env_, promise_); }
  void Resolve(napi_value value) const {
    if (deferred_ != nullptr) napi_resolve_deferred(env_, deferred_, value);
  }
  void Reject(napi_value value) const {
    if (deferred_ != nullptr) napi_reject_deferred(env_, deferred_, value);
  }

 private:
  napi_env env_;
  napi_deferred deferred_ = nullptr;
  napi_value promise_ = nullptr;
};

}  // namespace zstash
