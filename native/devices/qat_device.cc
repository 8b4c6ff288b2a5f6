// Intel QAT through qatlib's data-compression service: a stateless deflate
// session created with a callback, one cpaDcCompressData2/cpaDcDecompressData2
// per page, completions collected by icp_sal_DcPollInstance from the engine's
// poll. That is the submit-then-poll interface QATzip itself is built on.
//
// QATzip (QEMU's multifd-qatzip library) is used for what it adds on top: the
// probe, qzInit with its software backup off, and its session defaults (level,
// Huffman mode). QATzip's software fallback is never used to compress pages:
// without hardware every QATzip call retries hardware init and leaks a pthread
// key (about 1,025 calls exhaust the process's keys), so the probe runs once per
// process, and pages go to the engine's CPU fallback instead.
//
// Without a device nothing here prints: qzSetLogLevel(LOG_NONE) quiets QATzip,
// and icp_sal_userStart (which writes to stderr when it fails) is only called
// once qatlib's own icp_sal_userIsQatAvailable() has seen a QAT function, the
// order QATzip's qzInit uses too.
#include "device_registry.h"

#ifdef ZSTASH_HAVE_QAT
#include <qat/cpa.h>
#include <qat/cpa_dc.h>
#include <qat/icp_sal_poll.h>
#include <qat/icp_sal_user.h>
#include <qat/qae_mem.h>
#include <qatzip.h>
#include <algorithm>
#include <chrono>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <tuple>

// Library versions come from the build (lib-config.cjs) as bare tokens.
#define ZSTASH_STR2(x) #x
#define ZSTASH_STR(x) ZSTASH_STR2(x)

namespace zstash {
namespace {

std::string CpaStatusName(CpaStatus s) {
  switch (s) {
    case CPA_STATUS_SUCCESS: return "CPA_STATUS_SUCCESS";
    case CPA_STATUS_FAIL: return "CPA_STATUS_FAIL";
    case CPA_STATUS_RETRY: return "CPA_STATUS_RETRY";
    case CPA_STATUS_RESOURCE: return "CPA_STATUS_RESOURCE";
    case CPA_STATUS_INVALID_PARAM: return "CPA_STATUS_INVALID_PARAM";
    case CPA_STATUS_FATAL: return "CPA_STATUS_FATAL";
    case CPA_STATUS_UNSUPPORTED: return "CPA_STATUS_UNSUPPORTED";
    case CPA_STATUS_RESTARTING: return "CPA_STATUS_RESTARTING";
    default: return "CpaStatus";
  }
}

std::string Cpa(const std::string& call, CpaStatus s) {
  return call + " returned " + std::to_string(s) + " (" + CpaStatusName(s) + ")";
}

std::string QzName(int rc) {
  switch (rc) {
    case QZ_OK: return "QZ_OK";
    case QZ_DUPLICATE: return "QZ_DUPLICATE";
    case QZ_PARAMS: return "QZ_PARAMS";
    case QZ_FAIL: return "QZ_FAIL";
    case QZ_NO_HW: return "QZ_NO_HW";
    case QZ_NOSW_NO_HW: return "QZ_NOSW_NO_HW";
    case QZ_NOSW_NO_MDRV: return "QZ_NOSW_NO_MDRV";
    case QZ_NOSW_NO_INST_ATTACH: return "QZ_NOSW_NO_INST_ATTACH";
    case QZ_NOSW_LOW_MEM: return "QZ_NOSW_LOW_MEM";
    default: return "QZ status";
  }
}

std::string LibraryVersion() {
  return std::string("qatlib " ZSTASH_STR(ZSTASH_QATLIB_VERSION) " (DC API ") + std::to_string(CPA_DC_API_VERSION_NUM_MAJOR) + "." +
         std::to_string(CPA_DC_API_VERSION_NUM_MINOR) + ") + QATzip " ZSTASH_STR(ZSTASH_QATZIP_VERSION) " (API " +
         std::to_string(QATZIP_API_VERSION_NUM_MAJOR) + "." + std::to_string(QATZIP_API_VERSION_NUM_MINOR) + ")";
}

// What the one probe of this process found. Instances are shared by every QAT
// device opened in the process; each device claims one for itself, because
// icp_sal_DcPollInstance on one instance must not run on two threads at once.
struct QatProcess {
  int qz_init = QZ_NONE;
  CpaBoolean qat_available = CPA_FALSE;
  bool start_attempted = false;
  CpaStatus start = CPA_STATUS_FAIL;
  CpaStatus instances_status = CPA_STATUS_FAIL;
  std::vector<CpaInstanceHandle> instances;
  std::vector<bool> claimed;
  QzSessionParamsDeflate_T qz_defaults{};
  int qz_defaults_rc = QZ_FAIL;
  std::mutex mu;  // guards claimed

