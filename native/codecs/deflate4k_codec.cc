// Raw deflate with a 4 KiB history window (hist_bits = 12), made with ISA-L:
// the stream format Intel IAA (and QPL) produce and accept, so a page written by
// this codec can be read by an accelerator and the other way round.
#include <isa-l/igzip_lib.h>
#include <vector>
#include "codec.h"

namespace zstash {
namespace {

constexpr int kHistoryBits = 12;

class Deflate4kCodec final : public PageCodec {
 public:
  explicit Deflate4kCodec(int level) : level_(level) {
    switch (level) {
      case 0: break;  // level 0 needs no level buffer
      case 1: level_buf_.resize(ISAL_DEF_LVL1_DEFAULT); break;
      case 2: level_buf_.resize(ISAL_DEF_LVL2_DEFAULT); break;
      default: level_buf_.resize(ISAL_DEF_LVL3_DEFAULT); break;
    }
  }

  int32_t Compress(const uint8_t* page, uint8_t* out, size_t capacity) override {
    isal_zstream z;
    isal_deflate_stateless_init(&z);
    z.level = level_;
    z.level_buf = level_buf_.empty() ? nullptr : level_buf_.data();
    z.level_buf_size = static_cast<uint32_t>(level_buf_.size());
    z.hist_bits = kHistoryBits;
    z.flush = NO_FLUSH;
    z.end_of_stream = 1;
    z.next_in = const_cast<uint8_t*>(page);
    z.avail_in = kPageSize;
    z.next_out = out;
    z.avail_out = static_cast<uint32_t>(capacity);
    int r = isal_deflate_stateless(&z);
    if (r == STATELESS_OVERFLOW) return kIncompressible;
    if (r != COMP_OK) return kCompressError;
    return static_cast<int32_t>(z.total_out);
  }

  int32_t Decompress(const uint8_t* in, size_t length, uint8_t* out) override {
    inflate_state st;
    isal_inflate_init(&st);
    st.next_in = const_cast<uint8_t*>(in);
    st.avail_in = static_cast<uint32_t>(length);
    st.next_out = out;
    st.avail_out = kPageSize;
    int r = isal_inflate_stateless(&st);
    if (r == ISAL_DECOMP_OK) return st.total_out == kPageSize ? static_cast<int32_t>(kPageSize) : static_cast<int32_t>(kDecodeWrongSize);
    return r == ISAL_OUT_OVERFLOW ? kDecodeWrongSize : kDecodeCorrupt;
  }

 private:
  int level_;
  std::vector<uint8_t> level_buf_;
};

}  // namespace

std::unique_ptr<PageCodec> MakeDeflate4kCodec(int level) {
  if (level < 0 || level > 3) return nullptr;
  return std::make_unique<Deflate4kCodec>(level);
}

}  // namespace zstash
