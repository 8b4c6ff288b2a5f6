// Page codecs with a dictionary, behind the same PageCodec contract as the
// plain ones (output bounded by `capacity`, incompressible reported, a decoder
// accepts exactly one page or returns a DecodeStatus). Each instance copies the
// dictionary once and digests it once (a zstd CDict/DDict, an lz4 stream with
// the dictionary loaded), so a page pays no dictionary setup; like every
// PageCodec an instance belongs to one thread, and each worker builds its own.
//
// Stream format (both codecs): [dictionary id: 1 byte, 1..255][zstd frame | lz4 block].
// The id byte makes a page fail to decode under another dictionary instead of
// decoding to other bytes: a zstd frame only names its dictionary when the
// dictionary has a zstd header (and costs the same byte), and the content-only
// zstd mode and lz4 have no header at all. The plain decoders refuse the byte
// (it is not zstd's magic) or, for lz4, read it as a token whose offsets point
// outside the page; the store never hands a dictionary object to them anyway.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include "codec.h"

namespace zstash {

struct ZstdDictOptions {
  uint8_t id = 0;             // 1..255, written as the stream's first byte
  // Use the dictionary's entropy tables. At strategies below lazy (levels 1-5)
  // libzstd reuses a dictionary's FSE tables for every small block without
  // pricing them, which costs more than the dictionary's content gains (measured:
  // bench/dictionary.ts), so by default only the content is loaded there.
  enum Tables { kAuto, kUse, kSkip } tables = kAuto;
  // zstd frame header fields that cost bytes on every page.
  bool dict_id_flag = false;  // the frame's own dictionary id (1-4 bytes; redundant with the id byte)
  bool content_size = false;  // +2 bytes FCS, −1 byte window descriptor (single segment)
  bool checksum = false;      // +4 bytes
};

// An empty `dict` is plain zstd with the given frame flags (no id byte): used to
// measure the flags. A dictionary in zstd's format (magic 0xEC30A437) has an id
// and entropy tables; any other bytes are content.
std::unique_ptr<PageCodec> MakeZstdDictCodec(const uint8_t* dict, size_t dict_size, int level,
                                             const ZstdDictOptions& options, std::string* error);

// lz4 with a dictionary: only its last 64 KiB (lz4's window) are used.
std::unique_ptr<PageCodec> MakeLz4DictCodec(const uint8_t* dict, size_t dict_size, int acceleration, uint8_t id,
                                            std::string* error);

// The id in a zstd-format dictionary's header, 0 for raw content.
uint32_t ZstdDictionaryId(const uint8_t* dict, size_t dict_size);

// Whether a zstd dictionary codec at `level` uses the entropy tables in kAuto.
bool ZstdDictUsesTables(int level, size_t dict_size);

}  // namespace zstash
