// DPDK's Environment Abstraction Layer, initialised at most once per process
// and shared by every DPDK device. Kept apart from the device because it is
// process-wide state with its own hazards (thread pinning, argument parsing,
// one-shot init).
#pragma once
#include <mutex>
#include <string>
#include <vector>

namespace zstash {

struct EalRequest {
  std::vector<std::string> extra_args;  // appended to the defaults
  bool pci = false;                     // drop --no-pci (hardware PMDs)
  bool hugepages = false;               // drop --no-huge (hardware PMDs)
};

// Initialises the EAL on first use and returns true when it is up. Later calls
// with different arguments fail with a message, since the EAL cannot be
// re-initialised. The calling thread's CPU affinity is the same afterwards.
bool EnsureEal(const EalRequest& request, std::string* error);

// The argument vector the EAL was initialised with, for reports. Valid after
// EnsureEal succeeded; safe to call with DpdkControlMutex held.
std::string EalArgsUsed();

// Serialises control-path DPDK calls (vdev create/remove, configure, close).
std::mutex& DpdkControlMutex();

}  // namespace zstash
