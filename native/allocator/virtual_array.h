// A fixed-capacity array in reserved address space (mmap, MAP_NORESERVE): it
// never moves, so another thread may read an element while the owner of the
// lock appends, and only the pages that were written cost memory. The pool's
// handle table, slab table and page bitmap are three of these.
#pragma once
#include <sys/mman.h>
#include <cstddef>
#include <cstdint>

namespace zstash::alloc {

template <typename T>
class VirtualArray {
 public:
  VirtualArray() = default;
  VirtualArray(const VirtualArray&) = delete;
  VirtualArray& operator=(const VirtualArray&) = delete;
  ~VirtualArray() { Release(); }

  bool Reserve(size_t capacity) {
    size_t bytes = RoundToPage(capacity * sizeof(T));
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return false;
    data_ = static_cast<T*>(p);
    capacity_ = capacity;
    bytes_ = bytes;
    return true;
  }

  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }
  T* data() { return data_; }
  size_t capacity() const { return capacity_; }

  // Bytes of the pages holding elements [0, used): what the array costs once touched.
  static size_t TouchedBytes(size_t used) { return RoundToPage(used * sizeof(T)); }

 private:
  static size_t RoundToPage(size_t bytes) { return (bytes + 4095) & ~size_t(4095); }
  void Release() {
    if (data_) munmap(data_, bytes_);
    data_ = nullptr;
  }
  T* data_ = nullptr;
  size_t capacity_ = 0;
  size_t bytes_ = 0;
};

}  // namespace zstash::alloc
