// Module entry: the native surface is deliberately small (see docs/architecture.md).
#include <napi.h>
#include "../codecs/codec.h"
#include "codec_object.h"

namespace zstash {
Napi::Value FillPageJs(const Napi::CallbackInfo& info);
Napi::Value CopyObjectsJs(const Napi::CallbackInfo& info);
void RegisterDevices(Napi::Env env, Napi::Object exports);
namespace alloc {
void RegisterAllocator(Napi::Env env, Napi::Object exports);
}
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Codec", zstash::CodecObject::Define(env));
  exports.Set("fillPage", Napi::Function::New(env, zstash::FillPageJs, "fillPage"));
  exports.Set("copyObjects", Napi::Function::New(env, zstash::CopyObjectsJs, "copyObjects"));
  exports.Set("codecLibraries", Napi::String::New(env, zstash::CodecLibraryVersions()));
  exports.Set("pageSize", Napi::Number::New(env, zstash::kPageSize));
  zstash::RegisterDevices(env, exports);
  zstash::alloc::RegisterAllocator(env, exports);
  return exports;
}

NODE_API_MODULE(zstash, Init)
