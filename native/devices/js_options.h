// Reads the options object openDevice() receives from TypeScript. Validation
// of ranges the user can get wrong happens in TypeScript, with typed errors;
// this only converts, and rejects wrong types.
#pragma once
#include <napi.h>
#include <string>
#include "batch_engine.h"
#include "device.h"

namespace zstash {

bool ParseDeviceOptions(const Napi::Object& js, DeviceOptions* device, EngineOptions* engine, std::string* error);

}  // namespace zstash
