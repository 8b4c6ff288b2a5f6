// Per-page codec calls, side by side, in one process on one thread: each
// library's default one-shot call, the alternatives worth measuring, and the
// call zstash ships (MakeCodec from native/codecs, compiled in). Built on demand
// by bench/codecs.ts into a temporary directory; never part of the addon.
//
//   codec_calls PAGES_FILE ROUNDS [codec...]      (codecs: lz4 zstd deflate deflate-4k lzo)
//
// Pages are raw 4096-byte pages; same-filled pages are dropped first, because
// a store never hands them to a codec. Every output is bounded by the store's
// threshold (4095 bytes) and decoded back and compared before any timing.
// Rounds are interleaved across variants so drift on a noisy host hits all of
// them alike. Prints one JSON object per variant per line.
#define ZSTD_STATIC_LINKING_ONLY
#include <isa-l/igzip_lib.h>
#include <libdeflate.h>
#include <lz4.h>
#include <lzo/lzo1x.h>
#include <zstd.h>
#include <zstd_errors.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "../../native/codecs/codec.h"
#include "../../native/common/same_filled.h"

using namespace zstash;

namespace {

constexpr size_t kThreshold = kPageSize - 1;

struct Variant {
  std::string codec, name, role, note;  // role: default | alternative | chosen
  std::unique_ptr<PageCodec> impl;
};

// ---- lz4 -------------------------------------------------------------------

// The documented one-shot call: a stack state, fully initialised every call.
struct Lz4Default final : PageCodec {
  int32_t Compress(const uint8_t* p, uint8_t* out, size_t cap) override {
    int n = LZ4_compress_default(reinterpret_cast<const char*>(p), reinterpret_cast<char*>(out), kPageSize, static_cast<int>(cap));
    return n > 0 ? n : kIncompressible;
  }
  int32_t Decompress(const uint8_t* in, size_t len, uint8_t* out) override {
    int n = LZ4_decompress_safe(reinterpret_cast<const char*>(in), reinterpret_cast<char*>(out), static_cast<int>(len), kPageSize);
    return n == static_cast<int>(kPageSize) ? n : kDecodeCorrupt;
  }
};

// A caller-owned state, reinitialised (16 KiB memset) by every call.
struct Lz4ExtState final : PageCodec {
  std::vector<char> state = std::vector<char>(LZ4_sizeofState());
  int32_t Compress(const uint8_t* p, uint8_t* out, size_t cap) override {
    int n = LZ4_compress_fast_extState(state.data(), reinterpret_cast<const char*>(p), reinterpret_cast<char*>(out), kPageSize, static_cast<int>(cap), 1);
    return n > 0 ? n : kIncompressible;
  }
  int32_t Decompress(const uint8_t* in, size_t len, uint8_t* out) override {
    int n = LZ4_decompress_safe(reinterpret_cast<const char*>(in), reinterpret_cast<char*>(out), static_cast<int>(len), kPageSize);
    return n == static_cast<int>(kPageSize) ? n : kDecodeCorrupt;
  }
};

// LZ4_resetStream_fast + LZ4_compress_fast_continue: the hash table is kept and
// made stale by an offset gap instead of being cleared; each page is still an
// independent block (no history: the stream's dictionary is dropped by the reset).
struct Lz4StreamFast final : PageCodec {
  LZ4_stream_t* s = LZ4_createStream();
  ~Lz4StreamFast() override { LZ4_freeStream(s); }
  int32_t Compress(const uint8_t* p, uint8_t* out, size_t cap) override {
    LZ4_resetStream_fast(s);
    int n = LZ4_compress_fast_continue(s, reinterpret_cast<const char*>(p), reinterpret_cast<char*>(out), kPageSize, static_cast<int>(cap), 1);
    return n > 0 ? n : kIncompressible;
  }
  int32_t Decompress(const uint8_t* in, size_t len, uint8_t* out) override {
    int n = LZ4_decompress_safe(reinterpret_cast<const char*>(in), reinterpret_cast<char*>(out), static_cast<int>(len), kPageSize);
    return n == static_cast<int>(kPageSize) ? n : kDecodeCorrupt;
  }
};

// ---- zstd ------------------------------------------------------------------

int32_t ZstdResult(size_t n) {
  if (!ZSTD_isError(n)) return static_cast<int32_t>(n);
  return ZSTD_getErrorCode(n) == ZSTD_error_dstSize_tooSmall ? kIncompressible : kCompressError;
}
int32_t ZstdDecoded(size_t n) { return ZSTD_isError(n) ? kDecodeCorrupt : n == kPageSize ? static_cast<int32_t>(n) : kDecodeWrongSize; }

// ZSTD_compress / ZSTD_decompress: a context made and freed inside every call.
struct ZstdDefault final : PageCodec {
  int level;
  explicit ZstdDefault(int l) : level(l) {}
  int32_t Compress(const uint8_t* p, uint8_t* out, size_t cap) override { return ZstdResult(ZSTD_compress(out, cap, p, kPageSize, level)); }
  int32_t Decompress(const uint8_t* in, size_t len, uint8_t* out) override { return ZstdDecoded(ZSTD_decompress(out, kPageSize, in, len)); }
};

// Reused contexts, level passed per call (the ceiling loop of pagebench.c).
struct ZstdCCtx final : PageCodec {
  ZSTD_CCtx* c = ZSTD_createCCtx();
  ZSTD_DCtx* d = ZSTD_createDCtx();
  int level;
  explicit ZstdCCtx(int l) : level(l) {}
  ~ZstdCCtx() override { ZSTD_freeCCtx(c); ZSTD_freeDCtx(d); }
  int32_t Compress(const uint8_t* p, uint8_t* out, size_t cap) override { return ZstdResult(ZSTD_compressCCtx(c, out, cap, p, kPageSize, level)); }
  int32_t Decompress(const uint8_t* in, size_t len, uint8_t* out) override { return ZstdDecoded(ZSTD_decompressDCtx(d, out, kPageSize, in, len)); }
};

// Parameters set once, ZSTD_compress2 per page. Options: magicless frames,
// explicit window/hash sizes.
struct ZstdParams final : PageCodec {
  ZSTD_CCtx* c = ZSTD_createCCtx();
  ZSTD_DCtx* d = ZSTD_createDCtx();
  ZstdParams(int level, bool magicless, int windowLog, int hashLog, int minMatch) {
    ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, level);
    ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 0);
    ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 0);
    ZSTD_CCtx_setParameter(c, ZSTD_c_dictIDFlag, 0);
    if (windowLog) ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, windowLog);
    if (hashLog) ZSTD_CCtx_setParameter(c, ZSTD_c_hashLog, hashLog);
    if (minMatch) ZSTD_CCtx_setParameter(c, ZSTD_c_minMatch, minMatch);
    if (magicless) {
      ZSTD_CCtx_setParameter(c, ZSTD_c_format, ZSTD_f_zstd1_magicless);
      ZSTD_DCtx_setParameter(d, ZSTD_d_format, ZSTD_f_zstd1_magicless);
    }
  }
  ~ZstdParams() override { ZSTD_freeCCtx(c); ZSTD_freeDCtx(d); }
  int32_t Compress(const uint8_t* p, uint8_t* out, size_t cap) override { return ZstdResult(ZSTD_compress2(c, out, cap, p, kPageSize)); }
  int32_t Decompress(const uint8_t* in, size_t len, uint8_t* out) override { return ZstdDecoded(ZSTD_decompressDCtx(d, out, kPageSize, in, len)); }
};

