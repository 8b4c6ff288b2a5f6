#include "codec_object.h"
#include <vector>
#include "../batch/compress_batch.h"
#include "../batch/decompress_jobs.h"
#include "typed_views.h"

namespace zstash {

namespace {
const napi_type_tag kCodecTag = {0x7a73746173686331ULL, 0x636f646563303031ULL};
}

Napi::Function CodecObject::Define(Napi::Env env) {
  return DefineClass(env, "Codec",
                     {
                         InstanceMethod<&CodecObject::CompressBatch>("compressBatch"),
                         InstanceMethod<&CodecObject::Decompress>("decompress"),
                         InstanceMethod<&CodecObject::DecompressBatch>("decompressBatch"),
                     });
}

CodecObject::CodecObject(const Napi::CallbackInfo& info) : Napi::ObjectWrap<CodecObject>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsNumber()) {
    Napi::TypeError::New(env, "new Codec(name: string, level: number)").ThrowAsJavaScriptException();
    return;
  }
  std::string error;
  codec_ = MakeCodec(info[0].As<Napi::String>().Utf8Value(), info[1].As<Napi::Number>().Int32Value(), &error);
  if (!codec_) {
    Napi::Error::New(env, error).ThrowAsJavaScriptException();
    return;
  }
  napi_type_tag_object(env, info.This(), &kCodecTag);
}

PageCodec* CodecObject::FromValue(const Napi::Env& env, const Napi::Value& value) {
  bool tagged = false;
  if (!value.IsObject() || napi_check_object_type_tag(env, value, &kCodecTag, &tagged) != napi_ok || !tagged) {
    Napi::TypeError::New(env, "codec must be a Codec").ThrowAsJavaScriptException();
    return nullptr;
  }
  CodecObject* self = Unwrap(value.As<Napi::Object>());
  return self ? self->codec_.get() : nullptr;
}

Napi::Value CodecObject::CompressBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 10) {
    Napi::TypeError::New(env, "compressBatch needs 10 arguments").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  size_t src_page = IntArg(info, 1), count = IntArg(info, 2), dst_page = IntArg(info, 4);
  size_t status_index = IntArg(info, 6);
  int64_t threshold = IntArg(info, 7);
  if (threshold < 1 || threshold > static_cast<int64_t>(kPageSize)) {
    Napi::RangeError::New(env, "threshold out of range").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  CompressBatchArgs args;
  args.src = CheckedView<uint8_t>(env, info[0], src_page * kPageSize, count * kPageSize, "src");
  if (!args.src) return env.Undefined();
  args.dst = CheckedView<uint8_t>(env, info[3], dst_page * kPageSize, count * kPageSize, "dst");
  if (!args.dst) return env.Undefined();
  args.status = CheckedView<int32_t>(env, info[5], status_index, count, "status");
  if (!args.status) return env.Undefined();
  args.count = count;
  args.threshold = static_cast<size_t>(threshold);
  args.detect_same_filled = info[8].ToBoolean();
  args.fail_page = static_cast<int32_t>(IntArg(info, 9));
  zstash::CompressBatch(*codec_, args);
  return env.Undefined();
}

Napi::Value CodecObject::Decompress(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t src_off = IntArg(info, 1), length = IntArg(info, 2), dst_off = IntArg(info, 4);
  const uint8_t* src = CheckedView<uint8_t>(env, info[0], src_off, length, "src");
  if (!src) return env.Undefined();
  uint8_t* dst = CheckedView<uint8_t>(env, info[3], dst_off, kPageSize, "dst");
  if (!dst) return env.Undefined();
  return Napi::Number::New(env, codec_->Decompress(src, length, dst));
}

Napi::Value CodecObject::DecompressBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsArray()) {
    Napi::TypeError::New(env, "arenas must be an array").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  ArenaTable arenas = ArenaTable::FromJs(env, info[0].As<Napi::Array>(), [](const Napi::Value&) {});
  size_t count = IntArg(info, 2);
  const int32_t* jobs = CheckedView<int32_t>(env, info[1], 0, count * 4, "jobs");
  if (!jobs) return env.Undefined();
  uint8_t* dst_data;
  size_t dst_bytes = 0, dst_elem;
  if (!TypedArrayBytes(env, info[3], &dst_data, &dst_bytes, &dst_elem)) dst_bytes = 0;
  size_t dst_pages = dst_bytes / kPageSize;
  uint8_t* dst = CheckedView<uint8_t>(env, info[3], 0, dst_pages * kPageSize, "dst");
  int32_t* status = CheckedView<int32_t>(env, info[4], 0, count, "status");
  if (!dst || !status) return env.Undefined();
  for (size_t i = 0; i < count; i++) {
    const int32_t* j = jobs + i * 4;
    const uint8_t* src = arenas.Resolve(j, dst_pages);
    status[i] = src ? codec_->Decompress(src, static_cast<uint32_t>(j[2]), dst + static_cast<size_t>(j[3]) * kPageSize)
                    : static_cast<int32_t>(kDecodeCorrupt);
  }
  return env.Undefined();
}

}  // namespace zstash
