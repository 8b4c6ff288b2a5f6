// The pool's batch entry points. A worker thread compresses a batch straight
// into the pool: pages are compressed into a thread-local scratch chunk, the
// chunk's objects are allocated under one lock acquisition, copied into their
// slots, and every handle is written to the caller's result arrays inside the
// same native call that allocated it. A JS thread cannot be stopped inside a
// native call (Worker.terminate and process.exit take effect in JS), so a
// worker that dies between calls has left every allocation it made visible in
// arrays the owner can read and free.
#include <napi.h>
#include <time.h>
#include <cstring>
#include <memory>
#include <string>
#include "../addon/codec_object.h"
#include "../common/same_filled.h"
#include "checksum.h"
#include "js_args.h"
#include "pool_object.h"
#include "pool_registry.h"
#include "pool_status.h"

namespace zstash::alloc {

namespace {

// Pages compressed before their objects are allocated together: 64 KiB of
// scratch stays in L2, and the pool lock is taken once per 16 pages.
constexpr size_t kChunk = 16;
constexpr uint32_t kFlagSameFilled = 1;
constexpr uint32_t kFlagStoreRaw = 2;
constexpr uint32_t kFlagLockPerPage = 4;  // benchmark: one lock acquisition per page
constexpr uint32_t kFlagsKnown = 7;

struct Scratch {
  alignas(64) uint8_t bytes[kChunk * kPageSize];
};
// One per thread that compresses (freed when the thread ends).
thread_local std::unique_ptr<Scratch> tls_scratch;

uint8_t* ScratchBytes() {
  if (!tls_scratch) tls_scratch.reset(new Scratch);
  return tls_scratch->bytes;
}

ChecksumKind KindOf(const Pool& pool) { return static_cast<ChecksumKind>(pool.options().checksum); }

struct Pending {
  uint32_t length;
  const uint8_t* from;
  uint32_t page;
  int32_t status;
};

struct Outputs {
  int32_t* status;
  uint32_t* lo;
  uint32_t* hi;
  uint32_t* checksums;  // may be null
  void Set(size_t i, int32_t st, uint32_t l, uint32_t h, uint32_t sum) {
    status[i] = st;
    lo[i] = l;
    hi[i] = h;
    if (checksums) checksums[i] = sum;
  }
};

// Writes the objects of one chunk: allocation under one lock, copies under the access hold.
size_t StoreChunk(Pool& pool, Pending* pending, size_t m, bool lock_per_page, Outputs& out) {
  uint32_t lengths[kChunk], handles[kChunk];
  for (size_t q = 0; q < m; q++) lengths[q] = pending[q].length;
  size_t stored = 0;
  ChecksumKind kind = KindOf(pool);
  auto write = [&](size_t q) {
    const Pending& p = pending[q];
    uint32_t length;
    uint8_t* slot = handles[q] ? pool.Resolve(handles[q], &length) : nullptr;
    if (!slot) {
      out.Set(p.page, kAllocFail, 0, 0, 0);
      return;
    }
    std::memcpy(slot, p.from, p.length);
    out.Set(p.page, p.status, handles[q], p.length, kind == ChecksumKind::kNone ? 0 : Checksum(kind, slot, p.length));
    stored++;
  };
  if (lock_per_page) {
    for (size_t q = 0; q < m; q++) {
      Pool::AccessScope scope(pool);
      pool.AllocBatch(&lengths[q], 1, &handles[q]);
      write(q);
    }
  } else {
    Pool::AccessScope scope(pool);
    pool.AllocBatch(lengths, m, handles);
    for (size_t q = 0; q < m; q++) write(q);
  }
  return stored;
}

}  // namespace

// compressBatchToPool(codec, pool, src: Uint8Array, srcPage, count,
//                     status: Int32Array, lo: Uint32Array, hi: Uint32Array, outIndex,
//                     checksums: Uint32Array | null, threshold, flags) -> objects stored
Napi::Value CompressBatchToPoolJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 12) {
    ThrowType(env, "compressBatchToPool(codec, pool, src, srcPage, count, status, lo, hi, outIndex, checksums, threshold, flags)");
    return env.Undefined();
  }
  PageCodec* codec = CodecObject::FromValue(env, info[0]);
  if (!codec) return env.Undefined();
  Pool* pool = PoolObject::FromValue(env, info[1]);
  if (!pool) return env.Undefined();
  uint64_t src_page, count, out_index, threshold, flags;
  if (!UintArg(info, 3, "srcPage", UINT32_MAX, &src_page) || !UintArg(info, 4, "count", UINT32_MAX, &count) ||
      !UintArg(info, 8, "outIndex", UINT32_MAX, &out_index) ||
      !UintArg(info, 10, "threshold", kPageSize - 1, &threshold) || !UintArg(info, 11, "flags", kFlagsKnown, &flags)) {
    return env.Undefined();
  }
  if (threshold < 1) {
    ThrowRange(env, "threshold must be in 1..4095 (a 4096-byte object means a raw page)");
    return env.Undefined();
  }
  const uint8_t* src = ArrayArg<uint8_t>(info, 2, "src", napi_uint8_array, src_page * kPageSize, count * kPageSize);
  if (!src) return env.Undefined();
  Outputs out{};
  out.status = ArrayArg<int32_t>(info, 5, "status", napi_int32_array, out_index, count);
  if (!out.status) return env.Undefined();
  out.lo = ArrayArg<uint32_t>(info, 6, "lo", napi_uint32_array, out_index, count);
  if (!out.lo) return env.Undefined();
  out.hi = ArrayArg<uint32_t>(info, 7, "hi", napi_uint32_array, out_index, count);
  if (!out.hi) return env.Undefined();
  if (!IsAbsent(info, 9)) {
    out.checksums = ArrayArg<uint32_t>(info, 9, "checksums", napi_uint32_array, out_index, count);
    if (!out.checksums) return env.Undefined();
  }
  // Shift the output views so page i of this call writes element i.
  Outputs page_out = out;
  uint8_t* scratch = ScratchBytes();
  Pending pending[kChunk];
  size_t stored = 0;
  for (size_t start = 0; start < count; start += kChunk) {
    size_t k = std::min<size_t>(kChunk, count - start), m = 0;
    for (size_t j = 0; j < k; j++) {
      uint32_t i = static_cast<uint32_t>(start + j);
      const uint8_t* page = src + size_t(i) * kPageSize;
      uint64_t fill;
      if ((flags & kFlagSameFilled) && PageIsSameFilled(page, &fill)) {
        page_out.Set(i, kSameFilled, static_cast<uint32_t>(fill), static_cast<uint32_t>(fill >> 32), 0);
        continue;
      }
      uint8_t* into = scratch + j * kPageSize;
      int32_t r = codec->Compress(page, into, threshold);
      if (r > 0) {
        pending[m++] = {static_cast<uint32_t>(r), into, i, r};
      } else if (r == kIncompressible && (flags & kFlagStoreRaw)) {
        pending[m++] = {static_cast<uint32_t>(kPageSize), page, i, kIncompressible};
      } else {
        page_out.Set(i, r, 0, 0, 0);
      }
    }
    if (m) stored += StoreChunk(*pool, pending, m, flags & kFlagLockPerPage, page_out);
  }
  return Napi::Number::New(env, double(stored));
}