// Buffer-less API: parameters computed once, ZSTD_compressBegin_advanced +
// ZSTD_compressEnd per page (skips the CCtx parameter machinery).
struct ZstdBegin final : PageCodec {
  ZSTD_CCtx* c = ZSTD_createCCtx();
  ZSTD_DCtx* d = ZSTD_createDCtx();
  ZSTD_parameters params;
  explicit ZstdBegin(int level) {
    params = ZSTD_getParams(level, kPageSize, 0);
    params.fParams = {0, 0, 1};  // no content size, no checksum, no dictID
  }
  ~ZstdBegin() override { ZSTD_freeCCtx(c); ZSTD_freeDCtx(d); }
  int32_t Compress(const uint8_t* p, uint8_t* out, size_t cap) override {
    size_t r = ZSTD_compressBegin_advanced(c, nullptr, 0, params, kPageSize);
    if (ZSTD_isError(r)) return kCompressError;
    return ZstdResult(ZSTD_compressEnd(c, out, cap, p, kPageSize));
  }
  int32_t Decompress(const uint8_t* in, size_t len, uint8_t* out) override { return ZstdDecoded(ZSTD_decompressDCtx(d, out, kPageSize, in, len)); }
};

// ---- libdeflate -------------------------------------------------------------

// libdeflate has no one-shot call without a compressor object: the default use
// allocates one per call (what a caller without a cache writes).
struct LibdeflatePerCall final : PageCodec {
  int level;
  explicit LibdeflatePerCall(int l) : level(l) {}
  int32_t Compress(const uint8_t* p, uint8_t* out, size_t cap) override {
    libdeflate_compressor* c = libdeflate_alloc_compressor(level);
    size_t n = libdeflate_deflate_compress(c, p, kPageSize, out, cap);
    libdeflate_free_compressor(c);
    return n > 0 ? static_cast<int32_t>(n) : kIncompressible;
  }
  int32_t Decompress(const uint8_t* in, size_t len, uint8_t* out) override {
    libdeflate_decompressor* d = libdeflate_alloc_decompressor();
    size_t produced = 0;
    auto r = libdeflate_deflate_decompress(d, in, len, out, kPageSize, &produced);
    libdeflate_free_decompressor(d);
    return r == LIBDEFLATE_SUCCESS && produced == kPageSize ? static_cast<int32_t>(kPageSize) : kDecodeCorrupt;
  }
};

