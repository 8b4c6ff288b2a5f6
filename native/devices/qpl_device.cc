// Intel QPL (IAA): one qpl_job per in-flight page, qpl_submit_job then
// qpl_check_job, as QEMU's multifd-qpl does, but polled by the engine instead
// of waited on. The path is resolved here, not left to qpl_path_auto, because
// QPL's auto path falls back to the CPU silently and a report must say which
// one ran.
#include "device_registry.h"

#ifdef ZSTASH_HAVE_QPL
#include <qpl/qpl.h>
#include <algorithm>
#include <memory>

namespace zstash {
namespace {

constexpr uint32_t kNoTag = UINT32_MAX;

std::string StatusText(qpl_status s) {
  switch (s) {
    case QPL_STS_INIT_HW_NOT_SUPPORTED: return "hardware path not supported on this machine";
    case QPL_STS_INIT_LIBACCEL_NOT_FOUND: return "libaccel-config.so.1 not found";
    case QPL_STS_INIT_LIBACCEL_ERROR: return "libaccel-config error";
    case QPL_STS_INIT_WORK_QUEUES_NOT_AVAILABLE: return "no enabled IAA work queues";
    default: return "status " + std::to_string(static_cast<int>(s));
  }
}

class QplDevice final : public Device {
 public:
  ~QplDevice() override { Close(); }

  bool Open(const DeviceOptions& o, DeviceCaps* caps, std::string* error, bool* unavailable) override {
    *unavailable = false;
    std::string want = o.variant.empty() ? "auto" : o.variant;
    if (want != "auto" && want != "hardware" && want != "software") {
      *error = "qpl: path must be 'auto', 'hardware' or 'software'";
      return false;
    }
    depth_ = o.queue_depth ? o.queue_depth : 16;
    if (depth_ > 1024) {
      *error = "qpl: queueDepth must be at most 1024";
      return false;
    }
    std::string probe_note;
    if (want == "software") {
      path_ = qpl_path_software;
    } else {
      qpl_status s = Allocate(qpl_path_hardware);
      if (s == QPL_STS_OK) {
        path_ = qpl_path_hardware;
      } else if (want == "hardware") {
        Free();
        *error = "qpl: IAA hardware path unavailable: qpl_init_job(qpl_path_hardware) returned " +
                 std::to_string(static_cast<int>(s)) + " (" + StatusText(s) + ")";
        *unavailable = true;
        return false;
      } else {
        Free();
        path_ = qpl_path_software;
        probe_note = "auto: hardware probe returned " + std::to_string(static_cast<int>(s)) + " (" + StatusText(s) +
                     "), running QPL's software path";
      }
    }
    if (jobs_.empty()) {
      qpl_status s = Allocate(path_);
      if (s != QPL_STS_OK) {
        Free();
        *error = "qpl: qpl_init_job(software) returned " + std::to_string(static_cast<int>(s));
        return false;
      }
    }
    bool hardware = path_ == qpl_path_hardware;
    // qpl_high_level is software-only; IAA rejects it.
    level_ = (o.level >= 2 && !hardware) ? qpl_high_level : qpl_default_level;
    dynamic_ = o.dynamic_huffman;
    caps->name = want == "auto" ? "qpl" : "qpl:" + want;
    caps->driver = "qpl";
    caps->stream_format = "deflate-4k";
    caps->path = hardware ? "hardware" : "software";
    caps->library_version = std::string("qpl ") + qpl_get_library_version();
    caps->max_batch = std::min<uint32_t>(o.max_batch, depth_);
    caps->queue_depth = depth_;
    caps->notes = std::string(hardware ? "IAA through QPL's hardware path" : "QPL software path (CPU)") +
                  (dynamic_ ? ", dynamic Huffman" : ", fixed Huffman") +
                  (level_ == qpl_high_level ? ", high level" : ", default level") +
                  (probe_note.empty() ? "" : "; " + probe_note);
    return true;
  }