namespace {

int32_t DecodeOne(PageCodec& codec, Pool& pool, uint32_t handle, uint32_t length, uint8_t* dst, bool check,
                  uint32_t expected) {
  uint32_t stored_length;
  const uint8_t* obj = pool.Resolve(handle, &stored_length);
  if (!obj || stored_length != length) return kBadHandle;
  ChecksumKind kind = KindOf(pool);
  if (check && kind != ChecksumKind::kNone && Checksum(kind, obj, length) != expected) return kChecksumMismatch;
  if (length == kPageSize) {
    std::memcpy(dst, obj, kPageSize);
    return static_cast<int32_t>(kPageSize);
  }
  return codec.Decompress(obj, length, dst);
}

}  // namespace

// decompressFromPool(codec, pool, handle, length, dst: Uint8Array, dstOffset, expectedChecksum?)
//   -> 4096 | DecodeStatus | kBadHandle | kChecksumMismatch
Napi::Value DecompressFromPoolJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  PageCodec* codec = CodecObject::FromValue(env, info[0]);
  if (!codec) return env.Undefined();
  Pool* pool = PoolObject::FromValue(env, info[1]);
  if (!pool) return env.Undefined();
  uint64_t handle, length, dst_offset, expected = 0;
  if (!UintArg(info, 2, "handle", UINT32_MAX, &handle) || !UintArg(info, 3, "length", kPageSize, &length) ||
      !UintArg(info, 5, "dstOffset", UINT32_MAX * uint64_t(kPageSize), &dst_offset)) {
    return env.Undefined();
  }
  bool check = !IsAbsent(info, 6);
  if (check && !UintArg(info, 6, "expectedChecksum", UINT32_MAX, &expected)) return env.Undefined();
  uint8_t* dst = ArrayArg<uint8_t>(info, 4, "dst", napi_uint8_array, dst_offset, kPageSize);
  if (!dst) return env.Undefined();
  Pool::AccessScope scope(*pool);
  int32_t r = DecodeOne(*codec, *pool, static_cast<uint32_t>(handle), static_cast<uint32_t>(length), dst, check,
                        static_cast<uint32_t>(expected));
  return Napi::Number::New(env, r);
}