// ---- ISA-L deflate, 4 KiB window ---------------------------------------------

// Stateless calls with a level buffer of the given size, allocated per call
// (default) or once.
struct IsalStateless final : PageCodec {
  int level;
  size_t bufSize;
  bool allocPerCall;
  std::vector<uint8_t> buf;
  IsalStateless(int l, size_t size, bool perCall) : level(l), bufSize(size), allocPerCall(perCall) { if (!perCall) buf.resize(size); }
  int32_t Compress(const uint8_t* p, uint8_t* out, size_t cap) override {
    std::vector<uint8_t> local;
    uint8_t* lb = buf.data();
    if (allocPerCall) { local.resize(bufSize); lb = local.data(); }
    isal_zstream z;
    isal_deflate_stateless_init(&z);
    z.level = level;
    z.level_buf = bufSize ? lb : nullptr;
    z.level_buf_size = static_cast<uint32_t>(bufSize);
    z.hist_bits = 12;
    z.flush = NO_FLUSH;
    z.end_of_stream = 1;
    z.next_in = const_cast<uint8_t*>(p);
    z.avail_in = kPageSize;
    z.next_out = out;
    z.avail_out = static_cast<uint32_t>(cap);
    int r = isal_deflate_stateless(&z);
    if (r == STATELESS_OVERFLOW) return kIncompressible;
    return r == COMP_OK ? static_cast<int32_t>(z.total_out) : kCompressError;
  }
  int32_t Decompress(const uint8_t* in, size_t len, uint8_t* out) override {
    inflate_state st;
    isal_inflate_init(&st);
    st.next_in = const_cast<uint8_t*>(in);
    st.avail_in = static_cast<uint32_t>(len);
    st.next_out = out;
    st.avail_out = kPageSize;
    return isal_inflate_stateless(&st) == ISAL_DECOMP_OK && st.total_out == kPageSize ? static_cast<int32_t>(kPageSize) : kDecodeCorrupt;
  }
};

