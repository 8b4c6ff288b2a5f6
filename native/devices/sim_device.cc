// A simulated accelerator, for tests and for modelling batching: N engines
// behind a bounded queue, a per-page service time, and injectable faults. The
// work itself is real (the deflate-4k codec), so everything it returns decodes
// like a real device's output; only the timing and the failures are modelled.
// It names itself "sim" and reports path "simulated" so no output can pass it
// off as hardware.
#include <algorithm>
#include <chrono>
#include <queue>
#include <random>
#include "../codecs/codec.h"
#include "device_registry.h"

namespace zstash {
namespace {

using Clock = std::chrono::steady_clock;

class SimDevice final : public Device {
 public:
  bool Open(const DeviceOptions& o, DeviceCaps* caps, std::string* error, bool* unavailable) override {
    *unavailable = false;
    if (o.engines < 1 || o.engines > 1024) return Fail(error, "sim: engines must be 1..1024");
    if (o.latency_us < 0 || o.latency_per_kb_us < 0 || o.stall_us < 0) return Fail(error, "sim: latencies must be >= 0");
    for (double p : {o.busy_rate, o.error_rate, o.fault_rate, o.lost_rate, o.wrong_length_rate, o.stall_rate})
      if (!(p >= 0 && p <= 1)) return Fail(error, "sim: fault rates must be within [0, 1]");
    std::string codec_error;
    codec_ = MakeCodec("deflate-4k", o.level, &codec_error);
    if (!codec_) return Fail(error, "sim: " + codec_error);
    options_ = o;
    depth_ = o.queue_depth ? o.queue_depth : 64;
    engine_free_.assign(o.engines, Clock::time_point{});
    entries_.resize(depth_);
    for (uint32_t i = 0; i < depth_; i++) {
      entries_[i].buf.resize(kPageSize);
      free_.push_back(depth_ - 1 - i);
    }
    rng_.seed(o.seed);
    caps->name = "sim";
    caps->driver = "sim";
    caps->stream_format = "deflate-4k";
    caps->path = "simulated";
    caps->library_version = "simulated device over " + CodecLibraryVersions();
    caps->max_batch = std::min<uint32_t>(o.max_batch, depth_);
    caps->queue_depth = depth_;
    caps->notes = "simulated: " + std::to_string(o.engines) + " engines, " + std::to_string(o.latency_us) +
                  " us per page; not a hardware result";
    return true;
  }

  size_t Submit(const DeviceJob* jobs, size_t n) override {
    Clock::time_point now = Clock::now();
    for (size_t i = 0; i < n; i++) {
      if (free_.empty() || Roll(options_.busy_rate)) return i;
      uint32_t slot = free_.back();
      free_.pop_back();
      Entry& e = entries_[slot];
      Execute(jobs[i], &e);
      auto engine = std::min_element(engine_free_.begin(), engine_free_.end());
      double service_us = options_.latency_us + options_.latency_per_kb_us * jobs[i].in_len / 1024.0;
      Clock::time_point start = std::max(now, *engine);
      *engine = start + std::chrono::nanoseconds(static_cast<int64_t>(service_us * 1000));
      e.ready = *engine;
      if (Roll(options_.stall_rate)) e.ready += std::chrono::nanoseconds(static_cast<int64_t>(options_.stall_us * 1000));
      e.tag = jobs[i].tag;
      e.out = jobs[i].out;
      InjectFault(jobs[i], &e);
      pending_.push({e.ready, slot});
    }
    return n;
  }

  size_t Poll(DeviceCompletion* out, size_t max) override {
    size_t n = 0;
    Clock::time_point now = Clock::now();
    while (n < max && !pending_.empty() && pending_.top().ready <= now) {
      uint32_t slot = pending_.top().slot;
      pending_.pop();
      free_.push_back(slot);
      Entry& e = entries_[slot];
      if (e.lost) continue;  // the queue entry is freed, the completion never arrives
      if (e.status == JobStatus::kOk) std::copy(e.buf.begin(), e.buf.begin() + e.actual, e.out);
      out[n++] = {e.tag, e.status, e.produced};
    }
    return n;
  }

  void Close() override {
    while (!pending_.empty()) pending_.pop();
  }

 private:
  struct Entry {
    Clock::time_point ready;
    uint32_t tag = 0;
    uint8_t* out = nullptr;
    JobStatus status = JobStatus::kOk;
    uint32_t actual = 0;    // bytes really produced
    uint32_t produced = 0;  // bytes reported
    bool lost = false;
    std::vector<uint8_t> buf;
  };
  struct Pending {
    Clock::time_point ready;
    uint32_t slot;
    bool operator>(const Pending& other) const { return ready > other.ready; }
  };

  static bool Fail(std::string* error, const std::string& message) {
    *error = message;
    return false;
  }

  bool Roll(double p) { return p > 0 && uniform_(rng_) < p; }

  void Execute(const DeviceJob& job, Entry* e) {
    int32_t r;
    if (job.op == DeviceOp::kCompress) {
      r = codec_->Compress(job.in, e->buf.data(), std::min<size_t>(job.out_cap, kPageSize));
    } else {
      r = job.out_cap >= kPageSize ? codec_->Decompress(job.in, job.in_len, e->buf.data()) : kDecodeWrongSize;
    }
    e->lost = false;
    if (r > 0) {
      e->status = JobStatus::kOk;
      e->actual = e->produced = static_cast<uint32_t>(r);
    } else {
      e->status = r == kIncompressible ? JobStatus::kOutputOverflow : JobStatus::kError;
      e->actual = e->produced = 0;
    }
  }

  void InjectFault(const DeviceJob& job, Entry* e) {
    if (Roll(options_.lost_rate)) {
      e->lost = true;
    } else if (Roll(options_.error_rate)) {
      e->status = JobStatus::kError;
      e->produced = 0;
    } else if (Roll(options_.fault_rate)) {
      e->status = JobStatus::kFault;
      e->produced = 0;
    } else if (e->status == JobStatus::kOk && Roll(options_.wrong_length_rate)) {
      // Half the lies are out of range (any engine catches those), half are
      // plausible (only decoding the result catches those).
      if (uniform_(rng_) < 0.5) {
        e->produced = uniform_(rng_) < 0.5 ? 0 : job.out_cap + 1;
      } else {
        e->produced = e->actual > 1 ? e->actual - 1 : e->actual + 1;
      }
    }
  }

  DeviceOptions options_;
  std::unique_ptr<PageCodec> codec_;
  uint32_t depth_ = 0;
  std::vector<Clock::time_point> engine_free_;
  std::vector<Entry> entries_;
  std::vector<uint32_t> free_;
  std::priority_queue<Pending, std::vector<Pending>, std::greater<Pending>> pending_;
  std::mt19937_64 rng_;
  std::uniform_real_distribution<double> uniform_{0.0, 1.0};
};

}  // namespace

std::unique_ptr<Device> MakeSimDevice() { return std::make_unique<SimDevice>(); }

DeviceKindInfo SimDeviceKind() {
  DeviceKindInfo info;
  info.kind = "sim";
  info.compiled = true;
  info.version = "simulated";
  return info;
}

}  // namespace zstash