  std::string Unavailable() const {
    std::string qz = "QATzip qzInit(sw_backup=0) returned " + std::to_string(qz_init) + " (" + QzName(qz_init) + ")";
    if (!qat_available)
      return "no QAT device: qatlib icp_sal_userIsQatAvailable() returned CPA_FALSE (no QAT function bound to vfio-pci), "
             "so icp_sal_userStart was not attempted; " + qz;
    if (start != CPA_STATUS_SUCCESS) return "QAT device present but " + Cpa("icp_sal_userStart(\"SSL\")", start) + "; " + qz;
    if (instances_status != CPA_STATUS_SUCCESS) return Cpa("cpaDcGetNumInstances", instances_status) + "; " + qz;
    return "qatlib offers no data-compression instance (cpaDcGetNumInstances = 0); " + qz;
  }

  static QatProcess& Get() {
    static QatProcess p;
    static std::once_flag once;
    std::call_once(once, [] { p.Probe(); });
    return p;
  }

 private:
  void Probe() {
    // QATzip's defaults are plain data; reading them starts nothing.
    qz_defaults_rc = qzGetDefaultsDeflate(&qz_defaults);
    QzLogLevel_T previous = qzSetLogLevel(LOG_NONE);
    QzSession_T probe{};
    qz_init = qzInit(&probe, 0);
    qzSetLogLevel(previous);
    qat_available = icp_sal_userIsQatAvailable();
    if (!qat_available) return;
    start_attempted = true;
    start = icp_sal_userStart("SSL");
    if (start != CPA_STATUS_SUCCESS) return;
    Cpa16U n = 0;
    instances_status = cpaDcGetNumInstances(&n);
    if (instances_status != CPA_STATUS_SUCCESS || n == 0) return;
    instances.resize(n);
    instances_status = cpaDcGetInstances(n, instances.data());
    if (instances_status != CPA_STATUS_SUCCESS) instances.clear();
    claimed.assign(instances.size(), false);
  }
};

// qatlib reads and writes through physical addresses: every buffer it sees is
// pinned memory from usdm, freed with the device.
class Pinned {
 public:
  Pinned() = default;
  Pinned(const Pinned&) = delete;
  Pinned& operator=(const Pinned&) = delete;
  ~Pinned() { Reset(); }
  bool Alloc(size_t size, int node) {
    Reset();
    ptr_ = qaeMemAllocNUMA(size, node, 64);
    if (ptr_) std::memset(ptr_, 0, size);
    return ptr_ != nullptr;
  }
  void Reset() {
    if (ptr_) qaeMemFreeNUMA(&ptr_);
    ptr_ = nullptr;
  }
  void Leak() { ptr_ = nullptr; }
  uint8_t* get() const { return static_cast<uint8_t*>(ptr_); }

 private:
  void* ptr_ = nullptr;
};

CpaPhysicalAddr VirtToPhys(void* virt) { return static_cast<CpaPhysicalAddr>(qaeVirtToPhysNUMA(virt)); }

class QatDevice;

// One page in flight: its pinned buffers, buffer lists, op data and results.
struct QatSlot {
  QatDevice* device = nullptr;
  Pinned src, dst, src_meta, dst_meta;
  CpaFlatBuffer src_flat{}, dst_flat{};
  CpaBufferList src_list{}, dst_list{};
  CpaDcOpData op{};
  CpaDcRqResults results{};
  uint32_t dst_cap = 0;
  uint32_t tag = 0;
  DeviceOp kind = DeviceOp::kCompress;
  uint8_t* out = nullptr;
  uint32_t out_cap = 0;
};

class QatDevice final : public Device {
 public:
  ~QatDevice() override { Close(); }

