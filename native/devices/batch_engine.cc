#include "batch_engine.h"
#include <pthread.h>
#include <sys/prctl.h>
#include <algorithm>
#include <cstring>
#include "../common/same_filled.h"

namespace zstash {
namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kSubmitChunk = 64;
constexpr int kSpinPolls = 8;

// Decompression: the two largest inputs take longest on a device, so they are
// submitted first (iaa_crypto's decomp_batch_get_max_slens_idx); the rest keep
// their order.
std::vector<uint32_t> LargestTwoFirst(const std::vector<PageUnit>& units, const std::vector<uint32_t>& todo) {
  if (todo.size() <= 2) return todo;
  size_t a = 0, b = 1;
  if (units[todo[b]].in_len > units[todo[a]].in_len) std::swap(a, b);
  for (size_t i = 2; i < todo.size(); i++) {
    uint32_t len = units[todo[i]].in_len;
    if (len > units[todo[a]].in_len) {
      b = a;
      a = i;
    } else if (len > units[todo[b]].in_len) {
      b = i;
    }
  }
  std::vector<uint32_t> order = {todo[a], todo[b]};
  for (size_t i = 0; i < todo.size(); i++)
    if (i != a && i != b) order.push_back(todo[i]);
  return order;
}

}  // namespace

BatchEngine::BatchEngine(std::unique_ptr<Device> device, const EngineOptions& options)
    : device_(std::move(device)), options_(options), scratch_(kPageSize) {
  jobs_.resize(kSubmitChunk);
  job_slots_.resize(kSubmitChunk);
  completions_.resize(kSubmitChunk);
}

BatchEngine::~BatchEngine() {
  if (thread_.joinable()) {
    RequestClose();
    thread_.join();
  }
}

bool BatchEngine::Open(const DeviceOptions& options, std::string* error, bool* unavailable) {
  std::string codec_error;
  cpu_ = MakeCodec("deflate-4k", std::clamp(options_.level, 0, 3), &codec_error);
  if (!cpu_) {
    *error = "engine: CPU fallback codec: " + codec_error;
    *unavailable = false;
    return false;
  }
  return device_->Open(options, &caps_, error, unavailable);
}

void BatchEngine::Start(Callbacks callbacks) {
  callbacks_ = std::move(callbacks);
  thread_ = std::thread([this] { Run(); });
}

bool BatchEngine::Enqueue(Batch* batch) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closing_) return false;
    queue_.push_back(batch);
  }
  cv_.notify_one();
  return true;
}

void BatchEngine::RequestClose() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closing_ = true;
  }
  cv_.notify_one();
}

void BatchEngine::Join() {
  if (thread_.joinable()) thread_.join();
}

void BatchEngine::Run() {
  pthread_setname_np(pthread_self(), "zstash-device");
  // Poll back-off sleeps are a few microseconds; the default 50 us timer slack
  // would stretch each one to the slack.
  prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
  std::vector<Batch*> incoming;
  int idle_polls = 0;
  for (;;) {
    bool closing;
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (queue_.empty()) {
        if (inflight_ == 0 && zombies_ > 0 && !closing_) {
          // Only timed-out jobs remain: look for their late completions now
          // and then, so their slots and buffers are freed, without spinning.
          cv_.wait_for(lock, std::chrono::milliseconds(10), [this] { return !queue_.empty() || closing_; });
        } else if (inflight_ == 0 && !closing_) {
          cv_.wait(lock, [this] { return !queue_.empty() || closing_; });
        } else if (inflight_ > 0 && idle_polls > kSpinPolls) {
          int shift = std::min(idle_polls - kSpinPolls, 16);
          double us = std::min(options_.max_poll_sleep_us, static_cast<double>(1u << shift));
          cv_.wait_for(lock, std::chrono::nanoseconds(static_cast<int64_t>(us * 1000)),
                       [this] { return !queue_.empty(); });
        }
      }
      incoming.swap(queue_);
      closing = closing_;
    }
    for (Batch* b : incoming) StartBatch(b);
    bool progressed = !incoming.empty();
    incoming.clear();
    if (Drain() > 0) progressed = true;
    if (ExpireTimeouts() > 0) progressed = true;
    if (progressed) {
      idle_polls = 0;
    } else {
      idle_polls++;
      if (idle_polls <= kSpinPolls) std::this_thread::yield();
    }
    if (closing && inflight_ == 0) {
      std::lock_guard<std::mutex> lock(mu_);
      if (queue_.empty()) break;
    }
  }
  device_->Close();
  // The device can no longer touch any buffer: let go of batches that late
  // jobs were still holding.
  for (Slot& s : slots_) {
    if (s.state != SlotState::kQuarantined) continue;
    s.state = SlotState::kFree;
    DropHold(s.batch);
  }
  if (callbacks_.closed) callbacks_.closed();
}

