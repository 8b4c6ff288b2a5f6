#include "js_options.h"

namespace zstash {
namespace {

class Reader {
 public:
  Reader(const Napi::Object& o, std::string* error) : o_(o), error_(error) {}

  template <typename T>
  void Number(const char* key, T* out) {
    Napi::Value v = o_.Get(key);
    if (v.IsUndefined() || v.IsNull()) return;
    if (!v.IsNumber()) return Bad(key, "a number");
    *out = static_cast<T>(v.As<Napi::Number>().DoubleValue());
  }
  void Bool(const char* key, bool* out) {
    Napi::Value v = o_.Get(key);
    if (v.IsUndefined() || v.IsNull()) return;
    if (!v.IsBoolean()) return Bad(key, "a boolean");
    *out = v.As<Napi::Boolean>().Value();
  }
  void String(const char* key, std::string* out) {
    Napi::Value v = o_.Get(key);
    if (v.IsUndefined() || v.IsNull()) return;
    if (!v.IsString()) return Bad(key, "a string");
    *out = v.As<Napi::String>().Utf8Value();
  }
  void Strings(const char* key, std::vector<std::string>* out) {
    Napi::Value v = o_.Get(key);
    if (v.IsUndefined() || v.IsNull()) return;
    if (!v.IsArray()) return Bad(key, "an array of strings");
    auto a = v.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) {
      Napi::Value e = a.Get(i);
      if (!e.IsString()) return Bad(key, "an array of strings");
      out->push_back(e.As<Napi::String>().Utf8Value());
    }
  }
  bool ok() const { return error_->empty(); }

 private:
  void Bad(const char* key, const char* what) {
    if (error_->empty()) *error_ = std::string("device option '") + key + "' must be " + what;
  }
  const Napi::Object& o_;
  std::string* error_;
};

}  // namespace

bool ParseDeviceOptions(const Napi::Object& js, DeviceOptions* d, EngineOptions* e, std::string* error) {
  Reader r(js, error);
  r.String("kind", &d->kind);
  r.String("variant", &d->variant);
  r.Number("level", &d->level);
  r.Number("maxBatch", &d->max_batch);
  r.Number("queueDepth", &d->queue_depth);
  r.Strings("ealArgs", &d->eal_args);
  r.Bool("pci", &d->eal_pci);
  r.Bool("hugepages", &d->eal_hugepages);
  r.String("devargs", &d->devargs);
  bool zero_copy = false;
  Napi::Value zc = js.Get("zeroCopy");
  if (zc.IsBoolean()) {
    r.Bool("zeroCopy", &zero_copy);
    d->zero_copy = zero_copy ? 1 : 0;
  }
  r.Bool("dynamicHuffman", &d->dynamic_huffman);
  Napi::Value dh = js.Get("dynamicHuffman");
  d->dynamic_huffman_set = dh.IsBoolean();
  r.Number("engines", &d->engines);
  r.Number("latencyUs", &d->latency_us);
  r.Number("latencyPerKbUs", &d->latency_per_kb_us);
  r.Number("busyRate", &d->busy_rate);
  r.Number("errorRate", &d->error_rate);
  r.Number("faultRate", &d->fault_rate);
  r.Number("lostRate", &d->lost_rate);
  r.Number("wrongLengthRate", &d->wrong_length_rate);
  r.Number("stallRate", &d->stall_rate);
  r.Number("stallUs", &d->stall_us);
  r.Number("seed", &d->seed);
  r.Number("timeoutMs", &e->timeout_ms);
  r.Bool("verify", &e->verify);
  r.Number("busyRetries", &e->busy_retries);
  r.Number("maxPollSleepUs", &e->max_poll_sleep_us);
  e->level = d->level;
  return r.ok();
}

}  // namespace zstash
