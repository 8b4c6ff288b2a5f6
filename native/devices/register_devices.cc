// Accelerator devices register here (issue: native accelerator batch engine).
// Until then the addon exports an empty device list.
#include <napi.h>

namespace zstash {

void RegisterDevices(Napi::Env env, Napi::Object exports) {
  exports.Set("devices", Napi::Array::New(env));
}

}  // namespace zstash
