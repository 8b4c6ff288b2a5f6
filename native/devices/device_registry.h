// Which device kinds this build contains, and how to make one. A kind whose
// library was not found at build time is still listed, with the reason, so
// backends() can say "not compiled: QPL not found" instead of staying silent.
#pragma once
#include <memory>
#include <string>
#include <vector>
#include "device.h"

namespace zstash {

struct DeviceKindInfo {
  std::string kind;      // "sim" | "dpdk" | "qpl" | "qat" | "uadk"
  bool compiled = false;
  std::string reason;    // why it is not compiled, when it is not
  std::string version;   // library version linked in, when it is
  std::string plugin_dir;  // where the library loads drivers from (DPDK PMDs), if anywhere
};

std::vector<DeviceKindInfo> DeviceKinds();

// nullptr (with *error) for an unknown or not compiled kind.
std::unique_ptr<Device> MakeDevice(const std::string& kind, std::string* error);

// Per-kind hooks, one per device source file.
std::unique_ptr<Device> MakeSimDevice();
DeviceKindInfo SimDeviceKind();
std::unique_ptr<Device> MakeDpdkDevice();
DeviceKindInfo DpdkDeviceKind();
std::unique_ptr<Device> MakeQplDevice();
DeviceKindInfo QplDeviceKind();
std::unique_ptr<Device> MakeQatDevice();
DeviceKindInfo QatDeviceKind();
std::unique_ptr<Device> MakeUadkDevice();
DeviceKindInfo UadkDeviceKind();

}  // namespace zstash
