// DPDK compressdev: the same enqueue/dequeue code drives the software vdevs
// (compress_isal, compress_zlib) and hardware PMDs (compress_qat, compress_mlx5)
// when the EAL can see them. Pages are attached to mbufs as external buffers
// when the PMD runs on the CPU (no DMA, so any virtual address will do); for
// other PMDs they are copied into mbufs from a DPDK pool, because an arbitrary
// JS heap address is not DMA-mapped for the device.
#include "device_registry.h"

#ifdef ZSTASH_HAVE_DPDK
#include <rte_bus_vdev.h>
#include <rte_comp.h>
#include <rte_compressdev.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_version.h>
#include <algorithm>
#include <atomic>
#include <cstring>
#include <set>
#include "dpdk_eal.h"

namespace zstash {
namespace {

// Stored in each mbuf's private area: the job's tag and, for external
// buffers, the shared-info block DPDK requires (it must outlive the attach).
struct MbufPriv {
  uint32_t tag;
  uint32_t out_cap;
  uint8_t* out;  // where a copy-mode result goes
  rte_mbuf_ext_shared_info shinfo;
};

void NoopFree(void*, void*) {}

std::set<uint8_t>& ClaimedDevices() {
  static std::set<uint8_t> claimed;
  return claimed;
}

// DPDK 22.11 cannot create a compressdev again at an index it has destroyed
// (the device's data memzone is never freed, so the next allocation at that
// index fails). Virtual devices are therefore never removed: a closed one is
// kept, stopped, and reconfigured by the next open of the same driver.
std::vector<uint8_t>& IdleVdevs() {
  static std::vector<uint8_t> idle;
  return idle;
}

std::atomic<uint32_t> g_vdev_counter{0};

bool IsSoftwarePmd(const std::string& variant) { return variant == "isal" || variant == "zlib"; }

class DpdkDevice final : public Device {
 public:
  ~DpdkDevice() override { Close(); }