void BatchEngine::StartBatch(Batch* b) {
  stats_.batches.fetch_add(1, std::memory_order_relaxed);
  // One extra pending unit for the submission itself, so the batch cannot be
  // reported while it is still being handed to the device.
  b->pending = b->units.size() + 1;
  std::vector<uint32_t> todo;
  todo.reserve(b->units.size());
  for (uint32_t i = 0; i < b->units.size(); i++) {
    PageUnit& u = b->units[i];
    if (b->op == DeviceOp::kCompress) {
      stats_.pages.fetch_add(1, std::memory_order_relaxed);
      uint64_t fill;
      if (b->detect_same_filled && PageIsSameFilled(u.in, &fill)) {
        std::memcpy(u.dst, &fill, sizeof fill);
        *u.status = kSameFilled;
        stats_.same_filled.fetch_add(1, std::memory_order_relaxed);
      } else {
        todo.push_back(i);
        continue;
      }
    } else {
      stats_.decompress_pages.fetch_add(1, std::memory_order_relaxed);
      if (u.in_len == kPageSize) {
        std::memcpy(u.dst, u.in, kPageSize);  // stored raw
        *u.status = static_cast<int32_t>(kPageSize);
      } else if (u.in_len == 0 || u.in_len > kPageSize) {
        *u.status = kDecodeCorrupt;
      } else {
        todo.push_back(i);
        continue;
      }
    }
    b->pending--;
  }
  SubmitUnits(b, b->op == DeviceOp::kDecompress ? LargestTwoFirst(b->units, todo) : todo);
  UnitDone(b);
}

void BatchEngine::SubmitUnits(Batch* b, const std::vector<uint32_t>& order) {
  uint32_t cap = b->op == DeviceOp::kCompress ? std::min<uint32_t>(b->threshold, kPageSize - 1)
                                              : static_cast<uint32_t>(kPageSize);
  size_t next = 0;
  int retries = 0;
  while (next < order.size()) {
    size_t n = std::min(order.size() - next, kSubmitChunk);
    for (size_t j = 0; j < n; j++) {
      uint32_t id = AcquireSlot();
      Slot& s = slots_[id];
      const PageUnit& u = b->units[order[next + j]];
      jobs_[j] = {b->op, u.in, u.in_len, s.staging.get(), cap, id};
      job_slots_[j] = id;
    }
    size_t accepted = device_->Submit(jobs_.data(), n);
    Clock::time_point deadline =
        Clock::now() + std::chrono::microseconds(static_cast<int64_t>(options_.timeout_ms * 1000));
    for (size_t j = 0; j < n; j++) {
      Slot& s = slots_[job_slots_[j]];
      if (j < accepted) {
        s.state = SlotState::kBusy;
        s.batch = b;
        s.unit = order[next + j];
        deadlines_.push_back({deadline, job_slots_[j], s.generation});
      } else {
        ReleaseSlot(job_slots_[j]);
      }
    }
    inflight_ += accepted;
    stats_.hw_submitted.fetch_add(accepted, std::memory_order_relaxed);
    next += accepted;
    if (accepted > 0) retries = 0;
    if (accepted == n) continue;
    // The queue is full at order[next].
    if (retries < options_.busy_retries) {
      retries++;
      stats_.busy_retries.fetch_add(1, std::memory_order_relaxed);
      Drain();
      continue;
    }
    // A queue that stayed full is likely to refuse the next page too; doing this
    // one on the CPU gives it time to drain (QEMU's comment on the same choice).
    CpuFallback(b, order[next]);
    UnitDone(b);
    next++;
    retries = 0;
  }
}

size_t BatchEngine::Drain() {
  size_t total = 0;
  for (;;) {
    size_t n = device_->Poll(completions_.data(), completions_.size());
    for (size_t i = 0; i < n; i++) Complete(completions_[i]);
    total += n;
    if (n < completions_.size()) return total;
  }
}