// decompressManyFromPool(codec, pool, handles: Uint32Array, lengths: Uint32Array, count,
//                        dst: Uint8Array, dstPages: Uint32Array | null, status: Int32Array,
//                        checksums: Uint32Array | null) -> pages decoded
// Job i decodes into page dstPages[i] of dst (page i when dstPages is null).
Napi::Value DecompressManyFromPoolJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  PageCodec* codec = CodecObject::FromValue(env, info[0]);
  if (!codec) return env.Undefined();
  Pool* pool = PoolObject::FromValue(env, info[1]);
  if (!pool) return env.Undefined();
  uint64_t count;
  if (!UintArg(info, 4, "count", UINT32_MAX, &count)) return env.Undefined();
  const uint32_t* handles = ArrayArg<uint32_t>(info, 2, "handles", napi_uint32_array, 0, count);
  if (!handles) return env.Undefined();
  const uint32_t* lengths = ArrayArg<uint32_t>(info, 3, "lengths", napi_uint32_array, 0, count);
  if (!lengths) return env.Undefined();
  if (!info[5].IsTypedArray() || info[5].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    ThrowType(env, "dst must be a Uint8Array");
    return env.Undefined();
  }
  size_t dst_pages = info[5].As<Napi::TypedArray>().ByteLength() / kPageSize;
  uint8_t* dst = ArrayArg<uint8_t>(info, 5, "dst", napi_uint8_array, 0, dst_pages * kPageSize);
  if (!dst) return env.Undefined();
  const uint32_t* pages = nullptr;
  if (!IsAbsent(info, 6)) {
    pages = ArrayArg<uint32_t>(info, 6, "dstPages", napi_uint32_array, 0, count);
    if (!pages) return env.Undefined();
  }
  int32_t* status = ArrayArg<int32_t>(info, 7, "status", napi_int32_array, 0, count);
  if (!status) return env.Undefined();
  const uint32_t* sums = nullptr;
  if (!IsAbsent(info, 8)) {
    sums = ArrayArg<uint32_t>(info, 8, "checksums", napi_uint32_array, 0, count);
    if (!sums) return env.Undefined();
  }
  for (size_t i = 0; i < count; i++) {
    size_t page = pages ? pages[i] : i;
    if (page >= dst_pages) {
      ThrowRange(env, "job " + std::to_string(i) + " names page " + std::to_string(page) + " beyond dst");
      return env.Undefined();
    }
  }
  size_t ok = 0;
  Pool::AccessScope scope(*pool);
  for (size_t i = 0; i < count; i++) {
    size_t page = pages ? pages[i] : i;
    status[i] = DecodeOne(*codec, *pool, handles[i], lengths[i], dst + page * kPageSize, sums != nullptr,
                          sums ? sums[i] : 0);
    if (status[i] == static_cast<int32_t>(kPageSize)) ok++;
  }
  return Napi::Number::New(env, double(ok));
}

// Sum of lengths[0, count), each 1..4096, or -1 with a RangeError pending.
static int64_t SumLengths(const Napi::Env& env, const uint32_t* lengths, size_t count) {
  int64_t total = 0;
  for (size_t i = 0; i < count; i++) {
    if (lengths[i] < 1 || lengths[i] > kPageSize) {
      ThrowRange(env, "lengths[" + std::to_string(i) + "] must be in 1..4096");
      return -1;
    }
    total += lengths[i];
  }
  return total;
}

