// JS class DeviceEngine: one opened device with its engine thread. Every call
// that does device work returns a Promise, completed on the JS thread through a
// thread-safe function when the whole batch is done, so the event loop never
// waits on a device.
#pragma once
#include <napi.h>
#include <atomic>
#include <memory>
#include <vector>
#include "batch_engine.h"
#include "../addon/safe_deferred.h"

namespace zstash {

class DeviceEngineObject : public Napi::ObjectWrap<DeviceEngineObject> {
 public:
  struct Message {
    enum Kind { kDone, kRelease, kClosed } kind;
    Batch* batch;
  };
  static void CallJs(Napi::Env env, Napi::Function, DeviceEngineObject* self, Message* message);
  using Tsfn = Napi::TypedThreadSafeFunction<DeviceEngineObject, Message, &DeviceEngineObject::CallJs>;

  static Napi::Function Define(Napi::Env env);
  // new DeviceEngine(external<BatchEngine>): takes ownership of an opened engine.
  explicit DeviceEngineObject(const Napi::CallbackInfo& info);
  ~DeviceEngineObject() override;

 private:
  // compress(pages, count, out, status, threshold, detectSameFilled) -> Promise<void>
  Napi::Value Compress(const Napi::CallbackInfo& info);
  // decompress(arenas[], jobs Int32Array [arena, offset, length, dstPage]*, count, dst, status) -> Promise<void>
  Napi::Value Decompress(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  Napi::Value Submit(Napi::Env env, Batch* batch);
  void Post(Message::Kind kind, Batch* batch);
  void OnDone(Napi::Env env, Batch* batch);
  void OnClosed(Napi::Env env);

  std::unique_ptr<BatchEngine> engine_;
  Tsfn tsfn_;
  bool tsfn_live_ = false;
  size_t outstanding_ = 0;
  bool close_requested_ = false;
  bool closed_ = false;
  std::atomic<bool> finalizing_{false};  // read by the engine thread
  std::vector<SafeDeferred> close_waiters_;
};

// openDevice(options) -> Promise<DeviceEngine>; the device is opened on a
// libuv pool thread (opening DPDK's EAL takes most of a second).
Napi::Value OpenDeviceJs(const Napi::CallbackInfo& info);

}  // namespace zstash
