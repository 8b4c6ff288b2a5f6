#include "engine_object.h"
#include <cstring>
#include "../addon/args.h"
#include "../batch/decompress_jobs.h"
#include "device_registry.h"
#include "js_options.h"

namespace zstash {
namespace {

constexpr napi_type_tag kEngineTag = {0x7a737461736844ull, 0x456e67696e65ull};

// A batch plus what JS must keep alive for it: its promise and its buffers.
class JsBatch final : public Batch {
 public:
  explicit JsBatch(Napi::Env env) : deferred(SafeDeferred::New(env)) {}
  void Keep(const Napi::Value& v) { refs.push_back(Napi::Persistent(v)); }
  SafeDeferred deferred;
  std::vector<Napi::Reference<Napi::Value>> refs;
};

Napi::Value CodedError(Napi::Env env, const std::string& code, const std::string& message) {
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, code));
  return e.Value();
}

Napi::Value Rejected(Napi::Env env, const std::string& code, const std::string& message) {
  auto d = SafeDeferred::New(env);
  d.Reject(CodedError(env, code, message));
  return d.Promise();
}

Napi::Object CapsObject(Napi::Env env, const DeviceCaps& c) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("name", c.name);
  o.Set("driver", c.driver);
  o.Set("streamFormat", c.stream_format);
  o.Set("path", c.path);
  o.Set("libraryVersion", c.library_version);
  o.Set("notes", c.notes);
  o.Set("maxBatch", Napi::Number::New(env, c.max_batch));
  o.Set("queueDepth", Napi::Number::New(env, c.queue_depth));
  return o;
}

class OpenWorker final : public Napi::AsyncWorker {
 public:
  OpenWorker(Napi::Env env, std::unique_ptr<BatchEngine> engine, DeviceOptions options, Napi::FunctionReference* ctor)
      : Napi::AsyncWorker(env, "zstash-open-device"),
        deferred_(SafeDeferred::New(env)),
        engine_(std::move(engine)),
        options_(std::move(options)),
        ctor_(ctor) {}

  Napi::Value Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    std::string error;
    if (!engine_->Open(options_, &error, &unavailable_)) SetError(error);
  }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::Object obj = ctor_->New({Napi::External<BatchEngine>::New(env, engine_.release())});
    if (env.IsExceptionPending()) {
      deferred_.Reject(env.GetAndClearPendingException().Value());
      return;
    }
    deferred_.Resolve(obj);
  }
  void OnError(const Napi::Error& e) override {
    Napi::Env env = Env();
    deferred_.Reject(CodedError(env, unavailable_ ? "ERR_ZSTASH_BACKEND_UNAVAILABLE" : "ERR_ZSTASH_DEVICE", e.Message()));
  }

 private:
  SafeDeferred deferred_;
  std::unique_ptr<BatchEngine> engine_;
  DeviceOptions options_;
  Napi::FunctionReference* ctor_;
  bool unavailable_ = false;
};

}  // namespace

Napi::Function DeviceEngineObject::Define(Napi::Env env) {
  return DefineClass(env, "DeviceEngine",
                     {
                         InstanceMethod<&DeviceEngineObject::Compress>("compress"),
                         InstanceMethod<&DeviceEngineObject::Decompress>("decompress"),
                         InstanceMethod<&DeviceEngineObject::Stats>("stats"),
                         InstanceMethod<&DeviceEngineObject::Close>("close"),
                     });
}

DeviceEngineObject::DeviceEngineObject(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DeviceEngineObject>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsExternal()) {
    ThrowOnce(env, "DeviceEngine is created by openDevice()");
    return;
  }
  TagThis(info, &kEngineTag);
  engine_.reset(info[0].As<Napi::External<BatchEngine>>().Data());
  info.This().As<Napi::Object>().Set("caps", CapsObject(env, engine_->caps()));
  tsfn_ = Tsfn::New(env, "zstash-device", 0, 1, this);
  tsfn_live_ = true;
  // Only pending work keeps the process alive, not an idle open device.
  tsfn_.Unref(env);
  BatchEngine::Callbacks cb;
  cb.done = [this](Batch* b) { Post(Message::kDone, b); };
  cb.release = [this](Batch* b) { Post(Message::kRelease, b); };
  cb.closed = [this] { Post(Message::kClosed, nullptr); };
  engine_->Start(std::move(cb));
}

