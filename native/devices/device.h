// The one interface every accelerator (real, library software path, or
// simulated) implements. It is deliberately the shape of a hardware queue:
// Submit may take fewer jobs than offered (a full queue is not an error) and
// results only come back through Poll, in any order. Everything above it —
// retries, CPU fallback, timeouts, batch publication — lives in BatchEngine, so
// every device gets the same policy.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>
#include "../common/page.h"

namespace zstash {

enum class DeviceOp : uint8_t { kCompress, kDecompress };

// One page of work. `in` stays readable and `out` writable until the job's
// completion is returned by Poll (or the device is closed).
struct DeviceJob {
  DeviceOp op;
  const uint8_t* in;
  uint32_t in_len;
  uint8_t* out;
  uint32_t out_cap;
  uint32_t tag;  // opaque to the device; echoed in the completion
};

enum class JobStatus : uint8_t {
  kOk,              // `produced` bytes were written to out
  kOutputOverflow,  // the result did not fit out_cap: for compression, incompressible
  kFault,           // the device could not access a buffer (IAA page fault) and gave up
  kError,           // anything else the device reports
};

struct DeviceCompletion {
  uint32_t tag;
  JobStatus status;
  uint32_t produced;
};

// What open() found. `path` says what really executes the jobs: "hardware",
// "software" (a library's CPU path behind the device API) or "simulated".
struct DeviceCaps {
  std::string name;            // public compressor name, e.g. "dpdk:isal"
  std::string driver;          // e.g. "compress_isal", "qpl", "sim"
  std::string stream_format;   // always "deflate-4k" for the devices here
  std::string path;
  std::string library_version;
  std::string notes;           // anything a reader of a report should know
  uint32_t max_batch = 0;
  uint32_t queue_depth = 0;
};

// Options parsed from JS. Each device reads the fields it understands.
struct DeviceOptions {
  std::string kind;     // "sim" | "dpdk" | "qpl" | "qat" | "uadk"
  std::string variant;  // dpdk: PMD ("isal", "zlib", "qat", ...); qpl: "auto" | "hardware" | "software"
  int level = 1;
  uint32_t max_batch = 8;
  uint32_t queue_depth = 0;  // 0: the device's default

  // dpdk
  std::vector<std::string> eal_args;  // extra EAL arguments, used by the first open in the process
  bool eal_pci = false;               // let the EAL probe PCI (hardware PMDs)
  bool eal_hugepages = false;         // let the EAL use hugepages (hardware PMDs)
  std::string devargs;                // vdev arguments, e.g. "socket_id=0"
  int zero_copy = -1;                 // -1 auto, 0 copy into mbufs, 1 attach pages as external buffers

  // qpl, qat
  bool dynamic_huffman = false;
  bool dynamic_huffman_set = false;  // given by the caller (qat otherwise takes QATzip's default)

  // sim
  uint32_t engines = 8;
  double latency_us = 20;
  double latency_per_kb_us = 0;
  double busy_rate = 0;          // probability that a submit call is refused (queue busy)
  double error_rate = 0;         // completion with kError
  double fault_rate = 0;         // completion with kFault
  double lost_rate = 0;          // completion never reported
  double wrong_length_rate = 0;  // completion reports a length that is not the stream's
  double stall_rate = 0;         // completion delayed by stall_us
  double stall_us = 0;
  uint64_t seed = 1;
};

class Device {
 public:
  virtual ~Device() = default;
  // Called once, on any thread. On failure returns false, sets *error and, when
  // the library or hardware is simply absent, *unavailable.
  virtual bool Open(const DeviceOptions& options, DeviceCaps* caps, std::string* error, bool* unavailable) = 0;
  // Device thread only. Returns how many of jobs[0..n) were accepted, a prefix.
  virtual size_t Submit(const DeviceJob* jobs, size_t n) = 0;
  // Device thread only. Writes up to `max` completions and returns how many.
  virtual size_t Poll(DeviceCompletion* out, size_t max) = 0;
  // After Close no job's buffers are touched again.
  virtual void Close() = 0;
};

}  // namespace zstash