  size_t Submit(const DeviceJob* jobs, size_t n) override {
    for (size_t i = 0; i < n; i++) {
      if (free_.empty()) return i;
      uint32_t slot = free_.back();
      qpl_job* job = jobs_[slot];
      const DeviceJob& d = jobs[i];
      job->op = d.op == DeviceOp::kCompress ? qpl_op_compress : qpl_op_decompress;
      job->next_in_ptr = const_cast<uint8_t*>(d.in);
      job->available_in = d.in_len;
      job->next_out_ptr = d.out;
      job->available_out = d.out_cap;
      job->flags = QPL_FLAG_FIRST | QPL_FLAG_LAST;
      if (d.op == DeviceOp::kCompress) {
        job->flags |= QPL_FLAG_OMIT_VERIFY | (dynamic_ ? QPL_FLAG_DYNAMIC_HUFFMAN : 0);
        job->level = level_;
      }
      qpl_status s = qpl_submit_job(job);
      if (s == QPL_STS_QUEUES_ARE_BUSY_ERR) return i;
      free_.pop_back();
      tags_[slot] = d.tag;
      ops_[slot] = d.op;
      if (s != QPL_STS_OK) {
        // The software path executes inside submit, so a final status
        // (such as an output overflow) can come back from here.
        done_.push_back({d.tag, Classify(d.op, s), 0});
        Recycle(slot);
      } else {
        inflight_.push_back(slot);
      }
    }
    return n;
  }

  size_t Poll(DeviceCompletion* out, size_t max) override {
    size_t n = 0;
    while (n < max && !done_.empty()) {
      out[n++] = done_.back();
      done_.pop_back();
    }
    for (size_t i = 0; i < inflight_.size() && n < max;) {
      uint32_t slot = inflight_[i];
      qpl_job* job = jobs_[slot];
      qpl_status s = qpl_check_job(job);
      if (s == QPL_STS_BEING_PROCESSED) {
        i++;
        continue;
      }
      DeviceCompletion& c = out[n++];
      c.tag = tags_[slot];
      c.produced = 0;
      c.status = Classify(ops_[slot], s);
      if (s == QPL_STS_OK) c.produced = job->total_out;
      inflight_[i] = inflight_.back();
      inflight_.pop_back();
      Recycle(slot);
    }
    return n;
  }

  void Close() override {
    // A job still on the device must finish before its memory is released.
    for (uint32_t slot : inflight_) qpl_wait_job(jobs_[slot]);
    inflight_.clear();
    done_.clear();
    Free();
  }

 private:
  static JobStatus Classify(DeviceOp op, qpl_status s) {
    if (s == QPL_STS_OK) return JobStatus::kOk;
    if (op == DeviceOp::kCompress && (s == QPL_STS_MORE_OUTPUT_NEEDED || s == QPL_STS_DST_IS_SHORT_ERR))
      return JobStatus::kOutputOverflow;
    return JobStatus::kError;
  }

  qpl_status Allocate(qpl_path_t path) {
    uint32_t size = 0;
    qpl_status s = qpl_get_job_size(path, &size);
    if (s != QPL_STS_OK) return s;
    for (uint32_t i = 0; i < depth_; i++) {
      memory_.emplace_back(new uint8_t[size]());
      auto* job = reinterpret_cast<qpl_job*>(memory_.back().get());
      s = qpl_init_job(path, job);
      if (s != QPL_STS_OK) {
        memory_.pop_back();
        return s;
      }
      jobs_.push_back(job);
      free_.push_back(i);
    }
    tags_.assign(depth_, kNoTag);
    ops_.assign(depth_, DeviceOp::kCompress);
    return QPL_STS_OK;
  }

  void Free() {
    for (qpl_job* job : jobs_) qpl_fini_job(job);
    jobs_.clear();
    memory_.clear();
    free_.clear();
  }

  void Recycle(uint32_t slot) {
    tags_[slot] = kNoTag;
    free_.push_back(slot);
  }

  qpl_path_t path_ = qpl_path_software;
  uint32_t depth_ = 16;
  qpl_compression_levels level_ = qpl_default_level;
  bool dynamic_ = false;
  std::vector<std::unique_ptr<uint8_t[]>> memory_;
  std::vector<qpl_job*> jobs_;
  std::vector<uint32_t> free_;
  std::vector<uint32_t> inflight_;
  std::vector<uint32_t> tags_;
  std::vector<DeviceOp> ops_;
  std::vector<DeviceCompletion> done_;
};

}  // namespace

std::unique_ptr<Device> MakeQplDevice() { return std::make_unique<QplDevice>(); }

DeviceKindInfo QplDeviceKind() {
  DeviceKindInfo info;
  info.kind = "qpl";
  info.compiled = true;
  info.version = std::string("qpl ") + qpl_get_library_version();
  return info;
}

}  // namespace zstash

#else  // !ZSTASH_HAVE_QPL

namespace zstash {

std::unique_ptr<Device> MakeQplDevice() { return nullptr; }

DeviceKindInfo QplDeviceKind() {
  DeviceKindInfo info;
  info.kind = "qpl";
  info.reason =
      "not compiled: QPL not found at build time (no .deps/qpl from the vendor tarballs, no QPL_ROOT, no pkg-config "
      "qpl)";
  return info;
}

}  // namespace zstash

#endif
