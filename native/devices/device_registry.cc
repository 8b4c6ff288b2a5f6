#include "device_registry.h"

namespace zstash {

std::vector<DeviceKindInfo> DeviceKinds() {
  return {SimDeviceKind(), DpdkDeviceKind(), QplDeviceKind(), QatDeviceKind(), UadkDeviceKind()};
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
    if (kind == "qat") return MakeQatDevice();
    if (kind == "uadk") return MakeUadkDevice();
  }
  *error = "unknown device kind '" + kind + "'";
  return nullptr;
}

}  // namespace zstash
