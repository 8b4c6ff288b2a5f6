// One policy for every device (QEMU multifd-qpl's, refined): each batch is
// submitted at once; a busy queue is retried up to `busy_retries` times, with
// completions drained between tries so the queue can empty, and then that page
// is compressed on the CPU in the same stream format; a page the CPU cannot fit
// under the threshold is stored raw. Device errors, faults, implausible lengths
// and lost completions (after `timeout_ms`) also go to the CPU. A batch is
// reported only when every page in it has a final result.
//
// The engine owns one thread per device. It submits and polls while jobs are
// outstanding, backing off with short sleeps, and sleeps on a condition
// variable when idle, so an idle device costs no CPU.
#pragma once
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>
#include "../codecs/codec.h"
#include "device.h"

namespace zstash {

struct EngineOptions {
  double timeout_ms = 500;       // a job not completed by then is treated as lost
  bool verify = false;           // decode every device result before accepting it
  int busy_retries = 3;          // QEMU's MAX_SUBMIT_RETRY_NUM
  int level = 1;                 // CPU fallback level (deflate-4k)
  double max_poll_sleep_us = 50; // longest sleep between polls while jobs are outstanding
};

// Counters are per engine, so per device. Written by the engine thread, read
// from any thread.
struct EngineStats {
  std::atomic<uint64_t> batches{0}, pages{0};
  std::atomic<uint64_t> hw_submitted{0}, hw_completed{0}, busy_retries{0}, sw_fallbacks{0}, raw_pages{0};
  std::atomic<uint64_t> device_errors{0}, faults{0}, timeouts{0}, late_completions{0}, bad_lengths{0};
  std::atomic<uint64_t> verify_failures{0}, same_filled{0};
  std::atomic<uint64_t> decompress_pages{0}, hw_decompressed{0}, decompress_fallbacks{0};
};

struct PageUnit {
  const uint8_t* in;
  uint32_t in_len;
  uint8_t* dst;    // kPageSize bytes
  int32_t* status;
};

// A batch as handed over by the caller; the N-API layer derives from it to
// carry its promise and buffer references. `holds` counts who still needs the
// buffers: the caller until it has seen the result, plus one per job a device
// may still touch after it timed out. The last holder frees the batch.
class Batch {
 public:
  virtual ~Batch() = default;
  DeviceOp op = DeviceOp::kCompress;
  std::vector<PageUnit> units;
  uint32_t threshold = kPageSize - 1;
  bool detect_same_filled = false;
  std::atomic<int> holds{1};
  size_t pending = 0;  // engine thread only
};

class BatchEngine {
 public:
  // done(batch): every page has its result; release(batch): the last late job
  // that held the batch's buffers is gone. Both are called on the engine thread.
  struct Callbacks {
    std::function<void(Batch*)> done;
    std::function<void(Batch*)> release;
    std::function<void()> closed;
  };

  BatchEngine(std::unique_ptr<Device> device, const EngineOptions& options);
  ~BatchEngine();

  bool Open(const DeviceOptions& options, std::string* error, bool* unavailable);
  const DeviceCaps& caps() const { return caps_; }
  const EngineStats& stats() const { return stats_; }

  void Start(Callbacks callbacks);
  // False once Close has been requested.
  bool Enqueue(Batch* batch);
  // The thread finishes every queued batch, closes the device and calls closed().
  void RequestClose();
  void Join();
  bool running() const { return thread_.joinable(); }

 private:
  enum class SlotState : uint8_t { kFree, kBusy, kQuarantined };
  struct Slot {
    std::unique_ptr<uint8_t[]> staging;  // the device writes here, never into caller memory
    SlotState state = SlotState::kFree;
    uint32_t generation = 0;
    Batch* batch = nullptr;
    uint32_t unit = 0;
  };
  struct Deadline {
    std::chrono::steady_clock::time_point at;
    uint32_t slot;
    uint32_t generation;
  };

  void Run();
  void StartBatch(Batch* b);
  void SubmitUnits(Batch* b, const std::vector<uint32_t>& order);
  size_t Drain();
  void Complete(const DeviceCompletion& c);
  size_t ExpireTimeouts();
  void CpuFallback(Batch* b, uint32_t unit);
  void UnitDone(Batch* b);
  void DropHold(Batch* b);
  uint32_t AcquireSlot();
  void ReleaseSlot(uint32_t id);

  std::unique_ptr<Device> device_;
  EngineOptions options_;
  DeviceCaps caps_;
  EngineStats stats_;
  Callbacks callbacks_;
  std::unique_ptr<PageCodec> cpu_;
  std::vector<uint8_t> scratch_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Batch*> queue_;
  bool closing_ = false;
  std::thread thread_;

  // Engine thread only.
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_slots_;
  std::deque<Deadline> deadlines_;
  size_t inflight_ = 0;
  size_t zombies_ = 0;  // timed-out jobs the device has not returned yet
  std::vector<DeviceJob> jobs_;
  std::vector<uint32_t> job_slots_;
  std::vector<DeviceCompletion> completions_;
};

}  // namespace zstash
