#include "zs_pool.h"
#include <algorithm>
#include <cstring>
#include "../common/page.h"

namespace zstash::alloc {

namespace {
// Address space beyond max_bytes, so first fit over 1..8-page runs still finds
// room when free pages are scattered; the page cap is enforced on pages in use.
constexpr uint64_t kRegionSlack = 2;
constexpr uint64_t kMaxRegionBytes = uint64_t(1) << 40;
}  // namespace

Pool::Pool(const PoolOptions& options)
    : options_(options), classes_(options.class_step, options.max_slab_pages) {
  pthread_rwlockattr_t attr;
  pthread_rwlockattr_init(&attr);
  // Writer preference: compaction must not starve behind a steady stream of batches.
  pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
  pthread_rwlock_init(&move_lock_, &attr);
  pthread_rwlockattr_destroy(&attr);

  uint64_t max_pages = options_.max_bytes / kPageSize;
  uint64_t region_pages = std::min(max_pages * kRegionSlack + kMaxPagesPerSlab, kMaxRegionBytes / kPageSize);
  uint64_t handle_capacity = std::min<uint64_t>(max_pages * (kPageSize / kMinObjectSize), UINT32_MAX - 1);
  ok_ = max_pages > 0 && region_.Reserve(region_pages) && handles_.Reserve(handle_capacity) &&
        slabs_.Reserve(max_pages + 1);
  size_t n = classes_.count();
  group_head_.assign(n * kGroups, kNone);
  class_slabs_.assign(n, 0);
  class_used_.assign(n, 0);
}

Pool::~Pool() { pthread_rwlock_destroy(&move_lock_); }

// --- allocation ----------------------------------------------------------

size_t Pool::AllocBatch(const uint32_t* lengths, size_t n, uint32_t* handles) {
  std::lock_guard<std::mutex> lock(alloc_lock_);
  size_t done = 0;
  for (size_t i = 0; i < n; i++) {
    handles[i] = AllocOne(lengths[i]);
    if (handles[i]) done++;
    else alloc_fails_++;
  }
  return done;
}

uint32_t Pool::AllocOne(uint32_t length) {
  uint32_t cls = classes_.ClassFor(length);
  uint32_t slab = FullestSlab(cls);
  if (slab == kNone && (slab = NewSlab(cls)) == kNone) return 0;
  uint16_t slot = TakeSlot(slab);
  uint32_t handle = handles_.Take({slab, slot, length});
  if (!handle) {
    ReleaseSlot(slab, slot, false);
    return 0;
  }
  object_bytes_ += length;
  objects_++;
  return handle;
}

size_t Pool::FreeBatch(const uint32_t* handles, size_t n) {
  std::lock_guard<std::mutex> lock(alloc_lock_);
  size_t done = 0;
  for (size_t i = 0; i < n; i++) {
    if (!handles[i]) continue;
    if (!handles_.Get(handles[i])) {
      invalid_frees_++;
      continue;
    }
    FreeOne(handles[i]);
    done++;
  }
  return done;
}

void Pool::FreeOne(uint32_t handle) {
  Location l = HandleTable::Unpack(handles_.Get(handle));
  handles_.Release(handle);
  ReleaseSlot(l.slab, l.slot, false);
  object_bytes_ -= l.length;
  objects_--;
}

uint8_t* Pool::Resolve(uint32_t handle, uint32_t* length) const {
  uint64_t e = handles_.Get(handle);
  if (!e) return nullptr;
  Location l = HandleTable::Unpack(e);
  // Bounds are checked even for a live entry: a caller racing its own free must read garbage, not fault.
  if (l.slab >= slab_count_.load(std::memory_order_acquire)) return nullptr;
  const Slab& s = slabs_[l.slab];
  if (!s.live || s.cls >= classes_.count()) return nullptr;
  const SizeClass& c = classes_.at(s.cls);
  if (l.slot >= c.objects || l.length > c.size || s.first_page + c.pages > region_.pages()) return nullptr;
  *length = l.length;
  return SlotAddress(s, l.slot);
}

bool Pool::SlotRange(uint32_t handle, uint64_t* offset, uint32_t* slot_size) const {
  uint32_t length;
  uint8_t* p = Resolve(handle, &length);
  if (!p) return false;
  *offset = p - region_.base();
  *slot_size = classes_.at(slabs_[HandleTable::Unpack(handles_.Get(handle)).slab].cls).size;
  return true;
}

// --- slabs ---------------------------------------------------------------

uint32_t Pool::FullestSlab(uint32_t cls) const {
  const uint32_t* heads = &group_head_[cls * kGroups];
  for (uint32_t g = kFull; g-- > 0;) {
    if (heads[g] != kNone) return heads[g];
  }
  return kNone;
}

uint32_t Pool::NewSlab(uint32_t cls) {
  const SizeClass& c = classes_.at(cls);
  if ((pages_used_.load(std::memory_order_relaxed) + c.pages) * kPageSize > options_.max_bytes) return kNone;
  uint32_t id = free_slab_head_;
  if (id == kNone && slab_count_.load(std::memory_order_relaxed) >= slabs_.capacity()) return kNone;
  uint32_t first = region_.AllocRun(c.pages);
  if (first == PageRegion::kNoRun) return kNone;
  cached_pages_.store(region_.cached_pages(), std::memory_order_relaxed);
  if (id != kNone) {
    free_slab_head_ = slabs_[id].next;
  } else {
    id = static_cast<uint32_t>(slab_count_.load(std::memory_order_relaxed));
  }
  Slab& s = slabs_[id];
  s.first_page = first;
  s.inuse = 0;
  s.bump = 0;
  s.free_head = kNoSlot;
  s.cls = static_cast<uint16_t>(cls);
  s.live = 1;
  if (id == slab_count_.load(std::memory_order_relaxed)) slab_count_.store(id + 1, std::memory_order_release);
  class_slabs_[cls]++;
  live_slabs_++;
  uint64_t used = pages_used_.fetch_add(c.pages, std::memory_order_relaxed) + c.pages;
  peak_pages_ = std::max<uint64_t>(peak_pages_, used);
  Link(id, 0);
  return id;
}

uint16_t Pool::TakeSlot(uint32_t slab) {
  Slab& s = slabs_[slab];
  uint16_t slot = s.free_head;
  if (slot != kNoSlot) {
    std::memcpy(&s.free_head, SlotAddress(s, slot), sizeof s.free_head);
  } else {
    slot = s.bump++;
  }
  s.inuse++;
  class_used_[s.cls]++;
  Regroup(slab);
  return slot;
}

void Pool::ReleaseSlot(uint32_t slab, uint32_t slot, bool parked) {
  Slab& s = slabs_[slab];
  // The free list lives in the free slots themselves, as zsmalloc's link_free does.
  std::memcpy(SlotAddress(s, slot), &s.free_head, sizeof s.free_head);
  s.free_head = static_cast<uint16_t>(slot);
  s.inuse--;
  class_used_[s.cls]--;
  if (s.inuse == 0) {
    if (!parked) Unlink(slab);
    const SizeClass& c = classes_.at(s.cls);
    region_.FreeRun(s.first_page, c.pages, CacheCap());
    pages_used_.fetch_sub(c.pages, std::memory_order_relaxed);
    cached_pages_.store(region_.cached_pages(), std::memory_order_relaxed);
    class_slabs_[s.cls]--;
    live_slabs_--;
    s.live = 0;
    s.next = free_slab_head_;
    free_slab_head_ = slab;
  } else if (!parked) {
    Regroup(slab);
  }
}

uint32_t Pool::GroupOf(const Slab& s) const {
  uint32_t cap = classes_.at(s.cls).objects;
  return s.inuse >= cap ? kFull : (s.inuse * 10u) / cap;
}

void Pool::Regroup(uint32_t slab) {
  uint32_t g = GroupOf(slabs_[slab]);
  if (g == slabs_[slab].group) return;
  Unlink(slab);
  Link(slab, g);
}

void Pool::Link(uint32_t slab, uint32_t group) {
  Slab& s = slabs_[slab];
  uint32_t& head = group_head_[s.cls * kGroups + group];
  s.prev = kNone;
  s.next = head;
  if (head != kNone) slabs_[head].prev = slab;
  head = slab;
  s.group = static_cast<uint8_t>(group);
}

void Pool::Unlink(uint32_t slab) {
  Slab& s = slabs_[slab];
  if (s.prev != kNone) slabs_[s.prev].next = s.next;
  else group_head_[s.cls * kGroups + s.group] = s.next;
  if (s.next != kNone) slabs_[s.next].prev = s.prev;
}

// --- compaction ----------------------------------------------------------
//
// zsmalloc compacts within a class, which leaves up to one partly used slab per
// class (with ~100 classes, several MiB). The handle table, not the slot,
// records an object's length, so an object may also move into a free slot of a
// larger class, up to twice its slot size: the rounding cost falls only on the
// few objects moved out of partly used slabs.

std::vector<uint32_t> Pool::TargetClasses(uint32_t cls) const {
  uint32_t limit = classes_.at(cls).size * 2;
  std::vector<uint32_t> out{cls};
  for (size_t d = cls + 1; d < classes_.count() && classes_.at(d).size <= limit; d++) out.push_back(d);
  return out;
}

size_t Pool::CacheCap() const {
  // Returning pages costs a TLB shootdown per contiguous range and touching them
  // again a fault each (page_region.h), so the cache absorbs churn and a
  // shrinking pool releases in rare, coalesced sweeps; compaction releases all.
  // The cap follows the peak since the last compaction, not the pages in use now,
  // so a pool that drains and refills (a swap workload's steady state) reuses
  // its pages instead of releasing and faulting them back.
  return std::max<size_t>(256, peak_pages_ * options_.retain_percent / 100);
}

uint64_t Pool::Compact() {
  pthread_rwlock_wrlock(&move_lock_);
  std::lock_guard<std::mutex> lock(alloc_lock_);
  uint64_t before = pages_used_.load(std::memory_order_relaxed);
  size_t n = classes_.count();
  std::vector<uint64_t> open(n);
  for (size_t c = 0; c < n; c++) open[c] = class_slabs_[c] * classes_.at(c).objects - class_used_[c];
  std::vector<uint8_t> source(slab_count_.load(std::memory_order_relaxed), 0);
  std::vector<uint32_t> sources, candidates;
  // Largest classes first: their leftover free slots can then absorb smaller objects.
  for (size_t cls = n; cls-- > 0;) {
    candidates.clear();
    for (uint32_t g = 0; g < kFull; g++) {
      for (uint32_t s = group_head_[cls * kGroups + g]; s != kNone; s = slabs_[s].next) candidates.push_back(s);
    }
    if (candidates.empty()) continue;
    std::sort(candidates.begin(), candidates.end(),
              [&](uint32_t a, uint32_t b) { return slabs_[a].inuse < slabs_[b].inuse; });
    std::vector<uint32_t> targets = TargetClasses(static_cast<uint32_t>(cls));
    uint64_t objs = classes_.at(cls).objects, capacity = 0, moving = 0;
    for (uint32_t t : targets) capacity += open[t];
    for (uint32_t s : candidates) {
      uint64_t used = slabs_[s].inuse;
      // Choosing s removes its own free slots from the capacity and adds its objects to the load.
      if (moving + used + (objs - used) > capacity) break;
      capacity -= objs - used;
      open[cls] -= objs - used;
      moving += used;
      source[s] = 1;
      sources.push_back(s);
    }
    for (uint32_t t : targets) {
      uint64_t take = std::min(open[t], moving);
      open[t] -= take;
      moving -= take;
    }
  }
  if (!sources.empty()) {
    for (uint32_t s : sources) {
      Unlink(s);
      slabs_[s].group = kFull;  // parked: FullestSlab never sees it, Regroup is not called on it
    }
    for (uint32_t h = 1; h <= handles_.used(); h++) {
      uint64_t e = handles_.Get(h);
      if (!e) continue;
      Location l = HandleTable::Unpack(e);
      if (!source[l.slab]) continue;
      uint32_t dst = kNone;
      for (uint32_t t : TargetClasses(slabs_[l.slab].cls)) {
        if ((dst = FullestSlab(t)) != kNone) break;
      }
      if (dst == kNone) continue;  // the plan guarantees room; staying put loses nothing
      uint16_t slot = TakeSlot(dst);
      std::memcpy(SlotAddress(slabs_[dst], slot), SlotAddress(slabs_[l.slab], l.slot), l.length);
      handles_.Set(h, {dst, slot, l.length});
      ReleaseSlot(l.slab, l.slot, true);
      objects_moved_++;
      if (!slabs_[l.slab].live) source[l.slab] = 0;
    }
    for (uint32_t s : sources) {
      if (source[s]) Link(s, GroupOf(slabs_[s]));
    }
  }
  uint64_t released = before - pages_used_.load(std::memory_order_relaxed);
  pages_compacted_ += released;
  region_.Trim();
  cached_pages_.store(0, std::memory_order_relaxed);
  peak_pages_ = pages_used_.load(std::memory_order_relaxed);
  pthread_rwlock_unlock(&move_lock_);
  return released;
}

// --- admission -----------------------------------------------------------

bool Pool::Reserve(uint64_t bytes) {
  uint64_t cur = reserved_.load(std::memory_order_relaxed);
  do {
    if (options_.limit_bytes && TotalSize() + cur + bytes > options_.limit_bytes) return false;
  } while (!reserved_.compare_exchange_weak(cur, cur + bytes, std::memory_order_relaxed));
  return true;
}

void Pool::Unreserve(uint64_t bytes) {
  uint64_t cur = reserved_.load(std::memory_order_relaxed);
  while (!reserved_.compare_exchange_weak(cur, cur - std::min(cur, bytes), std::memory_order_relaxed)) {
  }
}

PoolStats Pool::Stats() {
  std::lock_guard<std::mutex> lock(alloc_lock_);
  PoolStats st{};
  st.pool_total_size = TotalSize();
  st.cached_bytes = region_.cached_pages() * kPageSize;
  st.object_bytes = object_bytes_;
  st.objects = objects_;
  st.reserved_bytes = reserved_.load(std::memory_order_relaxed);
  st.pages_compacted = pages_compacted_;
  st.objects_moved = objects_moved_;
  st.invalid_frees = invalid_frees_;
  st.alloc_fails = alloc_fails_;
  st.slabs = live_slabs_;
  st.region_bytes = region_.pages() * kPageSize;
  st.metadata_bytes = handles_.MetadataBytes() + VirtualArray<Slab>::TouchedBytes(slab_count_.load()) +
                      region_.MetadataBytes() + group_head_.size() * sizeof(uint32_t) +
                      (class_slabs_.size() + class_used_.size()) * sizeof(uint64_t) + sizeof(Pool);
  for (size_t c = 0; c < classes_.count(); c++) {
    const SizeClass& k = classes_.at(c);
    uint64_t allocated = class_slabs_[c] * k.objects;
    st.classes.push_back({k.size, k.pages, k.objects, allocated, class_used_[c], class_slabs_[c] * k.pages,
                          (allocated - class_used_[c]) / k.objects * k.pages});
  }
  return st;
}

}  // namespace zstash::alloc