  bool Open(const DeviceOptions& o, DeviceCaps* caps, std::string* error, bool* unavailable) override {
    *unavailable = false;
    if (o.variant.empty() || o.variant.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") != std::string::npos) {
      *error = "dpdk: driver must be a compressdev PMD name such as 'isal', 'zlib' or 'qat'";
      return false;
    }
    EalRequest eal;
    eal.extra_args = o.eal_args;
    eal.pci = o.eal_pci;
    eal.hugepages = o.eal_hugepages;
    if (!EnsureEal(eal, error)) {
      *unavailable = true;
      return false;
    }
    std::lock_guard<std::mutex> lock(DpdkControlMutex());
    driver_ = "compress_" + o.variant;
    software_ = IsSoftwarePmd(o.variant);
    zero_copy_ = o.zero_copy < 0 ? software_ : o.zero_copy == 1;
    depth_ = o.queue_depth ? o.queue_depth : 64;
    if (depth_ > 4096) {
      *error = "dpdk: queueDepth must be at most 4096";
      return false;
    }
    if (software_) {
      if (!TakeIdleVdev() && !CreateVdev(o, error)) {
        *unavailable = true;
        return false;
      }
    } else if (!FindHardwareDevice(error)) {
      *unavailable = true;
      return false;
    }
    ClaimedDevices().insert(dev_);
    claimed_ = true;

    const rte_compressdev_capabilities* cap = rte_compressdev_capability_get(dev_, RTE_COMP_ALGO_DEFLATE);
    if (!cap) return FailLocked(error, "dpdk: " + driver_ + " does not offer DEFLATE");
    // A 4096-byte page can only refer back 4095 bytes, so any window of at
    // least 4 KiB yields a stream a 4 KiB-window inflater (IAA, deflate-4k)
    // accepts. Ask for exactly 12 when the PMD allows it.
    window_ = ChooseWindow(cap->window_size);
    if (window_ < 0) return FailLocked(error, "dpdk: " + driver_ + " supports no window of at least 4 KiB");
    bool dynamic = (cap->comp_feature_flags & RTE_COMP_FF_HUFFMAN_DYNAMIC) != 0;

    rte_compressdev_config config{};
    config.socket_id = rte_socket_id();
    config.nb_queue_pairs = 1;
    config.max_nb_priv_xforms = 2;
    config.max_nb_streams = 0;
    if (rte_compressdev_configure(dev_, &config) < 0) return FailLocked(error, "dpdk: rte_compressdev_configure failed");
    if (rte_compressdev_queue_pair_setup(dev_, 0, depth_, config.socket_id) < 0)
      return FailLocked(error, "dpdk: queue pair setup with depth " + std::to_string(depth_) + " failed");
    if (rte_compressdev_start(dev_) < 0) return FailLocked(error, "dpdk: rte_compressdev_start failed");
    started_ = true;

    rte_comp_xform cx{};
    cx.type = RTE_COMP_COMPRESS;
    cx.compress.algo = RTE_COMP_ALGO_DEFLATE;
    cx.compress.deflate.huffman = dynamic ? RTE_COMP_HUFFMAN_DEFAULT : RTE_COMP_HUFFMAN_FIXED;
    cx.compress.level = o.level <= 0 ? RTE_COMP_LEVEL_MIN : o.level;
    cx.compress.window_size = static_cast<uint8_t>(window_);
    cx.compress.chksum = RTE_COMP_CHECKSUM_NONE;
    cx.compress.hash_algo = RTE_COMP_HASH_ALGO_NONE;
    if (rte_compressdev_private_xform_create(dev_, &cx, &compress_xform_) < 0)
      return FailLocked(error, "dpdk: " + driver_ + " rejected the compress xform (level " + std::to_string(o.level) +
                                   ", window 2^" + std::to_string(window_) + ")");
    rte_comp_xform dx{};
    dx.type = RTE_COMP_DECOMPRESS;
    dx.decompress.algo = RTE_COMP_ALGO_DEFLATE;
    dx.decompress.chksum = RTE_COMP_CHECKSUM_NONE;
    dx.decompress.window_size = static_cast<uint8_t>(window_);
    dx.decompress.hash_algo = RTE_COMP_HASH_ALGO_NONE;
    if (rte_compressdev_private_xform_create(dev_, &dx, &decompress_xform_) < 0)
      return FailLocked(error, "dpdk: " + driver_ + " rejected the decompress xform");

    std::string suffix = std::to_string(dev_) + "_" + std::to_string(g_vdev_counter++);
    // Pools without per-lcore caches: one thread (the engine's) uses them and
    // it is not an EAL lcore.
    op_pool_ = rte_comp_op_pool_create(("zs_ops" + suffix).c_str(), depth_ * 2, 0, 0, config.socket_id);
    uint16_t room = zero_copy_ ? 0 : static_cast<uint16_t>(RTE_PKTMBUF_HEADROOM + kPageSize);
    uint16_t priv = static_cast<uint16_t>(RTE_ALIGN(sizeof(MbufPriv), RTE_MBUF_PRIV_ALIGN));
    mbuf_pool_ = rte_pktmbuf_pool_create(("zs_mbuf" + suffix).c_str(), depth_ * 4, 0, priv, room, config.socket_id);
    if (!op_pool_ || !mbuf_pool_)
      return FailLocked(error, std::string("dpdk: mempool creation failed: ") + rte_strerror(rte_errno));

    rte_compressdev_info info{};
    rte_compressdev_info_get(dev_, &info);
    caps->name = "dpdk:" + o.variant;
    caps->driver = info.driver_name ? info.driver_name : driver_;
    caps->stream_format = "deflate-4k";
    caps->path = software_ ? "software" : "hardware";
    caps->library_version = std::string(rte_version());
    caps->max_batch = std::min<uint32_t>(o.max_batch, depth_);
    caps->queue_depth = depth_;
    caps->notes = std::string(software_ ? "DPDK software PMD " : "DPDK hardware PMD ") + caps->driver +
                  " (device " + rte_compressdev_name_get(dev_) + "), window 2^" + std::to_string(window_) +
                  (dynamic ? ", dynamic Huffman" : ", fixed Huffman") +
                  (zero_copy_ ? ", pages attached as external mbufs" : ", pages copied into mbufs") +
                  "; EAL: " + EalArgsUsed();
    return true;
  }

  size_t Submit(const DeviceJob* jobs, size_t n) override {
    size_t count = std::min<size_t>(n, kBurst);
    size_t built = 0;
    for (; built < count; built++) {
      if (!Build(jobs[built], &ops_[built])) break;
    }
    if (built == 0) return 0;
    uint16_t accepted = rte_compressdev_enqueue_burst(dev_, 0, ops_, static_cast<uint16_t>(built));
    for (size_t i = accepted; i < built; i++) Release(ops_[i]);
    return accepted;
  }

