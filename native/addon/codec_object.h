#pragma once
#include <napi.h>
#include <memory>
#include "../codecs/codec.h"

namespace zstash {

// JS class `Codec`: one codec instance with its own contexts. JS makes one per
// thread (the owner thread, and each worker). `new Codec(name, level, { dictionary })`
// makes the dictionary form (native/codecs/dict_codecs.h) with the same methods.
class CodecObject : public Napi::ObjectWrap<CodecObject> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit CodecObject(const Napi::CallbackInfo& info);

  // The codec behind a JS value, or nullptr with a TypeError pending when the
  // value is not a Codec (checked by type tag, so no other wrapped object passes).
  static PageCodec* FromValue(const Napi::Env& env, const Napi::Value& value);

 private:
  // compressBatch(src, srcPage, count, dst, dstPage, status, statusIndex, threshold, sameFilled)
  Napi::Value CompressBatch(const Napi::CallbackInfo& info);
  // decompress(src, srcOffset, length, dst, dstOffset, checksum?) -> 4096 | negative DecodeStatus
  Napi::Value Decompress(const Napi::CallbackInfo& info);
  // decompressBatch(arenas[], jobs Int32Array [arena, offset, length, dstPage]*, count, dst, status, sums?)
  Napi::Value DecompressBatch(const Napi::CallbackInfo& info);

  std::unique_ptr<PageCodec> codec_;
};

}  // namespace zstash