DeviceEngineObject::~DeviceEngineObject() {
  // Reached only when no batch is outstanding (pending work holds a reference
  // to this object). Late-job releases may still be queued on the TSFN; they
  // do not touch `this`.
  if (engine_ && engine_->running()) {
    finalizing_ = true;
    engine_->RequestClose();
    engine_->Join();
  }
  if (tsfn_live_) tsfn_.Release();
}

void DeviceEngineObject::Post(Message::Kind kind, Batch* batch) {
  if (kind == Message::kClosed && finalizing_) return;  // the destructor is closing
  auto* m = new Message{kind, batch};
  if (tsfn_.NonBlockingCall(m) != napi_ok) delete m;  // the environment is going away
}

void DeviceEngineObject::CallJs(Napi::Env env, Napi::Function, DeviceEngineObject* self, Message* m) {
  std::unique_ptr<Message> message(m);
  if (env == nullptr) return;
  switch (m->kind) {
    case Message::kDone:
      self->OnDone(env, m->batch);
      break;
    case Message::kRelease:
      delete static_cast<JsBatch*>(m->batch);
      break;
    case Message::kClosed:
      self->OnClosed(env);
      break;
  }
}

void DeviceEngineObject::OnDone(Napi::Env env, Batch* batch) {
  auto* b = static_cast<JsBatch*>(batch);
  b->deferred.Resolve(env.Undefined());
  if (b->holds.fetch_sub(1, std::memory_order_acq_rel) == 1) delete b;
  if (--outstanding_ == 0) {
    // A requested close still has its message to deliver.
    if (!close_requested_) tsfn_.Unref(env);
    Unref();
  }
}

void DeviceEngineObject::OnClosed(Napi::Env env) {
  engine_->Join();
  closed_ = true;
  for (auto& d : close_waiters_) d.Resolve(env.Undefined());
  close_waiters_.clear();
  tsfn_.Unref(env);
  Unref();
  tsfn_.Release();
  tsfn_live_ = false;
}

Napi::Value DeviceEngineObject::Submit(Napi::Env env, Batch* batch) {
  auto* b = static_cast<JsBatch*>(batch);
  Napi::Value promise = b->deferred.Promise();
  if (close_requested_ || !engine_->Enqueue(b)) {
    b->deferred.Reject(CodedError(env, "ERR_ZSTASH_CLOSED", "device " + engine_->caps().name + " is closed"));
    delete b;
    return promise;
  }
  if (outstanding_++ == 0) {
    tsfn_.Ref(env);
    Ref();
  }
  return promise;
}

Napi::Value DeviceEngineObject::Compress(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!ThisIs(info, &kEngineTag, "DeviceEngine")) return env.Undefined();
  Args a(info, "compress");
  size_t count = a.Size(1, "count", 1 << 16);
  int64_t threshold = a.Int(4, "threshold", 1, kPageSize);
  const uint8_t* src = a.View<uint8_t>(0, "pages", 0, count * kPageSize);
  uint8_t* out = a.View<uint8_t>(2, "out", 0, count * kPageSize);
  int32_t* status = a.View<int32_t>(3, "status", 0, count);
  bool same_filled = a.Bool(5);
  if (!a.ok()) return env.Undefined();
  auto* b = new JsBatch(env);
  b->op = DeviceOp::kCompress;
  b->threshold = static_cast<uint32_t>(threshold);
  b->detect_same_filled = same_filled;
  b->units.reserve(count);
  for (size_t i = 0; i < count; i++)
    b->units.push_back({src + i * kPageSize, static_cast<uint32_t>(kPageSize), out + i * kPageSize, status + i});
  // The device reads and writes these until the batch is released: the
  // references keep their memory alive (callers pass store-owned buffers).
  b->Keep(info[0]);
  b->Keep(info[2]);
  b->Keep(info[3]);
  return Submit(env, b);
}