  size_t Poll(DeviceCompletion* out, size_t max) override {
    uint16_t want = static_cast<uint16_t>(std::min<size_t>(max, kBurst));
    uint16_t got = rte_compressdev_dequeue_burst(dev_, 0, ops_, want);
    for (uint16_t i = 0; i < got; i++) {
      rte_comp_op* op = ops_[i];
      auto* p = static_cast<MbufPriv*>(rte_mbuf_to_priv(op->m_src));
      DeviceCompletion& c = out[i];
      c.tag = p->tag;
      c.produced = 0;
      switch (op->status) {
        case RTE_COMP_OP_STATUS_SUCCESS:
          if (op->consumed != op->src.length || op->produced > p->out_cap) {
            c.status = JobStatus::kError;
            break;
          }
          c.status = JobStatus::kOk;
          c.produced = op->produced;
          if (!zero_copy_) std::memcpy(p->out, rte_pktmbuf_mtod(op->m_dst, uint8_t*), op->produced);
          break;
        case RTE_COMP_OP_STATUS_OUT_OF_SPACE_TERMINATED:
        case RTE_COMP_OP_STATUS_OUT_OF_SPACE_RECOVERABLE:
          c.status = JobStatus::kOutputOverflow;
          break;
        default:
          c.status = JobStatus::kError;
          break;
      }
      Release(op);
    }
    return got;
  }

  void Close() override {
    std::lock_guard<std::mutex> lock(DpdkControlMutex());
    CloseLocked();
  }

 private:
  static constexpr size_t kBurst = 64;

  bool FailLocked(std::string* error, const std::string& message) {
    *error = message;
    CloseLocked();
    return false;
  }

  void CloseLocked() {
    if (started_) rte_compressdev_stop(dev_);
    started_ = false;
    if (compress_xform_) rte_compressdev_private_xform_free(dev_, compress_xform_);
    if (decompress_xform_) rte_compressdev_private_xform_free(dev_, decompress_xform_);
    compress_xform_ = decompress_xform_ = nullptr;
    if (claimed_) {
      rte_compressdev_close(dev_);
      ClaimedDevices().erase(dev_);
      if (software_) IdleVdevs().push_back(dev_);
      claimed_ = false;
    }
    // Ops and mbufs a lost job still holds go back with their pools.
    if (op_pool_) rte_mempool_free(op_pool_);
    if (mbuf_pool_) rte_mempool_free(mbuf_pool_);
    op_pool_ = mbuf_pool_ = nullptr;
  }

  bool TakeIdleVdev() {
    std::vector<uint8_t>& idle = IdleVdevs();
    for (size_t i = 0; i < idle.size(); i++) {
      rte_compressdev_info info{};
      rte_compressdev_info_get(idle[i], &info);
      if (!info.driver_name || driver_ != info.driver_name) continue;
      dev_ = idle[i];
      idle.erase(idle.begin() + static_cast<std::ptrdiff_t>(i));
      return true;
    }
    return false;
  }

  bool CreateVdev(const DeviceOptions& o, std::string* error) {
    std::string name = driver_ + "_zstash" + std::to_string(g_vdev_counter++);
    if (rte_vdev_init(name.c_str(), o.devargs.empty() ? nullptr : o.devargs.c_str()) != 0) {
      *error = "dpdk: rte_vdev_init(" + name + ") failed; is the " + driver_ + " PMD installed (Debian: librte-" +
               driver_.substr(0, 8) + "-" + o.variant + "23)?";
      return false;
    }
    int id = rte_compressdev_get_dev_id(name.c_str());
    if (id < 0) {
      *error = "dpdk: " + name + " was created but has no compressdev id";
      return false;
    }
    dev_ = static_cast<uint8_t>(id);
    return true;
  }

  bool FindHardwareDevice(std::string* error) {
    std::string seen;
    for (uint8_t id = 0; id < rte_compressdev_count(); id++) {
      rte_compressdev_info info{};
      rte_compressdev_info_get(id, &info);
      std::string drv = info.driver_name ? info.driver_name : "?";
      seen += (seen.empty() ? "" : ", ") + std::string(rte_compressdev_name_get(id)) + " (" + drv + ")";
      if (drv == driver_ && !ClaimedDevices().count(id)) {
        dev_ = id;
        return true;
      }
    }
    *error = "dpdk: no free " + driver_ + " device. The EAL sees " + (seen.empty() ? "no compress devices" : seen) +
             ". Hardware PMDs need their PCI functions bound to vfio-pci and the EAL started with PCI and hugepages "
             "(device: { pci: true, hugepages: true, ealArgs: ['-a', '<bdf>'] }) by the first DPDK open in the process.";
    return false;
  }

