#include "codec_object.h"
#include <vector>
#include "../batch/compress_batch.h"
#include "../batch/decompress_jobs.h"
#include "../common/checksum.h"
#include "args.h"
#include "dictionary_ops.h"

namespace zstash {
namespace {
constexpr napi_type_tag kCodecTag = {0x7a737461736843ull, 0x436f646563ull};
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
  TagThis(info, &kCodecTag);
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsNumber()) {
    ThrowOnce(env, "new Codec(name: string, level: number)");
    return;
  }
  Args a(info, "Codec");
  int level = static_cast<int>(a.Int(1, "level", -1000000, 1000000));
  if (!a.ok()) return;
  std::string error, name = info[0].As<Napi::String>().Utf8Value();
  // A third argument { dictionary, … } makes the dictionary form of the codec.
  bool dictionary = info.Length() > 2 && !info[2].IsUndefined();
  codec_ = dictionary ? MakeDictCodecFromJs(env, name, level, info[2], &error) : MakeCodec(name, level, &error);
  if (!codec_) ThrowOnce(env, error);
}

PageCodec* CodecObject::FromValue(const Napi::Env& env, const Napi::Value& value) {
  if (!value.IsObject() || !value.As<Napi::Object>().CheckTypeTag(&kCodecTag)) {
    ThrowOnce(env, "codec must be a Codec");
    return nullptr;
  }
  CodecObject* self = Unwrap(value.As<Napi::Object>());
  return self ? self->codec_.get() : nullptr;
}

Napi::Value CodecObject::CompressBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!ThisIs(info, &kCodecTag, "Codec")) return env.Undefined();
  Args a(info, "compressBatch");
  if (!codec_) a.Fail("codec is not initialised");
  size_t src_page = a.Size(1, "srcPage"), count = a.Size(2, "count", 1 << 20), dst_page = a.Size(4, "dstPage");
  size_t status_index = a.Size(6, "statusIndex");
  int64_t threshold = a.Int(7, "threshold", 1, kPageSize);
  CompressBatchArgs args;
  args.src = a.View<uint8_t>(0, "src", src_page * kPageSize, count * kPageSize);
  args.dst = a.View<uint8_t>(3, "dst", dst_page * kPageSize, count * kPageSize);
  args.status = a.View<int32_t>(5, "status", status_index, count);
  args.detect_same_filled = a.Bool(8);
  if (!a.ok()) return env.Undefined();
  args.count = count;
  args.threshold = static_cast<size_t>(threshold);
  zstash::CompressBatch(*codec_, args);
  return env.Undefined();
}

Napi::Value CodecObject::Decompress(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!ThisIs(info, &kCodecTag, "Codec")) return env.Undefined();
  Args a(info, "decompress");
  if (!codec_) a.Fail("codec is not initialised");
  size_t src_off = a.Size(1, "srcOffset"), length = a.Size(2, "length"), dst_off = a.Size(4, "dstOffset");
  const uint8_t* src = a.View<uint8_t>(0, "src", src_off, length);
  uint8_t* dst = a.View<uint8_t>(3, "dst", dst_off, kPageSize);
  bool verify = !a.Missing(5);
  uint32_t expected = verify ? static_cast<uint32_t>(a.Int(5, "checksum", 0, UINT32_MAX)) : 0;
  if (!a.ok()) return env.Undefined();
  if (verify && ObjectChecksum(src, length) != expected) return Napi::Number::New(env, kDecodeChecksum);
  return Napi::Number::New(env, codec_->Decompress(src, length, dst));
}

Napi::Value CodecObject::DecompressBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!ThisIs(info, &kCodecTag, "Codec")) return env.Undefined();
  Args a(info, "decompressBatch");
  if (!codec_) a.Fail("codec is not initialised");
  if (!info[0].IsArray()) a.Fail("arenas must be an array");
  size_t count = a.Size(2, "count", 1 << 24);
  const int32_t* jobs = a.View<int32_t>(1, "jobs", 0, count * 4);
  size_t dst_bytes = 0;
  uint8_t* dst = a.Bytes(3, "dst", &dst_bytes);
  int32_t* status = a.View<int32_t>(4, "status", 0, count);
  const uint32_t* sums = a.Missing(5) ? nullptr : a.View<uint32_t>(5, "sums", 0, count);
  if (!a.ok()) return env.Undefined();
  ArenaTable arenas = ArenaTable::FromJs(env, info[0].As<Napi::Array>(), [](const Napi::Value&) {});
  if (env.IsExceptionPending()) return env.Undefined();
  size_t dst_pages = dst_bytes / kPageSize;
  for (size_t i = 0; i < count; i++) {
    const int32_t* j = jobs + i * 4;
    const uint8_t* src = arenas.Resolve(j, dst_pages);
    if (!src) {
      status[i] = kDecodeCorrupt;
    } else if (sums && ObjectChecksum(src, static_cast<uint32_t>(j[2])) != sums[i]) {
      status[i] = kDecodeChecksum;
    } else {
      status[i] = codec_->Decompress(src, static_cast<uint32_t>(j[2]), dst + static_cast<size_t>(j[3]) * kPageSize);
    }
  }
  return env.Undefined();
}

}  // namespace zstash