  bool Open(const DeviceOptions& o, DeviceCaps* caps, std::string* error, bool* unavailable) override {
    *unavailable = false;
    process_ = &QatProcess::Get();  // the probe runs here, on the opening (pool) thread, once per process
    if (!o.variant.empty()) return Fail(error, "qat: takes no variant (the only path is the QAT device)");
    depth_ = o.queue_depth ? o.queue_depth : 64;
    if (depth_ > 1024) return Fail(error, "qat: queueDepth must be at most 1024");
    if (process_->qz_defaults_rc != QZ_OK)
      return Fail(error, "qat: qzGetDefaultsDeflate returned " + std::to_string(process_->qz_defaults_rc));
    // QATzip's session semantics: its level (1 = fastest, QEMU's
    // multifd-qatzip-level default) and Huffman mode, unless the options say
    // otherwise.
    int level = std::clamp(o.level, QZ_DEFLATE_COMP_LVL_MINIMUM, QZ_DEFLATE_COMP_LVL_MAXIMUM);
    bool dynamic = o.dynamic_huffman_set ? o.dynamic_huffman : process_->qz_defaults.huffman_hdr == QZ_DYNAMIC_HDR;
    if (!process_->qat_available || process_->start != CPA_STATUS_SUCCESS || process_->instances.empty()) {
      *unavailable = true;
      return Fail(error, "qat: " + process_->Unavailable());
    }
    if (!ClaimInstance()) {
      *unavailable = true;
      return Fail(error, "qat: all " + std::to_string(process_->instances.size()) + " QAT data-compression instances are in use");
    }
    if (!StartInstance(dynamic, error) || !StartSession(level, dynamic, error) || !AllocateSlots(error)) {
      Close();
      return false;
    }
    caps->name = "qat";
    caps->driver = "qatlib";
    caps->stream_format = "deflate-4k";
    caps->path = "hardware";
    caps->library_version = LibraryVersion();
    caps->max_batch = std::min<uint32_t>(o.max_batch, depth_);
    caps->queue_depth = depth_;
    caps->notes = "QAT instance " + std::to_string(instance_index_) + " of " + std::to_string(process_->instances.size()) +
                  ", stateless deflate, level " + std::to_string(level) + (dynamic ? ", dynamic Huffman" : ", static Huffman") +
                  "; pages are copied into pinned (usdm) buffers; QATzip probe: qzInit(sw_backup=0) = " +
                  std::to_string(process_->qz_init) + " (" + QzName(process_->qz_init) + ")";
    return true;
  }

  size_t Submit(const DeviceJob* jobs, size_t n) override {
    for (size_t i = 0; i < n; i++) {
      if (free_.empty()) return i;
      QatSlot& s = slots_[free_.back()];
      const DeviceJob& d = jobs[i];
      if (d.in_len == 0 || d.in_len > kPageSize) {
        done_.push_back({d.tag, JobStatus::kError, 0});
        continue;
      }
      std::memcpy(s.src.get(), d.in, d.in_len);
      s.src_flat.dataLenInBytes = d.in_len;
      s.dst_flat.dataLenInBytes = s.dst_cap;
      std::memset(&s.results, 0, sizeof s.results);
      s.op = CpaDcOpData{};
      s.op.flushFlag = CPA_DC_FLUSH_FINAL;
      s.op.compressAndVerify = CPA_TRUE;
      s.op.inputSkipData.skipMode = CPA_DC_SKIP_DISABLED;
      s.op.outputSkipData.skipMode = CPA_DC_SKIP_DISABLED;
      s.tag = d.tag;
      s.kind = d.op;
      s.out = d.out;
      s.out_cap = d.out_cap;
      // Counted before the call, so a callback can never find the count short.
      free_.pop_back();
      inflight_++;
      CpaStatus st = d.op == DeviceOp::kCompress
                         ? cpaDcCompressData2(instance_, session_, &s.src_list, &s.dst_list, &s.op, &s.results, &s)
                         : cpaDcDecompressData2(instance_, session_, &s.src_list, &s.dst_list, &s.op, &s.results, &s);
      if (st == CPA_STATUS_SUCCESS) continue;
      inflight_--;
      Recycle(&s);
      if (st == CPA_STATUS_RETRY) return i;  // the ring is full: the engine's busy policy takes over
      done_.push_back({d.tag, JobStatus::kError, 0});
    }
    return n;
  }

