// Linaro UADK (HiSilicon Kunpeng zip engines through UACCE) on wd_comp, as
// QEMU's multifd-uadk sets it up — wd_comp_init2, then one session per
// direction — but asynchronous: wd_do_comp_async per page and wd_comp_poll
// from the engine's poll, whose callbacks report each page. Raw deflate with a
// 4 KiB window (WD_DEFLATE, WD_COMP_WS_4K) is the deflate-4k stream every other
// device writes.
//
// wd_comp_init2 sets up process-wide contexts, so the first open initialises
// and the last close uninitialises. UADK has no software compression driver:
// without a UACCE device wd_comp_init2 fails (-WD_EINVAL) and the device is
// unavailable with that status. UACCE devices use shared virtual addressing, so
// the engine's input pages are read where they are; results land in buffers of
// this device and are copied out on completion.
#include "device_registry.h"

#ifdef ZSTASH_HAVE_UADK
#include <uadk/wd.h>
#include <uadk/wd_comp.h>
#include <uadk/wd_sched.h>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

// Library versions come from the build (lib-config.cjs) as bare tokens.
#define ZSTASH_STR2(x) #x
#define ZSTASH_STR(x) ZSTASH_STR2(x)

namespace zstash {
namespace {

constexpr const char* kAlg = "deflate";

std::string ErrnoName(int rc) {
  switch (-rc) {
    case EINVAL: return "-WD_EINVAL";
    case EBUSY: return "-WD_EBUSY";
    case ENODEV: return "-WD_ENODEV";
    case EEXIST: return "-WD_EEXIST";
    case EAGAIN: return "-WD_EAGAIN";
    case ENOMEM: return "-WD_ENOMEM";
    default: return "errno " + std::to_string(-rc);
  }
}

std::string Wd(const std::string& call, int rc) {
  return call + " returned " + std::to_string(rc) + " (" + ErrnoName(rc) + ")";
}

// The process-wide wd_comp_init2 state, shared by every UADK device.
struct UadkProcess {
  std::mutex mu;
  int users = 0;
  // wd_comp_poll serves every async context of the process: it runs on one
  // thread at a time, and the callbacks it makes may belong to any UADK device.
  std::mutex poll_mu;

  int Acquire() {
    std::lock_guard<std::mutex> lock(mu);
    if (users == 0) {
      int rc = wd_comp_init2(const_cast<char*>(kAlg), SCHED_POLICY_RR, TASK_HW);
      if (rc != 0 && rc != -WD_EEXIST) return rc;  // -WD_EEXIST: someone else in the process initialised it
    }
    users++;
    return 0;
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu);
    if (--users == 0) wd_comp_uninit2();
  }
  static UadkProcess& Get() {
    static UadkProcess p;
    return p;
  }
};

class UadkDevice;

struct UadkSlot {
  UadkDevice* device = nullptr;  // null once a closed device has given the slot up
  wd_comp_req req{};
  uint32_t status = 0;    // from the callback
  uint32_t produced = 0;  // from the callback
  std::unique_ptr<uint8_t[]> dst;
  uint32_t tag = 0;
  DeviceOp kind = DeviceOp::kCompress;
  uint8_t* out = nullptr;
  uint32_t out_cap = 0;
};

// Output room per page, as QEMU gives hisi_zip (two pages): a page that does
// not compress still fits, and is then reported as an overflow.
constexpr uint32_t kDstBytes = 2 * kPageSize;

class UadkDevice final : public Device {
 public:
  ~UadkDevice() override { Close(); }