// readObjects(pool, handles: Uint32Array, lengths: Uint32Array, count, dst: Uint8Array)
//   -> bytes copied (objects back to back), or kBadHandle when a handle names no object of that length
Napi::Value ReadObjectsJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Pool* pool = PoolObject::FromValue(env, info[0]);
  if (!pool) return env.Undefined();
  uint64_t count;
  if (!UintArg(info, 3, "count", UINT32_MAX, &count)) return env.Undefined();
  const uint32_t* handles = ArrayArg<uint32_t>(info, 1, "handles", napi_uint32_array, 0, count);
  if (!handles) return env.Undefined();
  const uint32_t* lengths = ArrayArg<uint32_t>(info, 2, "lengths", napi_uint32_array, 0, count);
  if (!lengths) return env.Undefined();
  int64_t total = SumLengths(env, lengths, count);
  if (total < 0) return env.Undefined();
  uint8_t* dst = ArrayArg<uint8_t>(info, 4, "dst", napi_uint8_array, 0, total);
  if (!dst) return env.Undefined();
  Pool::AccessScope scope(*pool);
  size_t at = 0;
  for (size_t i = 0; i < count; i++) {
    uint32_t length;
    const uint8_t* obj = pool->Resolve(handles[i], &length);
    if (!obj || length != lengths[i]) return Napi::Number::New(env, kBadHandle);
    std::memcpy(dst + at, obj, length);
    at += length;
  }
  return Napi::Number::New(env, double(at));
}

// storeObjects(pool, src: Uint8Array, lengths: Uint32Array, count, handles: Uint32Array)
//   -> objects stored; src holds the objects back to back; handles[i] is 0 where no slot was had.
Napi::Value StoreObjectsJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Pool* pool = PoolObject::FromValue(env, info[0]);
  if (!pool) return env.Undefined();
  uint64_t count;
  if (!UintArg(info, 3, "count", UINT32_MAX, &count)) return env.Undefined();
  const uint32_t* lengths = ArrayArg<uint32_t>(info, 2, "lengths", napi_uint32_array, 0, count);
  if (!lengths) return env.Undefined();
  int64_t total = SumLengths(env, lengths, count);
  if (total < 0) return env.Undefined();
  const uint8_t* src = ArrayArg<uint8_t>(info, 1, "src", napi_uint8_array, 0, total);
  if (!src) return env.Undefined();
  uint32_t* handles = ArrayArg<uint32_t>(info, 4, "handles", napi_uint32_array, 0, count);
  if (!handles) return env.Undefined();
  Pool::AccessScope scope(*pool);
  pool->AllocBatch(lengths, count, handles);
  size_t at = 0, stored = 0;
  for (size_t i = 0; i < count; i++) {
    uint32_t length;
    uint8_t* slot = handles[i] ? pool->Resolve(handles[i], &length) : nullptr;
    if (slot) {
      std::memcpy(slot, src + at, lengths[i]);
      stored++;
    }
    at += lengths[i];
  }
  return Napi::Number::New(env, double(stored));
}

// Objects i of a batch at caller-chosen offsets: [offsets[i], offsets[i] + lengths[i]) must lie in
// a buffer of `size` bytes. Returns false with a RangeError pending otherwise.
static bool CheckPlacements(const Napi::Env& env, const uint32_t* offsets, const uint32_t* lengths, size_t count,
                            size_t size) {
  for (size_t i = 0; i < count; i++) {
    if (lengths[i] < 1 || lengths[i] > kPageSize) {
      return ThrowRange(env, "lengths[" + std::to_string(i) + "] must be in 1..4096");
    }
    if (uint64_t(offsets[i]) + lengths[i] > size) {
      return ThrowRange(env, "object " + std::to_string(i) + " at offset " + std::to_string(offsets[i]) +
                                 " does not fit in " + std::to_string(size) + " bytes");
    }
  }
  return true;
}

static size_t ByteLength(const Napi::Value& v) { return v.As<Napi::TypedArray>().ByteLength(); }

