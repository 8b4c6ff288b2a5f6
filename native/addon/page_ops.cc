// Page helpers that are cheaper in C++ than in JS: fill a page from its fill
// word (same-filled loads), copy a folio's objects into the pool with their
// checksums, and check objects against their checksums (device loads).
#include <napi.h>
#include <cstring>
#include <string>
#include "../batch/decompress_jobs.h"
#include "../common/checksum.h"
#include "../common/same_filled.h"
#include "args.h"

namespace zstash {

Napi::Value FillPageJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Args a(info, "fillPage");
  size_t offset = a.Size(1, "offset");
  uint8_t* dst = a.View<uint8_t>(0, "dst", offset, kPageSize);
  uint64_t lo = static_cast<uint64_t>(a.Int(2, "lo", 0, UINT32_MAX));
  uint64_t hi = static_cast<uint64_t>(a.Int(3, "hi", 0, UINT32_MAX));
  if (!a.ok()) return env.Undefined();
  FillPage(dst, lo | (hi << 32));
  return env.Undefined();
}

// copyObjects(arenas, plan, count, src, sums?): for each job [arena, dstOffset,
// srcOffset, length] copies src[srcOffset, +length) into arenas[arena] at
// dstOffset, and, when `sums` is given, writes the object's checksum to
// sums[srcOffset / 4096] (src holds one page slot per page of the folio).
// One call per folio instead of a typed-array view and set() per stored page;
// the checksum is taken while the bytes are hot in cache.
Napi::Value CopyObjectsJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Args a(info, "copyObjects");
  if (!info[0].IsArray()) a.Fail("arenas must be an array");
  size_t count = a.Size(2, "count", 1 << 20);
  const int32_t* plan = a.View<int32_t>(1, "plan", 0, count * 4);
  size_t src_bytes = 0;
  uint8_t* src = a.Bytes(3, "src", &src_bytes);
  size_t sum_count = 0;
  uint32_t* sums = nullptr;
  if (!a.Missing(4)) sums = a.ViewAll<uint32_t>(4, "sums", &sum_count);
  if (!a.ok()) return env.Undefined();
  auto arenas = info[0].As<Napi::Array>();
  int32_t cached_index = -1;
  uint8_t* arena = nullptr;
  size_t arena_bytes = 0, elem = 0;
  for (size_t i = 0; i < count; i++) {
    const int32_t* j = plan + i * 4;
    if (j[0] != cached_index) {
      Napi::Value v = arenas.Get(static_cast<uint32_t>(j[0]));
      if (env.IsExceptionPending()) return env.Undefined();
      if (!v.IsTypedArray() || !TypedArrayBytes(env, v, &arena, &arena_bytes, &elem)) {
        a.Fail("no arena " + std::to_string(j[0]), true);
        return env.Undefined();
      }
      cached_index = j[0];
    }
    size_t dst_off = static_cast<uint32_t>(j[1]), src_off = static_cast<uint32_t>(j[2]), len = static_cast<uint32_t>(j[3]);
    if (dst_off > arena_bytes || len > arena_bytes - dst_off || src_off > src_bytes || len > src_bytes - src_off ||
        (sums && src_off / kPageSize >= sum_count)) {
      a.Fail("job out of range", true);
      return env.Undefined();
    }
    std::memcpy(arena + dst_off, src + src_off, len);
    if (sums) sums[src_off / kPageSize] = ObjectChecksum(arena + dst_off, len);
  }
  return env.Undefined();
}

// checksum(bytes, offset, length) -> u32: the object checksum of a byte range.
Napi::Value ChecksumJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Args a(info, "checksum");
  size_t offset = a.Size(1, "offset"), length = a.Size(2, "length");
  const uint8_t* p = a.View<uint8_t>(0, "bytes", offset, length);
  if (!a.ok()) return env.Undefined();
  return Napi::Number::New(env, ObjectChecksum(p, length));
}

// checkObjects(arenas, jobs, count, sums, status): status[i] = 0 when job i's
// object matches sums[i], else kDecodeChecksum (kDecodeCorrupt when the job is
// out of range). Used before objects are handed to a device, which cannot check.
Napi::Value CheckObjectsJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Args a(info, "checkObjects");
  if (!info[0].IsArray()) a.Fail("arenas must be an array");
  size_t count = a.Size(2, "count", 1 << 24);
  const int32_t* jobs = a.View<int32_t>(1, "jobs", 0, count * 4);
  const uint32_t* sums = a.View<uint32_t>(3, "sums", 0, count);
  int32_t* status = a.View<int32_t>(4, "status", 0, count);
  if (!a.ok()) return env.Undefined();
  ArenaTable arenas = ArenaTable::FromJs(env, info[0].As<Napi::Array>(), [](const Napi::Value&) {});
  if (env.IsExceptionPending()) return env.Undefined();
  for (size_t i = 0; i < count; i++) {
    const int32_t* j = jobs + i * 4;
    const uint8_t* src = arenas.Resolve(j, SIZE_MAX);
    status[i] = !src ? kDecodeCorrupt : ObjectChecksum(src, static_cast<uint32_t>(j[2])) == sums[i] ? 0 : kDecodeChecksum;
  }
  return env.Undefined();
}

}  // namespace zstash