  bool Open(const DeviceOptions& o, DeviceCaps* caps, std::string* error, bool* unavailable) override {
    *unavailable = false;
    if (!o.variant.empty()) return Fail(error, "uadk: takes no variant (the only path is the UACCE device)");
    depth_ = o.queue_depth ? o.queue_depth : 64;
    if (depth_ > 1024) return Fail(error, "uadk: queueDepth must be at most 1024");
    int rc = UadkProcess::Get().Acquire();
    if (rc != 0) {
      *unavailable = true;
      return Fail(error, "uadk: " + Wd(std::string("wd_comp_init2(\"") + kAlg + "\", SCHED_POLICY_RR, TASK_HW)", rc) +
                             ": no UACCE compression device (UADK " ZSTASH_STR(ZSTASH_UADK_VERSION)
                             " has hardware drivers only: HiSilicon hisi_zip)");
    }
    initialised_ = true;
    int level = std::clamp(o.level, 1, static_cast<int>(WD_COMP_L15));
    for (wd_comp_op_type op : {WD_DIR_COMPRESS, WD_DIR_DECOMPRESS}) {
      sched_params param{};
      param.numa_id = -1;  // the calling thread's node
      param.type = static_cast<__u8>(op);
      param.mode = CTX_MODE_ASYNC;
      wd_comp_sess_setup setup{};
      setup.alg_type = WD_DEFLATE;
      setup.op_type = op;
      setup.comp_lv = static_cast<wd_comp_level>(level);
      setup.win_sz = WD_COMP_WS_4K;
      setup.sched_param = &param;
      handle_t h = wd_comp_alloc_sess(&setup);
      if (!h) {
        Close();
        return Fail(error, std::string("uadk: wd_comp_alloc_sess (") + (op == WD_DIR_COMPRESS ? "compress" : "decompress") +
                               ", deflate, level " + std::to_string(level) + ", 4 KiB window) failed");
      }
      (op == WD_DIR_COMPRESS ? compress_ : decompress_) = h;
    }
    slots_.reset(new UadkSlot[depth_]);
    for (uint32_t i = 0; i < depth_; i++) {
      slots_[i].device = this;
      slots_[i].dst.reset(new uint8_t[kDstBytes]);
      free_.push_back(depth_ - 1 - i);
    }
    caps->name = "uadk";
    caps->driver = "uadk wd_comp";
    caps->stream_format = "deflate-4k";
    caps->path = "hardware";
    caps->library_version = "UADK " ZSTASH_STR(ZSTASH_UADK_VERSION);
    caps->max_batch = std::min<uint32_t>(o.max_batch, depth_);
    caps->queue_depth = depth_;
    caps->notes = "UACCE device through wd_comp (deflate, level " + std::to_string(level) + ", 4 KiB window, async)";
    return true;
  }

  size_t Submit(const DeviceJob* jobs, size_t n) override {
    for (size_t i = 0; i < n; i++) {
      if (free_.empty()) return i;
      UadkSlot& s = slots_[free_.back()];
      const DeviceJob& d = jobs[i];
      s.req = wd_comp_req{};
      s.req.src = const_cast<uint8_t*>(d.in);
      s.req.src_len = d.in_len;
      s.req.dst = s.dst.get();
      s.req.dst_len = kDstBytes;
      s.req.op_type = d.op == DeviceOp::kCompress ? WD_DIR_COMPRESS : WD_DIR_DECOMPRESS;
      s.req.data_fmt = WD_FLAT_BUF;
      s.req.cb = &UadkDevice::Callback;
      s.req.cb_param = &s;
      s.tag = d.tag;
      s.kind = d.op;
      s.out = d.out;
      s.out_cap = d.out_cap;
      // Counted before the call, so a callback can never find the count short.
      free_.pop_back();
      inflight_++;
      int rc = wd_do_comp_async(d.op == DeviceOp::kCompress ? compress_ : decompress_, &s.req);
      if (rc == 0) continue;
      inflight_--;
      Recycle(&s);
      if (rc == -WD_EBUSY) return i;  // the queue is full: the engine's busy policy takes over
      done_.push_back({d.tag, JobStatus::kError, 0});
    }
    return n;
  }

  size_t Poll(DeviceCompletion* out, size_t max) override {
    if (inflight_ > 0) PollLibrary();
    Collect();
    size_t n = 0;
    while (n < max && !done_.empty()) {
      out[n++] = done_.front();
      done_.pop_front();
    }
    return n;
  }