// ---- lzo ----------------------------------------------------------------------

using LzoCompressFn = int (*)(const lzo_bytep, lzo_uint, lzo_bytep, lzo_uintp, lzo_voidp);

// lzo1x-1 family: the same LZO1X stream, dictionaries of 2^11..2^15 entries.
// The default call allocates its work memory per call.
struct LzoVariant final : PageCodec {
  LzoCompressFn fn;
  size_t workSize;
  bool allocPerCall;
  std::vector<uint8_t> work, scratch = std::vector<uint8_t>(kPageSize + kPageSize / 16 + 64 + 3);
  LzoVariant(LzoCompressFn f, size_t w, bool perCall) : fn(f), workSize(w), allocPerCall(perCall) { if (!perCall) work.resize(w); }
  int32_t Compress(const uint8_t* p, uint8_t* out, size_t cap) override {
    std::vector<uint8_t> local;
    uint8_t* wk = work.data();
    if (allocPerCall) { local.resize(workSize); wk = local.data(); }
    lzo_uint n = scratch.size();
    if (fn(p, kPageSize, scratch.data(), &n, wk) != LZO_E_OK) return kCompressError;
    if (n > cap) return kIncompressible;
    std::memcpy(out, scratch.data(), n);
    return static_cast<int32_t>(n);
  }
  int32_t Decompress(const uint8_t* in, size_t len, uint8_t* out) override {
    lzo_uint n = kPageSize;
    return lzo1x_decompress_safe(in, len, out, &n, nullptr) == LZO_E_OK && n == kPageSize ? static_cast<int32_t>(kPageSize) : kDecodeCorrupt;
  }
};

std::vector<Variant> VariantsFor(const std::string& codec) {
  std::vector<Variant> v;
  auto add = [&](const char* name, const char* role, const char* note, PageCodec* impl) {
    v.push_back({codec, name, role, note, std::unique_ptr<PageCodec>(impl)});
  };
  std::string err;
  if (codec == "lz4") {
    add("LZ4_compress_default", "default", "stack state, full init per call", new Lz4Default());
    add("LZ4_compress_fast_extState", "alternative", "caller state, full init per call (zstash before #13)", new Lz4ExtState());
    add("LZ4_resetStream_fast + compress_fast_continue", "alternative", "reused stream, table kept stale by an offset gap", new Lz4StreamFast());
  } else if (codec == "zstd") {
    add("ZSTD_compress", "default", "level 1; context allocated per call", new ZstdDefault(1));
    add("ZSTD_compressCCtx", "alternative", "reused contexts, level per call (pagebench)", new ZstdCCtx(1));
    add("ZSTD_compress2", "alternative", "params once: no checksum/content size/dictID (zstash before #13)", new ZstdParams(1, false, 0, 0, 0));
    add("ZSTD_compress2 magicless", "alternative", "+ ZSTD_f_zstd1_magicless", new ZstdParams(1, true, 0, 0, 0));
    add("ZSTD_compress2 magicless wlog12", "alternative", "+ windowLog 12", new ZstdParams(1, true, 12, 0, 0));
    add("ZSTD_compress2 magicless hlog12", "alternative", "+ hashLog 12", new ZstdParams(1, true, 0, 12, 0));
    add("ZSTD_compress2 magicless minmatch4", "alternative", "+ minMatch 4", new ZstdParams(1, true, 0, 0, 4));
    add("ZSTD_compressBegin_advanced", "alternative", "buffer-less: params computed once", new ZstdBegin(1));
  } else if (codec == "deflate") {
    add("libdeflate per-call objects", "default", "level 1; compressor allocated per call", new LibdeflatePerCall(1));
  } else if (codec == "deflate-4k") {
    add("isal_deflate_stateless per-call buffer", "default", "level 1, LVL1_DEFAULT buffer allocated per call", new IsalStateless(1, ISAL_DEF_LVL1_DEFAULT, true));
    add("isal_deflate_stateless LVL1_SMALL", "alternative", "level buffer once, SMALL size", new IsalStateless(1, ISAL_DEF_LVL1_SMALL, false));
  } else if (codec == "lzo") {
    add("lzo1x_1_compress per-call wrkmem", "default", "work memory allocated per call", new LzoVariant(lzo1x_1_compress, LZO1X_1_MEM_COMPRESS, true));
    add("lzo1x_1_compress", "alternative", "2^14-entry dictionary, work memory once (zstash before #13)", new LzoVariant(lzo1x_1_compress, LZO1X_1_MEM_COMPRESS, false));
    add("lzo1x_1_11_compress", "alternative", "2^11-entry dictionary", new LzoVariant(lzo1x_1_11_compress, LZO1X_1_11_MEM_COMPRESS, false));
    add("lzo1x_1_12_compress", "alternative", "2^12-entry dictionary", new LzoVariant(lzo1x_1_12_compress, LZO1X_1_12_MEM_COMPRESS, false));
    add("lzo1x_1_15_compress", "alternative", "2^15-entry dictionary", new LzoVariant(lzo1x_1_15_compress, LZO1X_1_15_MEM_COMPRESS, false));
  }
  std::unique_ptr<PageCodec> chosen = MakeCodec(codec, 1, &err);
  if (chosen) v.push_back({codec, "zstash", "chosen", "MakeCodec(name, 1) from native/codecs", std::move(chosen)});
  return v;
}