void BatchEngine::Complete(const DeviceCompletion& c) {
  if (c.tag >= slots_.size() || slots_[c.tag].state == SlotState::kFree) {
    stats_.device_errors.fetch_add(1, std::memory_order_relaxed);  // a completion for no job
    return;
  }
  Slot& s = slots_[c.tag];
  Batch* b = s.batch;
  if (s.state == SlotState::kQuarantined) {
    // The page was already redone on the CPU; this result is dropped.
    stats_.late_completions.fetch_add(1, std::memory_order_relaxed);
    zombies_--;
    ReleaseSlot(c.tag);
    DropHold(b);
    return;
  }
  inflight_--;
  uint32_t unit = s.unit;
  PageUnit& u = b->units[unit];
  const uint8_t* staged = s.staging.get();
  bool fallback = false;
  if (b->op == DeviceOp::kCompress) {
    uint32_t cap = std::min<uint32_t>(b->threshold, kPageSize - 1);
    switch (c.status) {
      case JobStatus::kOk:
        if (c.produced == 0 || c.produced > cap) {
          stats_.bad_lengths.fetch_add(1, std::memory_order_relaxed);
          fallback = true;
        } else if (options_.verify && cpu_->Decompress(staged, c.produced, scratch_.data()) != static_cast<int32_t>(kPageSize)) {
          stats_.verify_failures.fetch_add(1, std::memory_order_relaxed);
          fallback = true;
        } else if (options_.verify && std::memcmp(scratch_.data(), u.in, kPageSize) != 0) {
          stats_.verify_failures.fetch_add(1, std::memory_order_relaxed);
          fallback = true;
        } else {
          std::memcpy(u.dst, staged, c.produced);
          *u.status = static_cast<int32_t>(c.produced);
          stats_.hw_completed.fetch_add(1, std::memory_order_relaxed);
        }
        break;
      case JobStatus::kOutputOverflow:
        *u.status = kIncompressible;
        stats_.hw_completed.fetch_add(1, std::memory_order_relaxed);
        stats_.raw_pages.fetch_add(1, std::memory_order_relaxed);
        break;
      case JobStatus::kFault:
        stats_.faults.fetch_add(1, std::memory_order_relaxed);
        fallback = true;
        break;
      case JobStatus::kError:
        fallback = true;
        break;
    }
  } else if (c.status == JobStatus::kOk && c.produced == kPageSize) {
    std::memcpy(u.dst, staged, kPageSize);
    *u.status = static_cast<int32_t>(kPageSize);
    stats_.hw_completed.fetch_add(1, std::memory_order_relaxed);
    stats_.hw_decompressed.fetch_add(1, std::memory_order_relaxed);
  } else {
    if (c.status == JobStatus::kFault) stats_.faults.fetch_add(1, std::memory_order_relaxed);
    if (c.status == JobStatus::kOk) stats_.bad_lengths.fetch_add(1, std::memory_order_relaxed);
    fallback = true;
  }
  ReleaseSlot(c.tag);
  if (fallback) {
    stats_.device_errors.fetch_add(1, std::memory_order_relaxed);
    CpuFallback(b, unit);
  }
  UnitDone(b);
}

size_t BatchEngine::ExpireTimeouts() {
  size_t expired = 0;
  Clock::time_point now = Clock::now();
  while (!deadlines_.empty()) {
    const Deadline& d = deadlines_.front();
    Slot& s = slots_[d.slot];
    if (s.generation != d.generation || s.state != SlotState::kBusy) {
      deadlines_.pop_front();  // completed in time
      continue;
    }
    if (d.at > now) break;
    deadlines_.pop_front();
    // The device may still write the staging slot or read the input later, so
    // the slot is not reused and the batch's buffers stay referenced until the
    // late completion arrives or the device is closed.
    s.state = SlotState::kQuarantined;
    inflight_--;
    zombies_++;
    Batch* b = s.batch;
    b->holds.fetch_add(1, std::memory_order_relaxed);
    stats_.timeouts.fetch_add(1, std::memory_order_relaxed);
    stats_.device_errors.fetch_add(1, std::memory_order_relaxed);
    CpuFallback(b, s.unit);
    UnitDone(b);
    expired++;
  }
  return expired;
}

void BatchEngine::CpuFallback(Batch* b, uint32_t unit) {
  PageUnit& u = b->units[unit];
  if (b->op == DeviceOp::kDecompress) {
    stats_.decompress_fallbacks.fetch_add(1, std::memory_order_relaxed);
    *u.status = cpu_->Decompress(u.in, u.in_len, u.dst);
    return;
  }
  stats_.sw_fallbacks.fetch_add(1, std::memory_order_relaxed);
  int32_t r = cpu_->Compress(u.in, u.dst, std::min<uint32_t>(b->threshold, kPageSize - 1));
  if (r > 0) {
    *u.status = r;
  } else {
    *u.status = kIncompressible;  // overflow or codec error alike: keep the page raw
    stats_.raw_pages.fetch_add(1, std::memory_order_relaxed);
  }
}

void BatchEngine::UnitDone(Batch* b) {
  if (--b->pending == 0) callbacks_.done(b);
}

void BatchEngine::DropHold(Batch* b) {
  if (b->holds.fetch_sub(1, std::memory_order_acq_rel) == 1) callbacks_.release(b);
}

uint32_t BatchEngine::AcquireSlot() {
  uint32_t id;
  if (free_slots_.empty()) {
    id = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
    slots_.back().staging.reset(new uint8_t[kPageSize]);
  } else {
    id = free_slots_.back();
    free_slots_.pop_back();
  }
  slots_[id].generation++;
  return id;
}

void BatchEngine::ReleaseSlot(uint32_t id) {
  Slot& s = slots_[id];
  s.state = SlotState::kFree;
  s.batch = nullptr;
  free_slots_.push_back(id);
}

}  // namespace zstash
