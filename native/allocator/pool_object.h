// JS class `NativePool`: one thread's reference to a pool.
//   new NativePool({ maxBytes, limitBytes, classStep, checksum })  creates a pool (owner thread)
//   new NativePool(id)                                             attaches to pool `id` (any thread)
// The pool lives while any reference does (shared_ptr). A reference ends with
// close(), with the object's finalizer, or with its thread's environment
// (napi env cleanup hook): a worker that is terminated or calls process.exit
// drops its reference and cannot keep the pool, or crash it, afterwards.
#pragma once
#include <napi.h>
#include <memory>
#include "zs_pool.h"

namespace zstash::alloc {

class PoolObject : public Napi::ObjectWrap<PoolObject> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit PoolObject(const Napi::CallbackInfo& info);
  ~PoolObject() override;

  // The pool behind a JS value, or nullptr with a TypeError (not a pool) or an Error (closed) pending.
  static Pool* FromValue(const Napi::Env& env, const Napi::Value& value);

 private:
  Napi::Value Id(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value Reserve(const Napi::CallbackInfo& info);
  Napi::Value Unreserve(const Napi::CallbackInfo& info);
  Napi::Value TotalSize(const Napi::CallbackInfo& info);
  Napi::Value ReservedBytes(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);
  Napi::Value Compact(const Napi::CallbackInfo& info);
  Napi::Value AllocMany(const Napi::CallbackInfo& info);
  Napi::Value SlotRange(const Napi::CallbackInfo& info);
  Napi::Value SizeClasses(const Napi::CallbackInfo& info);
  Pool* Open(const Napi::Env& env);
  static void OnEnvCleanup(void* self);
  void DropReference();

  std::shared_ptr<Pool> pool_;
  uint32_t id_ = 0;
  napi_env env_ = nullptr;
  bool hooked_ = false;
};

}  // namespace zstash::alloc
