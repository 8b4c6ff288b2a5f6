#pragma once
#include <napi.h>
#include <memory>
#include <string>
#include "../codecs/codec.h"

namespace zstash {

// The dictionary form of `new Codec(name, level, { dictionary, id, dictIdFlag,
// contentSizeFlag, checksumFlag })`. Returns nullptr with `error` set (or a
// pending JS exception) when the options are wrong.
std::unique_ptr<PageCodec> MakeDictCodecFromJs(Napi::Env env, const std::string& name, int level,
                                               const Napi::Value& options, std::string* error);

// trainDictionary(samples, sampleSizes, capacity, options) -> Promise<{ dictionary, k, d }>
Napi::Value TrainDictionaryJs(const Napi::CallbackInfo& info);
// dictionaryId(dict) -> the id in a zstd dictionary header, 0 for raw content
Napi::Value DictionaryIdJs(const Napi::CallbackInfo& info);
// dictionaryUsesTables(level, dictionaryBytes) -> whether the zstd codec loads the entropy tables by default
Napi::Value DictionaryUsesTablesJs(const Napi::CallbackInfo& info);

}  // namespace zstash