  static int ChooseWindow(const rte_param_log2_range& r) {
    for (int w = 12; w <= 15; w++) {
      if (w < r.min || w > r.max) continue;
      if (r.increment == 0 ? w == r.min : (w - r.min) % r.increment == 0) return w;
    }
    return -1;
  }

  bool Build(const DeviceJob& job, rte_comp_op** slot) {
    rte_comp_op* op = rte_comp_op_alloc(op_pool_);
    if (!op) return false;
    rte_mbuf* src = rte_pktmbuf_alloc(mbuf_pool_);
    rte_mbuf* dst = src ? rte_pktmbuf_alloc(mbuf_pool_) : nullptr;
    if (!dst) {
      if (src) rte_pktmbuf_free(src);
      rte_comp_op_free(op);
      return false;
    }
    auto* sp = static_cast<MbufPriv*>(rte_mbuf_to_priv(src));
    sp->tag = job.tag;
    sp->out = job.out;
    sp->out_cap = job.out_cap;
    if (zero_copy_) {
      Attach(src, const_cast<uint8_t*>(job.in), job.in_len, sp);
      Attach(dst, job.out, job.out_cap, static_cast<MbufPriv*>(rte_mbuf_to_priv(dst)));
    } else {
      std::memcpy(rte_pktmbuf_mtod(src, uint8_t*), job.in, job.in_len);
      src->data_len = static_cast<uint16_t>(job.in_len);
      src->pkt_len = job.in_len;
      dst->data_len = static_cast<uint16_t>(job.out_cap);
      dst->pkt_len = job.out_cap;
    }
    op->op_type = RTE_COMP_OP_STATELESS;
    op->m_src = src;
    op->m_dst = dst;
    op->src.offset = 0;
    op->src.length = job.in_len;
    op->dst.offset = 0;
    op->flush_flag = RTE_COMP_FLUSH_FINAL;
    op->private_xform = job.op == DeviceOp::kCompress ? compress_xform_ : decompress_xform_;
    *slot = op;
    return true;
  }

  static void Attach(rte_mbuf* m, uint8_t* addr, uint32_t len, MbufPriv* p) {
    p->shinfo.free_cb = NoopFree;
    p->shinfo.fcb_opaque = nullptr;
    rte_mbuf_ext_refcnt_set(&p->shinfo, 1);
    rte_pktmbuf_attach_extbuf(m, addr, rte_mem_virt2iova(addr), static_cast<uint16_t>(len), &p->shinfo);
    m->data_len = static_cast<uint16_t>(len);
    m->pkt_len = len;
  }

  static void Release(rte_comp_op* op) {
    rte_pktmbuf_free(op->m_src);
    rte_pktmbuf_free(op->m_dst);
    rte_comp_op_free(op);
  }

  std::string driver_;
  bool software_ = true;
  bool zero_copy_ = true;
  bool claimed_ = false;
  bool started_ = false;
  uint8_t dev_ = 0;
  int window_ = 15;
  uint32_t depth_ = 64;
  void* compress_xform_ = nullptr;
  void* decompress_xform_ = nullptr;
  rte_mempool* op_pool_ = nullptr;
  rte_mempool* mbuf_pool_ = nullptr;
  rte_comp_op* ops_[kBurst];
};

}  // namespace

std::unique_ptr<Device> MakeDpdkDevice() { return std::make_unique<DpdkDevice>(); }

DeviceKindInfo DpdkDeviceKind() {
  DeviceKindInfo info;
  info.kind = "dpdk";
  info.compiled = true;
  info.version = rte_version();
#ifdef RTE_EAL_PMD_PATH
  info.plugin_dir = RTE_EAL_PMD_PATH;
#endif
  return info;
}

}  // namespace zstash

#else  // !ZSTASH_HAVE_DPDK

namespace zstash {

std::unique_ptr<Device> MakeDpdkDevice() { return nullptr; }

DeviceKindInfo DpdkDeviceKind() {
  DeviceKindInfo info;
  info.kind = "dpdk";
  info.reason = "not compiled: libdpdk not found by pkg-config at build time (apt-get install libdpdk-dev)";
  return info;
}

}  // namespace zstash

#endif