double Now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }
// CPU time of this thread: time spent descheduled (other processes on a shared
// host) does not count, so comparisons between variants are steadier than wall time.
double CpuNow() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct Timing {
  std::vector<double> comp, decomp, compCpu, decompCpu;
  size_t bytes = 0, incompressible = 0;
};

double Best(std::vector<double> v) { return *std::min_element(v.begin(), v.end()); }
double Median(std::vector<double> v) { std::sort(v.begin(), v.end()); return v[v.size() / 2]; }

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s PAGES_FILE ROUNDS [codec...]\n", argv[0]);
    return 2;
  }
  FILE* f = std::fopen(argv[1], "rb");
  if (!f) { std::perror(argv[1]); return 1; }
  std::vector<uint8_t> all;
  {
    std::fseek(f, 0, SEEK_END);
    long size = std::ftell(f);
    std::fseek(f, 0, SEEK_SET);
    all.resize(static_cast<size_t>(size) / kPageSize * kPageSize);
    if (std::fread(all.data(), 1, all.size(), f) != all.size()) { std::fprintf(stderr, "short read\n"); return 1; }
    std::fclose(f);
  }
  size_t total = all.size() / kPageSize, n = 0;
  for (size_t i = 0; i < total; i++) {
    uint64_t fill;
    if (PageIsSameFilled(all.data() + i * kPageSize, &fill)) continue;
    if (n != i) std::memmove(all.data() + n * kPageSize, all.data() + i * kPageSize, kPageSize);
    n++;
  }
  int rounds = std::max(1, std::atoi(argv[2]));
  std::vector<std::string> codecs;
  for (int i = 3; i < argc; i++) codecs.push_back(argv[i]);
  if (codecs.empty()) codecs = {"lz4", "zstd", "deflate", "deflate-4k", "lzo"};
  if (lzo_init() != LZO_E_OK) { std::fprintf(stderr, "lzo_init failed\n"); return 1; }

  std::vector<uint8_t> out(n * kPageSize), back(kPageSize);
  std::vector<int32_t> lens(n);
  std::vector<uint8_t> packed(n * kPageSize);
  std::vector<size_t> offsets(n);
  for (const auto& codec : codecs) {
    auto variants = VariantsFor(codec);
    std::vector<Timing> t(variants.size());
    // Check every variant first: bounded output, exact round trip.
    for (size_t v = 0; v < variants.size(); v++) {
      PageCodec& c = *variants[v].impl;
      for (size_t i = 0; i < n; i++) {
        int32_t r = c.Compress(all.data() + i * kPageSize, out.data() + i * kPageSize, kThreshold);
        if (r == kIncompressible) { t[v].incompressible++; t[v].bytes += kPageSize; continue; }
        if (r <= 0 || static_cast<size_t>(r) > kThreshold) { std::fprintf(stderr, "%s %s: page %zu compress status %d\n", codec.c_str(), variants[v].name.c_str(), i, r); return 1; }
        t[v].bytes += static_cast<size_t>(r);
        if (c.Decompress(out.data() + i * kPageSize, static_cast<size_t>(r), back.data()) != static_cast<int32_t>(kPageSize) ||
            std::memcmp(back.data(), all.data() + i * kPageSize, kPageSize) != 0) {
          std::fprintf(stderr, "%s %s: page %zu does not round-trip\n", codec.c_str(), variants[v].name.c_str(), i);
          return 1;
        }
      }
    }
    for (int round = 0; round < rounds; round++) {
      for (size_t v = 0; v < variants.size(); v++) {
        PageCodec& c = *variants[v].impl;
        double c0 = CpuNow(), t0 = Now();
        for (size_t i = 0; i < n; i++) lens[i] = c.Compress(all.data() + i * kPageSize, out.data() + i * kPageSize, kThreshold);
        double t1 = Now(), c1 = CpuNow();
        t[v].comp.push_back(t1 - t0);
        t[v].compCpu.push_back(c1 - c0);
        // Decompress from the objects packed end to end, as a pool holds them (reading
        // them from their 4 KiB compress slots costs cache-set conflicts no store pays).
        size_t at = 0;
        for (size_t i = 0; i < n; i++) {
          if (lens[i] <= 0) continue;
          std::memmove(packed.data() + at, out.data() + i * kPageSize, static_cast<size_t>(lens[i]));
          offsets[i] = at;
          at += static_cast<size_t>(lens[i]);
        }
        double d0 = Now(), dc0 = CpuNow();
        for (size_t i = 0; i < n; i++) {
          if (lens[i] > 0) c.Decompress(packed.data() + offsets[i], static_cast<size_t>(lens[i]), back.data());
          else std::memcpy(back.data(), all.data() + i * kPageSize, kPageSize);  // a raw page is a copy in the store
        }
        double d1 = Now(), dc1 = CpuNow();
        t[v].decomp.push_back(d1 - d0);
        t[v].decompCpu.push_back(dc1 - dc0);
      }
    }
    const double mb = static_cast<double>(n * kPageSize) / 1e6;
    for (size_t v = 0; v < variants.size(); v++) {
      std::printf(
          "{\"codec\":\"%s\",\"variant\":\"%s\",\"role\":\"%s\",\"note\":\"%s\",\"pages\":%zu,\"pages_in_file\":%zu,"
          "\"compress_MBps\":%.1f,\"compress_MBps_median\":%.1f,\"decompress_MBps\":%.1f,\"decompress_MBps_median\":%.1f,"
          "\"compress_cpu_MBps_median\":%.1f,\"decompress_cpu_MBps_median\":%.1f,\"ratio\":%.4f,\"incompressible\":%zu,\"rounds\":%d}\n",
          codec.c_str(), variants[v].name.c_str(), variants[v].role.c_str(), variants[v].note.c_str(), n, total,
          mb / Best(t[v].comp), mb / Median(t[v].comp), mb / Best(t[v].decomp), mb / Median(t[v].decomp), mb / Median(t[v].compCpu), mb / Median(t[v].decompCpu),
          static_cast<double>(n * kPageSize) / static_cast<double>(t[v].bytes), t[v].incompressible, rounds);
      std::fflush(stdout);
    }
  }
  return 0;
}