  size_t Poll(DeviceCompletion* out, size_t max) override {
    // Callbacks run inside icp_sal_DcPollInstance, on this thread; quota 0
    // collects every response waiting.
    if (inflight_ > 0) icp_sal_DcPollInstance(instance_, 0);
    size_t n = 0;
    while (n < max && !done_.empty()) {
      out[n++] = done_.front();
      done_.pop_front();
    }
    return n;
  }

  void Close() override {
    if (!claimed_) return;
    // A request on the device cannot be cancelled: wait (bounded) for its
    // callback. Slots still out after that are leaked, never freed under DMA.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (inflight_ > 0 && std::chrono::steady_clock::now() < deadline) {
      icp_sal_DcPollInstance(instance_, 0);
      if (inflight_ > 0) std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    if (inflight_ > 0) {
      // The device may still write the pinned buffers and call back into the
      // slots: leak them, and keep the instance claimed so no later device
      // polls it into freed memory.
      (void)slots_.release();
      session_memory_.Leak();
      intermediate_.Leak();
    } else {
      if (session_) cpaDcRemoveSession(instance_, session_);
      if (started_) cpaDcStopInstance(instance_);
      slots_.reset();
      session_memory_.Reset();
      intermediate_.Release();
      std::lock_guard<std::mutex> lock(process_->mu);
      process_->claimed[instance_index_] = false;
    }
    session_ = nullptr;
    started_ = false;
    free_.clear();
    done_.clear();
    claimed_ = false;
  }

  // Called by qatlib from icp_sal_DcPollInstance.
  static void Callback(void* tag, CpaStatus status) {
    auto* s = static_cast<QatSlot*>(tag);
    s->device->Completed(s, status);
  }

 private:
  // Intermediate buffers some QAT generations need for dynamic Huffman.
  struct Intermediate {
    std::vector<std::unique_ptr<Pinned>> memory;
    std::vector<CpaBufferList*> lists;
    Pinned array;
    void Leak() {
      for (auto& m : memory) m->Leak();
      array.Leak();
    }
    void Release() {
      memory.clear();
      lists.clear();
      array.Reset();
    }
  };

  static bool Fail(std::string* error, const std::string& message) {
    *error = message;
    return false;
  }

  bool ClaimInstance() {
    std::lock_guard<std::mutex> lock(process_->mu);
    for (size_t i = 0; i < process_->instances.size(); i++) {
      if (process_->claimed[i]) continue;
      process_->claimed[i] = true;
      instance_index_ = i;
      instance_ = process_->instances[i];
      claimed_ = true;
      return true;
    }
    return false;
  }