Napi::Value DeviceEngineObject::Decompress(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!ThisIs(info, &kEngineTag, "DeviceEngine")) return env.Undefined();
  Args a(info, "decompress");
  if (!info[0].IsArray()) a.Fail("arenas must be an array");
  size_t count = a.Size(2, "count", 1 << 24);
  const int32_t* jobs = a.View<int32_t>(1, "jobs", 0, count * 4);
  size_t dst_bytes = 0;
  uint8_t* dst = a.Bytes(3, "dst", &dst_bytes);
  int32_t* status = a.View<int32_t>(4, "status", 0, count);
  if (!a.ok()) return env.Undefined();
  size_t dst_pages = dst_bytes / kPageSize;
  auto* b = new JsBatch(env);
  // The batch keeps every arena it reads alive until the device completes.
  ArenaTable arenas = ArenaTable::FromJs(env, info[0].As<Napi::Array>(), [b](const Napi::Value& v) { b->Keep(v); });
  if (env.IsExceptionPending()) {
    delete b;
    return env.Undefined();
  }
  b->op = DeviceOp::kDecompress;
  for (size_t i = 0; i < count; i++) {
    const int32_t* j = jobs + i * 4;
    const uint8_t* src = arenas.Resolve(j, dst_pages);
    if (!src) {
      status[i] = kDecodeCorrupt;
      continue;
    }
    b->units.push_back({src, static_cast<uint32_t>(j[2]), dst + static_cast<size_t>(j[3]) * kPageSize, status + i});
  }
  b->Keep(info[3]);
  b->Keep(info[4]);
  return Submit(env, b);
}

Napi::Value DeviceEngineObject::Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!ThisIs(info, &kEngineTag, "DeviceEngine")) return env.Undefined();
  const EngineStats& s = engine_->stats();
  Napi::Object o = Napi::Object::New(env);
  auto put = [&](const char* key, const std::atomic<uint64_t>& v) {
    o.Set(key, Napi::Number::New(env, static_cast<double>(v.load(std::memory_order_relaxed))));
  };
  put("batches", s.batches);
  put("pages", s.pages);
  put("hw_submitted", s.hw_submitted);
  put("hw_completed", s.hw_completed);
  put("busy_retries", s.busy_retries);
  put("sw_fallbacks", s.sw_fallbacks);
  put("raw_pages", s.raw_pages);
  put("device_errors", s.device_errors);
  put("faults", s.faults);
  put("timeouts", s.timeouts);
  put("late_completions", s.late_completions);
  put("bad_lengths", s.bad_lengths);
  put("verify_failures", s.verify_failures);
  put("same_filled", s.same_filled);
  put("decompress_pages", s.decompress_pages);
  put("hw_decompressed", s.hw_decompressed);
  put("decompress_fallbacks", s.decompress_fallbacks);
  return o;
}

Napi::Value DeviceEngineObject::Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!ThisIs(info, &kEngineTag, "DeviceEngine")) return env.Undefined();
  auto d = SafeDeferred::New(env);
  if (closed_) {
    d.Resolve(env.Undefined());
    return d.Promise();
  }
  close_waiters_.push_back(d);
  if (!close_requested_) {
    close_requested_ = true;
    tsfn_.Ref(env);  // the closed message must be delivered
    Ref();
    engine_->RequestClose();
  }
  return d.Promise();
}

Napi::Value OpenDeviceJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) {
    ThrowOnce(env, "openDevice(options: object)");
    return env.Undefined();
  }
  DeviceOptions device;
  EngineOptions engine;
  std::string error;
  if (!ParseDeviceOptions(info[0].As<Napi::Object>(), &device, &engine, &error) || env.IsExceptionPending()) {
    ThrowOnce(env, error);
    return env.Undefined();
  }
  std::unique_ptr<Device> dev = MakeDevice(device.kind, &error);
  if (!dev) return Rejected(env, "ERR_ZSTASH_BACKEND_UNAVAILABLE", error);
  auto* ctor = static_cast<Napi::FunctionReference*>(info.Data());
  auto* worker = new OpenWorker(env, std::make_unique<BatchEngine>(std::move(dev), engine), device, ctor);
  Napi::Value promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace zstash