// gatherObjects(pool, handles, lengths, count, into: Uint8Array, offsets: Uint32Array)
//   -> bytes copied, or kBadHandle when a handle names no live object of that length (nothing
//   after it is copied). Object i goes to into[offsets[i]]. The writeback seam's gather.
Napi::Value GatherObjectsJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Pool* pool = PoolObject::FromValue(env, info[0]);
  if (!pool) return env.Undefined();
  uint64_t count;
  if (!UintArg(info, 3, "count", UINT32_MAX, &count)) return env.Undefined();
  const uint32_t* handles = ArrayArg<uint32_t>(info, 1, "handles", napi_uint32_array, 0, count);
  if (!handles) return env.Undefined();
  const uint32_t* lengths = ArrayArg<uint32_t>(info, 2, "lengths", napi_uint32_array, 0, count);
  if (!lengths) return env.Undefined();
  const uint32_t* offsets = ArrayArg<uint32_t>(info, 5, "offsets", napi_uint32_array, 0, count);
  if (!offsets) return env.Undefined();
  uint8_t* into = ArrayArg<uint8_t>(info, 4, "into", napi_uint8_array, 0, 0);
  if (!into) return env.Undefined();
  if (!CheckPlacements(env, offsets, lengths, count, ByteLength(info[4]))) return env.Undefined();
  Pool::AccessScope scope(*pool);
  size_t bytes = 0;
  for (size_t i = 0; i < count; i++) {
    uint32_t length;
    const uint8_t* obj = pool->Resolve(handles[i], &length);
    if (!obj || length != lengths[i]) return Napi::Number::New(env, kBadHandle);
    std::memcpy(into + offsets[i], obj, length);
    bytes += length;
  }
  return Napi::Number::New(env, double(bytes));
}

// putObjects(pool, src: Uint8Array, offsets, lengths, count, handles: Uint32Array, checksums: Uint32Array | null)
//   -> objects stored. Object i is src[offsets[i], + lengths[i]); handles[i] is 0 where no slot
//   was had (pool at maxBytes), and checksums[i] the pool's checksum of what was stored (0 there).
//   Every handle is written inside this call, so a caller that dies after it leaks nothing it
//   cannot name. The writeback seam's put, and how device results reach the pool.
Napi::Value PutObjectsJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Pool* pool = PoolObject::FromValue(env, info[0]);
  if (!pool) return env.Undefined();
  uint64_t count;
  if (!UintArg(info, 4, "count", UINT32_MAX, &count)) return env.Undefined();
  const uint32_t* offsets = ArrayArg<uint32_t>(info, 2, "offsets", napi_uint32_array, 0, count);
  if (!offsets) return env.Undefined();
  const uint32_t* lengths = ArrayArg<uint32_t>(info, 3, "lengths", napi_uint32_array, 0, count);
  if (!lengths) return env.Undefined();
  const uint8_t* src = ArrayArg<uint8_t>(info, 1, "src", napi_uint8_array, 0, 0);
  if (!src) return env.Undefined();
  if (!CheckPlacements(env, offsets, lengths, count, ByteLength(info[1]))) return env.Undefined();
  uint32_t* handles = ArrayArg<uint32_t>(info, 5, "handles", napi_uint32_array, 0, count);
  if (!handles) return env.Undefined();
  uint32_t* sums = nullptr;
  if (!IsAbsent(info, 6)) {
    sums = ArrayArg<uint32_t>(info, 6, "checksums", napi_uint32_array, 0, count);
    if (!sums) return env.Undefined();
  }
  ChecksumKind kind = KindOf(*pool);
  Pool::AccessScope scope(*pool);
  pool->AllocBatch(lengths, count, handles);
  size_t stored = 0;
  for (size_t i = 0; i < count; i++) {
    uint32_t length;
    uint8_t* slot = handles[i] ? pool->Resolve(handles[i], &length) : nullptr;
    if (slot) {
      std::memcpy(slot, src + offsets[i], lengths[i]);
      stored++;
    }
    if (sums) sums[i] = slot && kind != ChecksumKind::kNone ? Checksum(kind, slot, lengths[i]) : 0;
  }
  return Napi::Number::New(env, double(stored));
}

