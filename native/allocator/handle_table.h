// zsmalloc-style handle table: a handle is a stable index; its entry says
// where the object is now. Compaction rewrites the entry, not the caller's
// copy of the handle, so handles that are in flight (written by a worker into
// a result array the owner has not published yet) stay valid while objects
// move. Cost: 8 bytes per live object (the entry also keeps the length, so
// freeMany needs no lengths and a decode can check the caller's length).
//
// Entry layout (64 bits):
//   allocated: bit 63 | length - 1: bits 44..56 (13 bits) | slot: bits 32..43 | slab id: bits 0..31
//   free:      bit 63 clear | next free index + 1 in bits 0..31 (0: end of list)
#pragma once
#include <atomic>
#include <cstdint>
#include "virtual_array.h"

namespace zstash::alloc {

struct Location {
  uint32_t slab;
  uint32_t slot;
  uint32_t length;
};

class HandleTable {
 public:
  static constexpr uint64_t kAllocated = uint64_t(1) << 63;

  bool Reserve(size_t capacity) { return entries_.Reserve(capacity); }

  static uint64_t Pack(const Location& l) {
    return kAllocated | (uint64_t(l.length - 1) << 44) | (uint64_t(l.slot) << 32) | l.slab;
  }
  static Location Unpack(uint64_t e) {
    return {static_cast<uint32_t>(e), static_cast<uint32_t>((e >> 32) & 0xfff),
            static_cast<uint32_t>(((e >> 44) & 0x1fff) + 1)};
  }

  // A handle (index + 1, never 0), or 0 when the table is full. Under the pool's alloc lock.
  uint32_t Take(const Location& l) {
    uint32_t index;
    if (free_head_) {
      index = free_head_ - 1;
      free_head_ = static_cast<uint32_t>(entries_[index].load(std::memory_order_relaxed));
    } else {
      if (used_ >= entries_.capacity()) return 0;
      index = static_cast<uint32_t>(used_++);
    }
    entries_[index].store(Pack(l), std::memory_order_relaxed);
    return index + 1;
  }

  // Any thread: the entry of a handle, 0 when it names no live object.
  uint64_t Get(uint32_t handle) const {
    if (handle == 0 || handle > used_) return 0;
    uint64_t e = entries_[handle - 1].load(std::memory_order_relaxed);
    return (e & kAllocated) ? e : 0;
  }

  // Under the alloc lock.
  void Set(uint32_t handle, const Location& l) { entries_[handle - 1].store(Pack(l), std::memory_order_relaxed); }
  void Release(uint32_t handle) {
    entries_[handle - 1].store(free_head_, std::memory_order_relaxed);
    free_head_ = handle;
  }

  size_t used() const { return used_; }
  size_t MetadataBytes() const { return VirtualArray<std::atomic<uint64_t>>::TouchedBytes(used_); }

 private:
  VirtualArray<std::atomic<uint64_t>> entries_;
  // Entries ever handed out; readers compare against it, so it is atomic.
  std::atomic<size_t> used_{0};
  uint32_t free_head_ = 0;
};

}  // namespace zstash::alloc
