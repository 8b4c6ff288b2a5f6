#include "device_registry.h"

namespace zstash {

std::vector<DeviceKindInfo> DeviceKinds() {
  return {SimDeviceKind(), DpdkDeviceKind(), QplDeviceKind()};
}

std::unique_ptr<Device> MakeDevice(const std::string& kind, std::string* error) {
  for (const DeviceKindInfo& info : DeviceKinds()) {
    if (info.kind != kind) continue;
    if (!info.compiled) {
      *error = "device '" + kind + "' is not compiled in: " + info.reason;
      return nullptr;
    }
    if (kind == "sim") return MakeSimDevice();
    if (kind == "dpdk") return MakeDpdkDevice();
    if (kind == "qpl") return MakeQplDevice();
  }
  *error = "unknown device kind '" + kind + "'";
  return nullptr;
}

}  // namespace zstash
