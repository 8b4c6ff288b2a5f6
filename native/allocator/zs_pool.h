// A zsmalloc-like pool in native memory, shared by every thread of the process.
//
//   handle ──HandleTable──▶ (slab, slot, length) ──slab table──▶ region page + slot × class size
//
// Objects live in slabs of one size class; slabs are runs of 1..8 pages of a
// PageRegion and sit in per-class fullness groups (10 % steps, as zsmalloc's);
// allocation takes the fullest slab that has room. Free slots hold the slab's
// free list. Compaction empties the sparsest slabs into free slots of the same
// class or of a class up to twice the slot size (docs/allocator.md, "Compaction").
//
// Locking: `alloc_lock_` (a mutex) guards the slab lists, the page region and
// the handle free list; callers take it once per batch (AllocBatch, FreeBatch).
// `move_lock_` (a writer-preferring rwlock) is held shared by anyone who reads
// or writes object bytes through a location (AccessScope) and exclusively by
// compaction, the only thing that moves objects.
//
// Admission (Reserve) counts slab pages (zswap's pool_total_size). Freed pages
// kept resident for reuse (PageRegion's cache) are not counted: allocation takes
// them first, so the memory held never exceeds the peak of slab pages since the
// last Compact, which returns the cache to the kernel.
#pragma once
#include <pthread.h>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>
#include "handle_table.h"
#include "page_region.h"
#include "size_classes.h"
#include "virtual_array.h"

namespace zstash::alloc {

struct PoolOptions {
  uint64_t max_bytes = uint64_t(16) << 30;  // hard cap on slab pages (and the address space reserved)
  uint64_t limit_bytes = 0;                 // admission limit for Reserve(); 0 = none
  // 8 B, not zsmalloc's 16: with 16-page slabs it measured 1-7 B/page less
  // rounding on the node and py corpora (docs/allocator.md, "Size classes").
  uint32_t class_step = 8;
  // Longest slab in pages (1..32): longer slabs make the slot geometry finer
  // (less rounding in merged classes) at the cost of larger partly used slabs.
  uint32_t max_slab_pages = 16;
  // Freed slab pages kept resident for reuse, as a percentage of the peak of
  // pages in use since the last Compact (at least 1 MiB); Compact releases them
  // all. See page_region.h.
  uint32_t retain_percent = 100;
  // Which checksum the entry points compute (a ChecksumKind); kept with the pool
  // so every thread attached to it agrees.
  uint8_t checksum = 0;
};

struct ClassStats {
  uint32_t size, pages_per_slab, objects_per_slab;
  uint64_t obj_allocated, obj_used, pages_used, freeable;
};

struct PoolStats {
  uint64_t pool_total_size, object_bytes, objects, metadata_bytes, reserved_bytes;
  uint64_t pages_compacted, objects_moved, invalid_frees, alloc_fails, slabs;
  uint64_t region_bytes;
  uint64_t cached_bytes;  // freed slab pages kept resident for reuse (released by Compact)
  std::vector<ClassStats> classes;
};

class Pool {
 public:
  explicit Pool(const PoolOptions& options);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // False when the address space could not be reserved.
  bool ok() const { return ok_; }
  const PoolOptions& options() const { return options_; }
  const SizeClassTable& classes() const { return classes_; }

  // Shared hold on the object bytes: no object moves while one is alive.
  class AccessScope {
   public:
    explicit AccessScope(Pool& p) : p_(p) { pthread_rwlock_rdlock(&p_.move_lock_); }
    ~AccessScope() { pthread_rwlock_unlock(&p_.move_lock_); }
   private:
    Pool& p_;
  };

  // Allocates n objects of lengths[i] (1..4096) under one lock acquisition.
  // handles[i] is 0 where the pool is out of pages or handles. Returns how
  // many were allocated. Hold an AccessScope until the bytes are written.
  size_t AllocBatch(const uint32_t* lengths, size_t n, uint32_t* handles);
  // Frees every non-zero handle; a handle that names no live object is counted
  // (invalid_frees) and skipped. Returns how many were freed.
  size_t FreeBatch(const uint32_t* handles, size_t n);

  // Address and length of a live object, or nullptr. Hold an AccessScope.
  uint8_t* Resolve(uint32_t handle, uint32_t* length) const;
  // Slot byte range [offset, offset + slot size) in the region, for invariant checks.
  bool SlotRange(uint32_t handle, uint64_t* offset, uint32_t* slot_size) const;

  // Moves objects out of sparse slabs and releases the emptied ones. Returns pages released.
  uint64_t Compact();

  // Admission: succeeds when pool_total_size + reserved + bytes <= limit (always without a limit).
  bool Reserve(uint64_t bytes);
  uint64_t Reserved() const { return reserved_.load(std::memory_order_relaxed); }
  void Unreserve(uint64_t bytes);

  uint64_t TotalSize() const { return pages_used_.load(std::memory_order_relaxed) * 4096; }
  PoolStats Stats();

 private:
  struct Slab {
    uint32_t first_page;
    uint32_t prev, next;
    uint16_t inuse, bump, free_head;
    uint16_t cls;
    uint8_t group;
    uint8_t live;
  };
  static constexpr uint32_t kNone = UINT32_MAX;
  static constexpr uint16_t kNoSlot = UINT16_MAX;
  static constexpr uint32_t kGroups = 11;  // 0..9: used/capacity in 10 % steps; 10: full
  static constexpr uint32_t kFull = kGroups - 1;

  uint32_t AllocOne(uint32_t length);
  void FreeOne(uint32_t handle);
  uint32_t FullestSlab(uint32_t cls) const;
  uint32_t NewSlab(uint32_t cls);
  uint16_t TakeSlot(uint32_t slab);
  // parked: a compaction source, on no fullness list.
  void ReleaseSlot(uint32_t slab, uint32_t slot, bool parked);
  uint32_t GroupOf(const Slab& s) const;
  void Regroup(uint32_t slab);
  void Link(uint32_t slab, uint32_t group);
  void Unlink(uint32_t slab);
  uint8_t* SlotAddress(const Slab& s, uint32_t slot) const {
    return region_.base() + size_t(s.first_page) * 4096 + size_t(slot) * classes_.at(s.cls).size;
  }
  std::vector<uint32_t> TargetClasses(uint32_t cls) const;
  size_t CacheCap() const;

  PoolOptions options_;
  SizeClassTable classes_;
  bool ok_ = false;

  std::mutex alloc_lock_;
  pthread_rwlock_t move_lock_;

  PageRegion region_;
  HandleTable handles_;
  VirtualArray<Slab> slabs_;
  std::atomic<size_t> slab_count_{0};  // slab ids ever used (readers bound-check against it)
  uint32_t free_slab_head_ = kNone;    // recycled slab ids, linked through `next`
  size_t live_slabs_ = 0;
  std::vector<uint32_t> group_head_;   // class × kGroups
  std::vector<uint64_t> class_slabs_, class_used_;

  std::atomic<uint64_t> pages_used_{0};
  std::atomic<uint64_t> reserved_{0};
  std::atomic<uint64_t> cached_pages_{0};
  uint64_t peak_pages_ = 0;  // since the last Compact
  uint64_t object_bytes_ = 0, objects_ = 0;
  uint64_t pages_compacted_ = 0, objects_moved_ = 0, invalid_frees_ = 0, alloc_fails_ = 0;
};

}  // namespace zstash::alloc
