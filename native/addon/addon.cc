// Module entry: the native surface is deliberately small (see docs/architecture.md).
#include <napi.h>
#include "../codecs/codec.h"
#include "codec_object.h"
#include "dictionary_ops.h"
#include "../tier/object_sealer.h"

namespace zstash {
Napi::Value FillPageJs(const Napi::CallbackInfo& info);
Napi::Value CopyObjectsJs(const Napi::CallbackInfo& info);
Napi::Value ChecksumJs(const Napi::CallbackInfo& info);
Napi::Value CheckObjectsJs(const Napi::CallbackInfo& info);
void RegisterDevices(Napi::Env env, Napi::Object exports);
namespace alloc {
void RegisterAllocator(Napi::Env env, Napi::Object exports);
}
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Codec", zstash::CodecObject::Define(env));
  exports.Set("fillPage", Napi::Function::New(env, zstash::FillPageJs, "fillPage"));
  exports.Set("copyObjects", Napi::Function::New(env, zstash::CopyObjectsJs, "copyObjects"));
  exports.Set("checksum", Napi::Function::New(env, zstash::ChecksumJs, "checksum"));
  exports.Set("checkObjects", Napi::Function::New(env, zstash::CheckObjectsJs, "checkObjects"));
  exports.Set("trainDictionary", Napi::Function::New(env, zstash::TrainDictionaryJs, "trainDictionary"));
  exports.Set("dictionaryId", Napi::Function::New(env, zstash::DictionaryIdJs, "dictionaryId"));
  exports.Set("dictionaryUsesTables", Napi::Function::New(env, zstash::DictionaryUsesTablesJs, "dictionaryUsesTables"));
  exports.Set("codecLibraries", Napi::String::New(env, zstash::CodecLibraryVersions()));
  exports.Set("pageSize", Napi::Number::New(env, zstash::kPageSize));
  exports.Set("ObjectSealer", zstash::ObjectSealer::Define(env));
  zstash::RegisterDevices(env, exports);
  zstash::alloc::RegisterAllocator(env, exports);
  return exports;
}

NODE_API_MODULE(zstash, Init)