  void Close() override {
    if (!initialised_) return;
    // Requests cannot be withdrawn from the queue: wait (bounded) for them.
    // A device that never answers keeps its slots (they are leaked, not freed
    // under the device).
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (inflight_ > 0 && std::chrono::steady_clock::now() < deadline) {
      PollLibrary();
      Collect();
      if (inflight_ > 0) std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    if (inflight_ > 0) {
      // Another device's poll may still deliver these: the slots are leaked
      // and disowned (under the poll lock, so no callback is halfway through).
      std::lock_guard<std::mutex> lock(UadkProcess::Get().poll_mu);
      for (uint32_t i = 0; i < depth_; i++) slots_[i].device = nullptr;
      (void)slots_.release();
      compress_ = decompress_ = 0;  // sessions a request still refers to are not freed
    }
    if (compress_) wd_comp_free_sess(compress_);
    if (decompress_) wd_comp_free_sess(decompress_);
    compress_ = decompress_ = 0;
    slots_.reset();
    free_.clear();
    done_.clear();
    UadkProcess::Get().Release();
    initialised_ = false;
  }

 private:
  // Runs inside wd_comp_poll, on whichever device's thread polled: it only
  // records the result; the owning device's thread finishes the job.
  static void* Callback(wd_comp_req* req, void* param) {
    auto* s = static_cast<UadkSlot*>(param);
    if (!s->device) return nullptr;  // its device was closed before the answer came
    s->status = req->status;
    s->produced = req->dst_len;
    std::lock_guard<std::mutex> lock(s->device->finished_mu_);
    s->device->finished_.push_back(static_cast<uint32_t>(s - s->device->slots_.get()));
    return nullptr;
  }

  void PollLibrary() {
    // -WD_EAGAIN only means nothing more was ready.
    std::lock_guard<std::mutex> lock(UadkProcess::Get().poll_mu);
    __u32 count = 0;
    wd_comp_poll(static_cast<__u32>(std::max<size_t>(inflight_, 1)), &count);
  }

  void Collect() {
    {
      std::lock_guard<std::mutex> lock(finished_mu_);
      collected_.swap(finished_);
    }
    for (uint32_t id : collected_) Completed(&slots_[id]);
    collected_.clear();
  }

  static bool Fail(std::string* error, const std::string& message) {
    *error = message;
    return false;
  }

  void Completed(UadkSlot* s) {
    inflight_--;
    DeviceCompletion c{s->tag, JobStatus::kError, 0};
    if (s->status == WD_SUCCESS) {
      if (s->kind == DeviceOp::kCompress && s->produced > s->out_cap) {
        c.status = JobStatus::kOutputOverflow;  // incompressible under the threshold
      } else if (s->produced <= s->out_cap) {
        std::memcpy(s->out, s->dst.get(), s->produced);
        c.status = JobStatus::kOk;
        c.produced = s->produced;
      }
    }
    done_.push_back(c);
    Recycle(s);
  }

  void Recycle(UadkSlot* s) {
    s->out = nullptr;
    free_.push_back(static_cast<uint32_t>(s - slots_.get()));
  }

  bool initialised_ = false;
  uint32_t depth_ = 64;
  handle_t compress_ = 0, decompress_ = 0;
  std::unique_ptr<UadkSlot[]> slots_;
  std::vector<uint32_t> free_;
  std::deque<DeviceCompletion> done_;
  size_t inflight_ = 0;
  std::mutex finished_mu_;
  std::vector<uint32_t> finished_;   // slots the library answered, from any polling thread
  std::vector<uint32_t> collected_;  // this device's thread only
};

}  // namespace

std::unique_ptr<Device> MakeUadkDevice() { return std::make_unique<UadkDevice>(); }

DeviceKindInfo UadkDeviceKind() {
  DeviceKindInfo info;
  info.kind = "uadk";
  info.compiled = true;
  info.version = "UADK " ZSTASH_STR(ZSTASH_UADK_VERSION);
  return info;
}

}  // namespace zstash

#else  // !ZSTASH_HAVE_UADK

namespace zstash {

std::unique_ptr<Device> MakeUadkDevice() { return nullptr; }

DeviceKindInfo UadkDeviceKind() {
  DeviceKindInfo info;
  info.kind = "uadk";
  info.reason =
      "not compiled: UADK not found at build time (no .deps/uadk from the vendor tarballs, no UADK_ROOT, "
      "no pkg-config libwd + libwd_comp)";
  return info;
}

}  // namespace zstash

#endif
