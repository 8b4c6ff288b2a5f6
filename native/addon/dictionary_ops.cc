// JS entry points for zstd dictionaries: training on a libuv pool thread, and
// the options that turn a Codec into a dictionary codec. Arguments are checked
// here so nothing from JS reaches ZDICT or libzstd unchecked; the TypeScript
// layer (src/codecs/dictionary.ts) validates first and gives typed errors.
#include "dictionary_ops.h"
#include <limits>
#include <vector>
#include "../codecs/dict_codecs.h"
#include "../codecs/dict_trainer.h"
#include "args.h"
#include "safe_deferred.h"
#include "typed_views.h"
#include <zstd.h>

namespace zstash {
namespace {

constexpr size_t kMinDictionary = 256;                // ZDICT_DICTSIZE_MIN
constexpr size_t kMaxDictionary = 16u << 20;

bool OptionalNumber(const Napi::Object& o, const char* key, double lo, double hi, double* out, std::string* error) {
  Napi::Value v = o.Get(key);
  if (o.Env().IsExceptionPending()) return false;  // a throwing getter: leave its exception
  if (v.IsUndefined()) return true;
  if (!v.IsNumber()) {
    *error = std::string(key) + " must be a number";
    return false;
  }
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= lo && d <= hi)) {
    *error = std::string(key) + " is out of range";
    return false;
  }
  *out = d;
  return true;
}

bool OptionalFlag(const Napi::Object& o, const char* key, bool* out) {
  Napi::Value v = o.Get(key);
  if (o.Env().IsExceptionPending()) return false;
  if (!v.IsUndefined()) *out = v.ToBoolean();
  return !o.Env().IsExceptionPending();
}

// Samples and the trained dictionary live in this object, so the pool thread
// never touches JS memory (the samples are copied before the call returns).
class TrainWorker final : public Napi::AsyncWorker {
 public:
  TrainWorker(Napi::Env env, std::vector<uint8_t> samples, std::vector<size_t> sizes, size_t capacity,
              const TrainOptions& options)
      : Napi::AsyncWorker(env, "zstash:trainDictionary"),
        deferred_(SafeDeferred::New(env)),
        samples_(std::move(samples)),
        sizes_(std::move(sizes)),
        capacity_(capacity),
        options_(options) {}

  Napi::Value Promise() const { return deferred_.Promise(); }

  void Execute() override {
    result_ = TrainDictionary(samples_.data(), sizes_.data(), static_cast<unsigned>(sizes_.size()), capacity_, options_);
    if (result_.dictionary.empty()) SetError("ZDICT: " + result_.error);
  }

  void OnOK() override {
    Napi::Env env = Env();
    auto bytes = Napi::Uint8Array::New(env, result_.dictionary.size());
    std::copy(result_.dictionary.begin(), result_.dictionary.end(), bytes.Data());
    Napi::Object out = Napi::Object::New(env);
    out.Set("dictionary", bytes);
    out.Set("k", Napi::Number::New(env, result_.k));
    out.Set("d", Napi::Number::New(env, result_.d));
    deferred_.Resolve(out);
  }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  SafeDeferred deferred_;
  std::vector<uint8_t> samples_;
  std::vector<size_t> sizes_;
  size_t capacity_;
  TrainOptions options_;
  TrainResult result_;
};

Napi::Value Throw(Napi::Env env, const std::string& message, bool range = false) {
  ThrowOnce(env, message, range);
  return env.Undefined();
}

}  // namespace

std::unique_ptr<PageCodec> MakeDictCodecFromJs(Napi::Env env, const std::string& name, int level,
                                               const Napi::Value& value, std::string* error) {
  if (!value.IsObject()) {
    *error = "codec options must be an object";
    return nullptr;
  }
  Napi::Object o = value.As<Napi::Object>();
  uint8_t* dict = nullptr;
  size_t dict_bytes = 0, elem = 0;
  Napi::Value d = o.Get("dictionary");
  if (env.IsExceptionPending()) return nullptr;
  if (!d.IsTypedArray() || !TypedArrayBytes(env, d, &dict, &dict_bytes, &elem) || elem != 1) {
    *error = "options.dictionary must be a Uint8Array";
    return nullptr;
  }
  if (dict_bytes > kMaxDictionary) {
    *error = "options.dictionary is larger than 16 MiB";
    return nullptr;
  }
  double id = 0;
  if (!OptionalNumber(o, "id", 1, 255, &id, error)) return nullptr;
  if (name == "zstd") {
    ZstdDictOptions z;
    z.id = static_cast<uint8_t>(id);
    Napi::Value tables = o.Get("tables");
    if (env.IsExceptionPending()) return nullptr;
    if (tables.IsBoolean()) z.tables = tables.As<Napi::Boolean>().Value() ? ZstdDictOptions::kUse : ZstdDictOptions::kSkip;
    else if (!tables.IsUndefined() && !(tables.IsString() && tables.As<Napi::String>().Utf8Value() == "auto")) {
      *error = "options.tables must be true, false or 'auto'";
      return nullptr;
    }
    if (!OptionalFlag(o, "dictIdFlag", &z.dict_id_flag) || !OptionalFlag(o, "contentSizeFlag", &z.content_size) ||
        !OptionalFlag(o, "checksumFlag", &z.checksum)) {
      return nullptr;
    }
    return MakeZstdDictCodec(dict, dict_bytes, level, z, error);
  }
  if (name == "lz4") {
    if (dict_bytes == 0 || id == 0) {
      *error = "an lz4 dictionary codec needs a non-empty dictionary and an id in 1..255";
      return nullptr;
    }
    return MakeLz4DictCodec(dict, dict_bytes, level, static_cast<uint8_t>(id), error);
  }
  *error = "codec '" + name + "' has no dictionary form (zstd, lz4 do)";
  return nullptr;
}