  bool StartInstance(bool dynamic, std::string* error) {
    CpaInstanceInfo2 info{};
    CpaStatus st = cpaDcInstanceGetInfo2(instance_, &info);
    if (st != CPA_STATUS_SUCCESS) return Fail(error, "qat: " + Cpa("cpaDcInstanceGetInfo2", st));
    if (!info.isPolled) return Fail(error, "qat: instance " + std::to_string(instance_index_) + " is not a polled instance");
    node_ = info.nodeAffinity;
    CpaDcInstanceCapabilities cap{};
    st = cpaDcQueryCapabilities(instance_, &cap);
    if (st != CPA_STATUS_SUCCESS) return Fail(error, "qat: " + Cpa("cpaDcQueryCapabilities", st));
    if (!cap.statelessDeflateCompression || !cap.statelessDeflateDecompression)
      return Fail(error, "qat: the instance offers no stateless deflate");
    st = cpaDcBufferListGetMetaSize(instance_, 1, &meta_size_);
    if (st != CPA_STATUS_SUCCESS) return Fail(error, "qat: " + Cpa("cpaDcBufferListGetMetaSize", st));
    Cpa16U inter = 0;
    if (dynamic && cap.dynamicHuffmanBufferReq) {
      st = cpaDcGetNumIntermediateBuffers(instance_, &inter);
      if (st != CPA_STATUS_SUCCESS) return Fail(error, "qat: " + Cpa("cpaDcGetNumIntermediateBuffers", st));
      if (inter > 0 && !intermediate_.array.Alloc(inter * sizeof(CpaBufferList*), node_))
        return Fail(error, "qat: qaeMemAllocNUMA failed for intermediate buffers");
      auto** lists = reinterpret_cast<CpaBufferList**>(intermediate_.array.get());
      for (Cpa16U i = 0; i < inter; i++) {
        // A list, its metadata, one flat buffer and its data (twice the
        // largest output, as qatlib's samples size it), all pinned.
        auto list = std::make_unique<Pinned>(), meta = std::make_unique<Pinned>(), flat = std::make_unique<Pinned>(),
             data = std::make_unique<Pinned>();
        if (!list->Alloc(sizeof(CpaBufferList), node_) || !meta->Alloc(meta_size_, node_) ||
            !flat->Alloc(sizeof(CpaFlatBuffer), node_) || !data->Alloc(2 * kIntermediateBytes, node_))
          return Fail(error, "qat: qaeMemAllocNUMA failed for intermediate buffers");
        auto* l = reinterpret_cast<CpaBufferList*>(list->get());
        auto* f = reinterpret_cast<CpaFlatBuffer*>(flat->get());
        f->pData = data->get();
        f->dataLenInBytes = 2 * kIntermediateBytes;
        l->numBuffers = 1;
        l->pBuffers = f;
        l->pPrivateMetaData = meta->get();
        lists[i] = l;
        for (auto* p : {&list, &meta, &flat, &data}) intermediate_.memory.push_back(std::move(*p));
      }
    }
    st = cpaDcSetAddressTranslation(instance_, VirtToPhys);
    if (st != CPA_STATUS_SUCCESS) return Fail(error, "qat: " + Cpa("cpaDcSetAddressTranslation", st));
    st = cpaDcStartInstance(instance_, inter, inter ? reinterpret_cast<CpaBufferList**>(intermediate_.array.get()) : nullptr);
    if (st != CPA_STATUS_SUCCESS) return Fail(error, "qat: " + Cpa("cpaDcStartInstance", st));
    started_ = true;
    return true;
  }

  bool StartSession(int level, bool dynamic, std::string* error) {
    CpaDcSessionSetupData sd{};
    sd.compLevel = static_cast<CpaDcCompLvl>(level);
    sd.compType = CPA_DC_DEFLATE;
    sd.huffType = dynamic ? CPA_DC_HT_FULL_DYNAMIC : CPA_DC_HT_STATIC;
    sd.autoSelectBestHuffmanTree = CPA_DC_ASB_DISABLED;
    sd.sessDirection = CPA_DC_DIR_COMBINED;
    sd.sessState = CPA_DC_STATELESS;
    sd.checksum = CPA_DC_NONE;  // raw deflate: no zlib/gzip framing
    // A 4 KiB window matches IAA; a device that only offers a larger one still
    // writes deflate-4k for a single page (nothing lies more than 4095 bytes back).
    CpaStatus st = CPA_STATUS_FAIL;
    Cpa32U session_size = 0, context_size = 0;
    for (CpaDcCompWindowSize w : {CPA_DC_WINSIZE_4K, CPA_DC_WINSIZE_32K}) {
      sd.windowSize = w;
      st = cpaDcGetSessionSize(instance_, &sd, &session_size, &context_size);
      if (st == CPA_STATUS_SUCCESS) break;
    }
    if (st != CPA_STATUS_SUCCESS) return Fail(error, "qat: " + Cpa("cpaDcGetSessionSize", st));
    if (!session_memory_.Alloc(session_size, node_)) return Fail(error, "qat: qaeMemAllocNUMA failed for the session");
    session_ = session_memory_.get();
    st = cpaDcInitSession(instance_, session_, &sd, nullptr, &QatDevice::Callback);
    if (st != CPA_STATUS_SUCCESS) {
      session_ = nullptr;
      return Fail(error, "qat: " + Cpa("cpaDcInitSession", st));
    }
    Cpa32U bound = 0;
    st = cpaDcDeflateCompressBound(instance_, sd.huffType, kPageSize, &bound);
    if (st != CPA_STATUS_SUCCESS) return Fail(error, "qat: " + Cpa("cpaDcDeflateCompressBound", st));
    dst_cap_ = std::max<uint32_t>(bound, kPageSize);
    return true;
  }

