// JS class ObjectSealer: seals and opens the objects a backing store writes
// back, a batch per call, so the per-object cost is one cipher re-init (the key
// schedule is set once per store) instead of a node:crypto Cipher object each.
//
// Record layouts (the bytes a backing store keeps for one object):
//   aead (aes-256-gcm, chacha20-poly1305):
//     ciphertext(tag u32 LE | checksum u32 LE | payload) | 16-byte auth tag
//   none:
//     crc32c u32 LE | tag u32 LE | checksum u32 LE | payload
// Both bind the associated data
//     "zst" | format version | namespace id (16 bytes) | page key u32 | locator u32 | seq u64
// (aead: as AAD, with the nonce = 4-byte random per-store prefix | seq u64;
//  none: as the first bytes the CRC covers), so an object replayed under another
// key, locator, sequence number or namespace fails to open.
#pragma once
#include <napi.h>
#include <openssl/evp.h>
#include <array>
#include <cstdint>

namespace zstash {

class ObjectSealer : public Napi::ObjectWrap<ObjectSealer> {
 public:
  enum class Mode { kNone, kAesGcm, kChaChaPoly };
  static constexpr size_t kNamespaceBytes = 16;
  static constexpr size_t kAadBytes = 4 + kNamespaceBytes + 4 + 4 + 8;
  static constexpr size_t kAuthTagBytes = 16;

  static Napi::Function Define(Napi::Env env);
  // new ObjectSealer(mode: 'aes-256-gcm' | 'chacha20-poly1305' | 'none', namespaceId: Uint8Array(16))
  explicit ObjectSealer(const Napi::CallbackInfo& info);
  ~ObjectSealer() override;

 private:
  // sealMany(count, sources[], sourceIndex|null, offsets, lengths, keys, locators, tags, checksums,
  //          out, outOffsets, seqs) -> undefined. Assigns each object the next sequence number
  //          (written to seqs) and writes its record at out[outOffsets[i]].
  Napi::Value SealMany(const Napi::CallbackInfo& info);
  // openMany(count, sources[], sourceIndex|null, offsets, lengths, keys, locators, seqs,
  //          dst, dstOffsets, capacities|null, defaultCapacity, tags, checksums, status) -> failures.
  //          An object whose status is negative on entry is skipped. On exit status[i] is the
  //          payload length, kCorrupt (the record did not open: its destination is zeroed) or
  //          kTooLarge (the payload would not fit its capacity: nothing written).
  Napi::Value OpenMany(const Napi::CallbackInfo& info);
  // Overhead in bytes a record adds to its payload.
  Napi::Value Overhead(const Napi::CallbackInfo& info);
  // The next sequence number (diagnostics, tests).
  Napi::Value NextSeq(const Napi::CallbackInfo& info);
  // Wipes the key; every later call throws.
  Napi::Value Destroy(const Napi::CallbackInfo& info);

  size_t RecordOverhead() const { return mode_ == Mode::kNone ? 12 : 8 + kAuthTagBytes; }
  void Aad(uint8_t* aad, uint32_t key, uint32_t locator, uint64_t seq) const;
  void Nonce(uint8_t* nonce, uint64_t seq) const;
  bool Usable(Napi::Env env) const;

  Mode mode_ = Mode::kNone;
  const EVP_CIPHER* cipher_ = nullptr;
  EVP_CIPHER_CTX* enc_ = nullptr;
  EVP_CIPHER_CTX* dec_ = nullptr;
  std::array<uint8_t, 32> key_{};
  std::array<uint8_t, 4> nonce_prefix_{};
  std::array<uint8_t, kNamespaceBytes> namespace_{};
  uint64_t next_seq_ = 1;
  bool destroyed_ = false;
};

}  // namespace zstash