Napi::Value TrainDictionaryJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[2].IsNumber() || !info[3].IsObject()) {
    return Throw(env, "trainDictionary(samples: Uint8Array, sampleSizes: Uint32Array, capacity: number, options: object)");
  }
  uint8_t* samples = nullptr;
  uint8_t* sizes_raw = nullptr;
  size_t samples_bytes = 0, sizes_bytes = 0, elem = 0, sizes_elem = 0;
  if (!info[0].IsTypedArray() || !TypedArrayBytes(env, info[0], &samples, &samples_bytes, &elem) || elem != 1) {
    return Throw(env, "samples must be a Uint8Array");
  }
  if (!info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array ||
      !TypedArrayBytes(env, info[1], &sizes_raw, &sizes_bytes, &sizes_elem)) {
    return Throw(env, "sampleSizes must be a Uint32Array");
  }
  const uint32_t* sizes32 = reinterpret_cast<const uint32_t*>(sizes_raw);
  size_t count = sizes_bytes / 4;
  if (count == 0 || count > std::numeric_limits<unsigned>::max()) return Throw(env, "sampleSizes is empty", true);
  std::vector<size_t> sizes(count);
  size_t total = 0;
  for (size_t i = 0; i < count; i++) {
    sizes[i] = sizes32[i];
    total += sizes[i];
  }
  if (total > samples_bytes) return Throw(env, "sampleSizes add up to more than samples holds", true);
  double capacity = info[2].As<Napi::Number>().DoubleValue();
  if (!(capacity >= kMinDictionary && capacity <= kMaxDictionary)) {
    return Throw(env, "capacity must be 256 bytes .. 16 MiB", true);
  }

  Napi::Object o = info[3].As<Napi::Object>();
  TrainOptions t;
  std::string error;
  double k = 0, dmer = 0, steps = 0, f = 0, accel = 0, split = 0, threads = 1, level = 3, id = 0;
  Napi::Value algorithm = o.Get("algorithm");
  if (env.IsExceptionPending()) return env.Undefined();
  if (!algorithm.IsUndefined()) {
    std::string a = algorithm.IsString() ? algorithm.As<Napi::String>().Utf8Value() : "";
    if (a == "cover") t.algorithm = TrainOptions::kCover;
    else if (a != "fastcover") return Throw(env, "algorithm must be 'fastcover' or 'cover'");
  }
  if (!OptionalNumber(o, "k", 0, 1 << 20, &k, &error) || !OptionalNumber(o, "d", 0, 32, &dmer, &error) ||
      !OptionalNumber(o, "steps", 0, 1000, &steps, &error) || !OptionalNumber(o, "f", 0, 31, &f, &error) ||
      !OptionalNumber(o, "accel", 0, 10, &accel, &error) || !OptionalNumber(o, "split", 0, 1, &split, &error) ||
      !OptionalNumber(o, "threads", 1, 64, &threads, &error) || !OptionalNumber(o, "level", -7, 22, &level, &error) ||
      !OptionalNumber(o, "dictId", 0, 4294967295.0, &id, &error)) {
    return Throw(env, error.empty() ? "bad trainDictionary options" : error, true);
  }
  if (k && dmer > k) return Throw(env, "d must not exceed k", true);
  t.k = static_cast<unsigned>(k);
  t.d = static_cast<unsigned>(dmer);
  t.steps = static_cast<unsigned>(steps);
  t.f = static_cast<unsigned>(f);
  t.accel = static_cast<unsigned>(accel);
  t.split = split;
  t.threads = static_cast<unsigned>(threads);
  t.level = static_cast<int>(level);
  t.dict_id = static_cast<uint32_t>(id);

  // Copied before returning: the caller may reuse its buffers while training runs.
  std::vector<uint8_t> copy(samples, samples + total);
  auto* worker = new TrainWorker(env, std::move(copy), std::move(sizes), static_cast<size_t>(capacity), t);
  Napi::Value promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value DictionaryIdJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint8_t* dict = nullptr;
  size_t bytes = 0, elem = 0;
  if (info.Length() < 1 || !info[0].IsTypedArray() || !TypedArrayBytes(env, info[0], &dict, &bytes, &elem) || elem != 1) {
    return Throw(env, "dictionaryId(dict: Uint8Array)");
  }
  return Napi::Number::New(env, ZstdDictionaryId(dict, bytes));
}

}  // namespace zstash

namespace zstash {

Napi::Value DictionaryUsesTablesJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber()) {
    return Throw(env, "dictionaryUsesTables(level: number, dictionaryBytes: number)");
  }
  int level = info[0].As<Napi::Number>().Int32Value();
  if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel()) return Throw(env, "zstd level out of range", true);
  return Napi::Boolean::New(env, ZstdDictUsesTables(level, static_cast<size_t>(info[1].As<Napi::Number>().Uint32Value())));
}

}  // namespace zstash