// freeMany(pool, handles: Uint32Array, count, first = 0) -> objects freed. Zero handles are
// skipped; a handle that names no live object (double free, garbage) is skipped and counted.
Napi::Value FreeManyJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Pool* pool = PoolObject::FromValue(env, info[0]);
  if (!pool) return env.Undefined();
  uint64_t count, first = 0;
  if (!UintArg(info, 2, "count", UINT32_MAX, &count)) return env.Undefined();
  if (!IsAbsent(info, 3) && !UintArg(info, 3, "first", UINT32_MAX, &first)) return env.Undefined();
  const uint32_t* handles = ArrayArg<uint32_t>(info, 1, "handles", napi_uint32_array, first, count);
  if (!handles) return env.Undefined();
  return Napi::Number::New(env, double(pool->FreeBatch(handles, count)));
}

// checksumBytes(kind, bytes: Uint8Array, offset, length, pieces?: Uint32Array) -> uint32
// (tests, benchmarks). With `pieces`, [offset, offset + length) is a run of objects of
// those lengths, each checksummed on its own; the result is their XOR.
Napi::Value ChecksumBytesJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint64_t kind, offset, length;
  if (!UintArg(info, 0, "kind", 2, &kind) || !UintArg(info, 2, "offset", UINT32_MAX, &offset) ||
      !UintArg(info, 3, "length", UINT32_MAX, &length)) {
    return env.Undefined();
  }
  const uint8_t* bytes = ArrayArg<uint8_t>(info, 1, "bytes", napi_uint8_array, offset, length);
  if (!bytes) return env.Undefined();
  ChecksumKind k = static_cast<ChecksumKind>(kind);
  if (IsAbsent(info, 4)) return Napi::Number::New(env, Checksum(k, bytes, length));
  if (!info[4].IsTypedArray() || info[4].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array) {
    ThrowType(env, "pieces must be a Uint32Array");
    return env.Undefined();
  }
  size_t n = info[4].As<Napi::TypedArray>().ElementLength();
  const uint32_t* pieces = ArrayArg<uint32_t>(info, 4, "pieces", napi_uint32_array, 0, n);
  if (!pieces) return env.Undefined();
  uint64_t total = 0;
  for (size_t i = 0; i < n; i++) total += pieces[i];
  if (total > length) {
    ThrowRange(env, "pieces add up to more than length");
    return env.Undefined();
  }
  uint32_t x = 0;
  for (size_t i = 0, at = 0; i < n; at += pieces[i++]) x ^= Checksum(k, bytes + at, pieces[i]);
  return Napi::Number::New(env, x);
}

Napi::Value LivePoolsJs(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), double(LivePools())); }

// threadCpuMs() -> CPU time of the calling thread in ms (benchmarks: on a VM, wall time
// includes time the host gave to others; thread CPU time does not).
Napi::Value ThreadCpuMsJs(const Napi::CallbackInfo& info) {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return Napi::Number::New(info.Env(), t.tv_sec * 1e3 + t.tv_nsec / 1e6);
}

void RegisterAllocator(Napi::Env env, Napi::Object exports) {
  exports.Set("NativePool", PoolObject::Define(env));
  exports.Set("compressBatchToPool", Napi::Function::New(env, CompressBatchToPoolJs, "compressBatchToPool"));
  exports.Set("decompressFromPool", Napi::Function::New(env, DecompressFromPoolJs, "decompressFromPool"));
  exports.Set("decompressManyFromPool", Napi::Function::New(env, DecompressManyFromPoolJs, "decompressManyFromPool"));
  exports.Set("readObjects", Napi::Function::New(env, ReadObjectsJs, "readObjects"));
  exports.Set("storeObjects", Napi::Function::New(env, StoreObjectsJs, "storeObjects"));
  exports.Set("gatherObjects", Napi::Function::New(env, GatherObjectsJs, "gatherObjects"));
  exports.Set("putObjects", Napi::Function::New(env, PutObjectsJs, "putObjects"));
  exports.Set("freeMany", Napi::Function::New(env, FreeManyJs, "freeMany"));
  exports.Set("checksumBytes", Napi::Function::New(env, ChecksumBytesJs, "checksumBytes"));
  exports.Set("livePools", Napi::Function::New(env, LivePoolsJs, "livePools"));
  exports.Set("threadCpuMs", Napi::Function::New(env, ThreadCpuMsJs, "threadCpuMs"));
}

}  // namespace zstash::alloc