  bool AllocateSlots(std::string* error) {
    // Slot addresses are the callback tags: they must not move.
    slots_.reset(new QatSlot[depth_]);
    for (uint32_t i = 0; i < depth_; i++) {
      QatSlot& s = slots_[i];
      s.device = this;
      s.dst_cap = dst_cap_;
      if (!s.src.Alloc(kPageSize, node_) || !s.dst.Alloc(dst_cap_, node_) || !s.src_meta.Alloc(meta_size_, node_) ||
          !s.dst_meta.Alloc(meta_size_, node_))
        return Fail(error, "qat: qaeMemAllocNUMA failed for queue slot buffers (depth " + std::to_string(depth_) + ")");
      s.src_flat.pData = s.src.get();
      s.dst_flat.pData = s.dst.get();
      for (auto [list, flat, meta] : {std::tuple{&s.src_list, &s.src_flat, &s.src_meta}, std::tuple{&s.dst_list, &s.dst_flat, &s.dst_meta}}) {
        list->numBuffers = 1;
        list->pBuffers = flat;
        list->pPrivateMetaData = meta->get();
      }
      free_.push_back(depth_ - 1 - i);
    }
    return true;
  }

  void Completed(QatSlot* s, CpaStatus status) {
    inflight_--;
    DeviceCompletion c{s->tag, JobStatus::kError, 0};
    const CpaDcRqResults& r = s->results;
    if (status == CPA_STATUS_SUCCESS && r.status == CPA_DC_OK) {
      if (s->kind == DeviceOp::kCompress && r.produced > s->out_cap) {
        c.status = JobStatus::kOutputOverflow;  // incompressible under the threshold
      } else if (r.produced <= s->out_cap) {
        std::memcpy(s->out, s->dst.get(), r.produced);
        c.status = JobStatus::kOk;
        c.produced = r.produced;
      }
    } else if (s->kind == DeviceOp::kCompress && r.status == CPA_DC_OVERFLOW) {
      c.status = JobStatus::kOutputOverflow;
    }
    done_.push_back(c);
    Recycle(s);
  }

  void Recycle(QatSlot* s) {
    s->out = nullptr;
    free_.push_back(static_cast<uint32_t>(s - slots_.get()));
  }

  // qatlib's samples size intermediate buffers from their largest request;
  // here that is one page.
  static constexpr uint32_t kIntermediateBytes = 64 * 1024;

  QatProcess* process_ = nullptr;
  CpaInstanceHandle instance_ = nullptr;
  size_t instance_index_ = 0;
  bool claimed_ = false;
  bool started_ = false;
  int node_ = 0;
  Cpa32U meta_size_ = 0;
  uint32_t depth_ = 64;
  uint32_t dst_cap_ = kPageSize;
  Pinned session_memory_;
  CpaDcSessionHandle session_ = nullptr;
  Intermediate intermediate_;
  std::unique_ptr<QatSlot[]> slots_;
  std::vector<uint32_t> free_;
  std::deque<DeviceCompletion> done_;
  size_t inflight_ = 0;
};

}  // namespace

std::unique_ptr<Device> MakeQatDevice() { return std::make_unique<QatDevice>(); }

DeviceKindInfo QatDeviceKind() {
  DeviceKindInfo info;
  info.kind = "qat";
  info.compiled = true;
  info.version = LibraryVersion();
  return info;
}

}  // namespace zstash

#else  // !ZSTASH_HAVE_QAT

namespace zstash {

std::unique_ptr<Device> MakeQatDevice() { return nullptr; }

DeviceKindInfo QatDeviceKind() {
  DeviceKindInfo info;
  info.kind = "qat";
  info.reason =
      "not compiled: qatlib + QATzip not found at build time (no .deps/qatlib + .deps/qatzip from the vendor tarballs, "
      "no QAT_ROOT, no pkg-config qatzip + qatlib)";
  return info;
}

}  // namespace zstash

#endif
