#include "object_sealer.h"
#include <isa-l/crc.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>
#include "../addon/typed_views.h"

namespace zstash {

namespace {

constexpr int32_t kCorrupt = -3;   // GetStatus.CORRUPT in src/tier/backing-store.ts
constexpr int32_t kTooLarge = -4;  // GetStatus.TOO_LARGE
constexpr uint8_t kFormatVersion = 1;
constexpr double kMaxSeq = 9007199254740991.0;  // seqs travel as doubles

inline void PutU32(uint8_t* p, uint32_t v) {
  p[0] = v & 0xff; p[1] = (v >> 8) & 0xff; p[2] = (v >> 16) & 0xff; p[3] = v >> 24;
}
inline uint32_t GetU32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
inline void PutU64(uint8_t* p, uint64_t v) {
  PutU32(p, static_cast<uint32_t>(v));
  PutU32(p + 4, static_cast<uint32_t>(v >> 32));
}

// The byte spans of a JS array of typed arrays (sources: pool arenas, a read buffer, reply buffers).
bool Spans(Napi::Env env, const Napi::Value& v, std::vector<std::pair<uint8_t*, size_t>>* spans) {
  if (!v.IsArray()) {
    Napi::TypeError::New(env, "sources must be an array of typed arrays").ThrowAsJavaScriptException();
    return false;
  }
  auto array = v.As<Napi::Array>();
  spans->assign(array.Length(), {nullptr, 0});
  for (uint32_t i = 0; i < array.Length(); i++) {
    Napi::Value a = array.Get(i);
    uint8_t* data;
    size_t bytes, elem;
    if (a.IsTypedArray() && TypedArrayBytes(env, a, &data, &bytes, &elem)) (*spans)[i] = {data, bytes};
  }
  return true;
}

// The bytes [offset, offset + length) of source `index`, or nullptr when they are not all there.
uint8_t* SourceRange(const std::vector<std::pair<uint8_t*, size_t>>& spans, uint32_t index, uint32_t offset,
                     uint32_t length) {
  if (index >= spans.size() || !spans[index].first) return nullptr;
  size_t bytes = spans[index].second;
  if (offset > bytes || length > bytes - offset) return nullptr;
  return spans[index].first + offset;
}

void ThrowRange(Napi::Env env, const std::string& what, size_t i) {
  Napi::RangeError::New(env, what + " (object " + std::to_string(i) + ")").ThrowAsJavaScriptException();
}

// What sealMany and openMany both take first: a count, the sources and where each
// object lies in them, and the page key and locator each record is bound to
// (arguments 0..6). Throws and returns false on a bad one.
struct ObjectRun {
  size_t count = 0;
  std::vector<std::pair<uint8_t*, size_t>> spans;
  const uint32_t* source_index = nullptr;
  const uint32_t* offsets = nullptr;
  const uint32_t* lengths = nullptr;
  const uint32_t* keys = nullptr;
  const uint32_t* locators = nullptr;

  const uint8_t* Source(size_t i) const {
    return SourceRange(spans, source_index ? source_index[i] : 0, offsets[i], lengths[i]);
  }
};

bool ParseObjectRun(const Napi::CallbackInfo& info, size_t arity, const char* name, ObjectRun* run) {
  Napi::Env env = info.Env();
  if (info.Length() < arity || !info[0].IsNumber()) {
    Napi::TypeError::New(env, std::string(name) + " needs " + std::to_string(arity) + " arguments")
        .ThrowAsJavaScriptException();
    return false;
  }
  const size_t count = run->count = IntArg(info, 0);
  if (!Spans(env, info[1], &run->spans)) return false;
  run->source_index = info[2].IsNull() || info[2].IsUndefined() ? nullptr
                      : CheckedView<uint32_t>(env, info[2], 0, count, "sourceIndex");
  if (env.IsExceptionPending()) return false;
  run->offsets = CheckedView<uint32_t>(env, info[3], 0, count, "offsets");
  run->lengths = run->offsets ? CheckedView<uint32_t>(env, info[4], 0, count, "lengths") : nullptr;
  run->keys = run->lengths ? CheckedView<uint32_t>(env, info[5], 0, count, "keys") : nullptr;
  run->locators = run->keys ? CheckedView<uint32_t>(env, info[6], 0, count, "locators") : nullptr;
  return run->locators != nullptr;
}

}  // namespace

Napi::Function ObjectSealer::Define(Napi::Env env) {
  return DefineClass(env, "ObjectSealer",
                     {
                         InstanceMethod<&ObjectSealer::SealMany>("sealMany"),
                         InstanceMethod<&ObjectSealer::OpenMany>("openMany"),
                         InstanceMethod<&ObjectSealer::Overhead>("overhead"),
                         InstanceMethod<&ObjectSealer::NextSeq>("nextSeq"),
                         InstanceMethod<&ObjectSealer::Destroy>("destroy"),
                     });
}

ObjectSealer::ObjectSealer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ObjectSealer>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString()) {
    Napi::TypeError::New(env, "new ObjectSealer(mode: string, namespaceId: Uint8Array(16))").ThrowAsJavaScriptException();
    return;
  }
  std::string mode = info[0].As<Napi::String>().Utf8Value();
  const uint8_t* ns = CheckedView<uint8_t>(env, info[1], 0, kNamespaceBytes, "namespaceId");
  if (!ns) return;
  std::memcpy(namespace_.data(), ns, kNamespaceBytes);
  if (mode == "none") {
    mode_ = Mode::kNone;
    return;
  }
  if (mode == "aes-256-gcm") {
    mode_ = Mode::kAesGcm;
    cipher_ = EVP_aes_256_gcm();
  } else if (mode == "chacha20-poly1305") {
    mode_ = Mode::kChaChaPoly;
    cipher_ = EVP_chacha20_poly1305();
  } else {
    Napi::TypeError::New(env, "unknown sealing mode '" + mode + "'").ThrowAsJavaScriptException();
    return;
  }
  // The key exists only here, in this process's memory: it is never returned to JS.
  if (RAND_bytes(key_.data(), key_.size()) != 1 || RAND_bytes(nonce_prefix_.data(), nonce_prefix_.size()) != 1) {
    Napi::Error::New(env, "RAND_bytes failed").ThrowAsJavaScriptException();
    return;
  }
  enc_ = EVP_CIPHER_CTX_new();
  dec_ = EVP_CIPHER_CTX_new();
  // The key schedule is computed once here; each object then only sets its nonce.
  if (!enc_ || !dec_ || EVP_EncryptInit_ex(enc_, cipher_, nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(enc_, EVP_CTRL_AEAD_SET_IVLEN, 12, nullptr) != 1 ||
      EVP_EncryptInit_ex(enc_, nullptr, nullptr, key_.data(), nullptr) != 1 ||
      EVP_DecryptInit_ex(dec_, cipher_, nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(dec_, EVP_CTRL_AEAD_SET_IVLEN, 12, nullptr) != 1 ||
      EVP_DecryptInit_ex(dec_, nullptr, nullptr, key_.data(), nullptr) != 1) {
    Napi::Error::New(env, "cipher setup failed").ThrowAsJavaScriptException();
  }
}

ObjectSealer::~ObjectSealer() {
  OPENSSL_cleanse(key_.data(), key_.size());
  if (enc_) EVP_CIPHER_CTX_free(enc_);
  if (dec_) EVP_CIPHER_CTX_free(dec_);
}

void ObjectSealer::Aad(uint8_t* aad, uint32_t key, uint32_t locator, uint64_t seq) const {
  aad[0] = 'z'; aad[1] = 's'; aad[2] = 't'; aad[3] = kFormatVersion;
  std::memcpy(aad + 4, namespace_.data(), kNamespaceBytes);
  PutU32(aad + 4 + kNamespaceBytes, key);
  PutU32(aad + 8 + kNamespaceBytes, locator);
  PutU64(aad + 12 + kNamespaceBytes, seq);
}

void ObjectSealer::Nonce(uint8_t* nonce, uint64_t seq) const {
  std::memcpy(nonce, nonce_prefix_.data(), 4);
  PutU64(nonce + 4, seq);
}

bool ObjectSealer::Usable(Napi::Env env) const {
  if (destroyed_) Napi::Error::New(env, "ObjectSealer is destroyed").ThrowAsJavaScriptException();
  return !destroyed_;
}

Napi::Value ObjectSealer::SealMany(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!Usable(env)) return env.Undefined();
  ObjectRun run;
  if (!ParseObjectRun(info, 12, "sealMany", &run)) return env.Undefined();
  const size_t count = run.count;
  const uint32_t *lengths = run.lengths, *keys = run.keys, *locators = run.locators;
  const uint32_t* tags = CheckedView<uint32_t>(env, info[7], 0, count, "tags");
  const uint32_t* checksums = tags ? CheckedView<uint32_t>(env, info[8], 0, count, "checksums") : nullptr;
  if (!checksums) return env.Undefined();
  uint8_t* out;
  size_t out_bytes, elem;
  if (!info[9].IsTypedArray() || !TypedArrayBytes(env, info[9], &out, &out_bytes, &elem)) {
    Napi::TypeError::New(env, "out must be a typed array").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const uint32_t* out_offsets = CheckedView<uint32_t>(env, info[10], 0, count, "outOffsets");
  double* seqs = out_offsets ? CheckedView<double>(env, info[11], 0, count, "seqs") : nullptr;
  if (!seqs) return env.Undefined();

  const size_t overhead = RecordOverhead();
  // Every range is checked before anything is written, so a bad plan changes nothing.
  std::vector<const uint8_t*> src(count);
  for (size_t i = 0; i < count; i++) {
    src[i] = run.Source(i);
    if (!src[i]) return ThrowRange(env, "source range out of bounds", i), env.Undefined();
    if (out_offsets[i] > out_bytes || lengths[i] + overhead > out_bytes - out_offsets[i]) {
      return ThrowRange(env, "out range out of bounds", i), env.Undefined();
    }
  }
  if (next_seq_ + count > static_cast<uint64_t>(kMaxSeq)) {
    Napi::RangeError::New(env, "sequence numbers exhausted").ThrowAsJavaScriptException();
    return env.Undefined();
  }

  uint8_t aad[kAadBytes], nonce[12], header[8];
  for (size_t i = 0; i < count; i++) {
    const uint64_t seq = next_seq_++;  // never reused, even if this batch fails below
    uint8_t* rec = out + out_offsets[i];
    const uint32_t len = lengths[i];
    Aad(aad, keys[i], locators[i], seq);
    PutU32(header, tags[i]);
    PutU32(header + 4, checksums[i]);
    if (mode_ == Mode::kNone) {
      std::memcpy(rec + 4, header, 8);
      std::memcpy(rec + 12, src[i], len);
      uint32_t crc = crc32_iscsi(aad, kAadBytes, 0xffffffffu);
      crc = crc32_iscsi(rec + 4, static_cast<int>(8 + len), crc);
      PutU32(rec, crc);
    } else {
      int n = 0;
      Nonce(nonce, seq);
      bool ok = EVP_EncryptInit_ex(enc_, nullptr, nullptr, nullptr, nonce) == 1 &&
                EVP_EncryptUpdate(enc_, nullptr, &n, aad, kAadBytes) == 1 &&
                EVP_EncryptUpdate(enc_, rec, &n, header, 8) == 1 &&
                (len == 0 || EVP_EncryptUpdate(enc_, rec + 8, &n, src[i], static_cast<int>(len)) == 1) &&
                EVP_EncryptFinal_ex(enc_, rec + 8 + len, &n) == 1 &&
                EVP_CIPHER_CTX_ctrl(enc_, EVP_CTRL_AEAD_GET_TAG, kAuthTagBytes, rec + 8 + len) == 1;
      if (!ok) {
        Napi::Error::New(env, "encryption failed").ThrowAsJavaScriptException();
        return env.Undefined();
      }
    }
    seqs[i] = static_cast<double>(seq);
  }
  OPENSSL_cleanse(header, sizeof header);
  return env.Undefined();
}

Napi::Value ObjectSealer::OpenMany(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!Usable(env)) return env.Undefined();
  ObjectRun run;
  if (!ParseObjectRun(info, 15, "openMany", &run)) return env.Undefined();
  const size_t count = run.count;
  const uint32_t *lengths = run.lengths, *keys = run.keys, *locators = run.locators;
  const double* seqs = CheckedView<double>(env, info[7], 0, count, "seqs");
  if (!seqs) return env.Undefined();
  uint8_t* dst;
  size_t dst_bytes, elem;
  if (!info[8].IsTypedArray() || !TypedArrayBytes(env, info[8], &dst, &dst_bytes, &elem)) {
    Napi::TypeError::New(env, "dst must be a typed array").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const uint32_t* dst_offsets = CheckedView<uint32_t>(env, info[9], 0, count, "dstOffsets");
  if (!dst_offsets) return env.Undefined();
  const uint32_t* capacities = info[10].IsNull() || info[10].IsUndefined() ? nullptr
                               : CheckedView<uint32_t>(env, info[10], 0, count, "capacities");
  if (env.IsExceptionPending()) return env.Undefined();
  const uint32_t default_capacity = info[11].As<Napi::Number>().Uint32Value();
  uint32_t* tags = CheckedView<uint32_t>(env, info[12], 0, count, "tags");
  uint32_t* checksums = tags ? CheckedView<uint32_t>(env, info[13], 0, count, "checksums") : nullptr;
  int32_t* status = checksums ? CheckedView<int32_t>(env, info[14], 0, count, "status") : nullptr;
  if (!status) return env.Undefined();

  const size_t overhead = RecordOverhead();
  std::vector<const uint8_t*> src(count, nullptr);
  for (size_t i = 0; i < count; i++) {
    if (status[i] < 0) continue;
    src[i] = run.Source(i);
    if (!src[i]) return ThrowRange(env, "source range out of bounds", i), env.Undefined();
    const uint32_t cap = capacities ? capacities[i] : default_capacity;
    if (dst_offsets[i] > dst_bytes || cap > dst_bytes - dst_offsets[i]) {
      return ThrowRange(env, "destination range out of bounds", i), env.Undefined();
    }
  }

  uint8_t aad[kAadBytes], nonce[12], header[8], auth_tag[kAuthTagBytes];
  uint32_t failures = 0;
  for (size_t i = 0; i < count; i++) {
    if (status[i] < 0) continue;
    tags[i] = 0;
    checksums[i] = 0;
    const uint32_t rec_len = lengths[i];
    const uint32_t cap = capacities ? capacities[i] : default_capacity;
    const double seq_d = seqs[i];
    if (rec_len < overhead || !(seq_d >= 1 && seq_d <= kMaxSeq) || std::floor(seq_d) != seq_d) {
      status[i] = kCorrupt;
      failures++;
      continue;
    }
    const uint32_t len = rec_len - overhead;
    if (len > cap) {
      status[i] = kTooLarge;
      failures++;
      continue;
    }
    const uint8_t* rec = src[i];
    uint8_t* out = dst + dst_offsets[i];
    Aad(aad, keys[i], locators[i], static_cast<uint64_t>(seq_d));
    bool ok;
    if (mode_ == Mode::kNone) {
      uint32_t crc = crc32_iscsi(aad, kAadBytes, 0xffffffffu);
      crc = crc32_iscsi(const_cast<uint8_t*>(rec + 4), static_cast<int>(8 + len), crc);
      ok = crc == GetU32(rec);
      if (ok) {
        std::memcpy(header, rec + 4, 8);
        std::memcpy(out, rec + 12, len);
      }
    } else {
      int n = 0;
      Nonce(nonce, static_cast<uint64_t>(seq_d));
      std::memcpy(auth_tag, rec + 8 + len, kAuthTagBytes);
      ok = EVP_DecryptInit_ex(dec_, nullptr, nullptr, nullptr, nonce) == 1 &&
           EVP_DecryptUpdate(dec_, nullptr, &n, aad, kAadBytes) == 1 &&
           EVP_DecryptUpdate(dec_, header, &n, rec, 8) == 1 &&
           (len == 0 || EVP_DecryptUpdate(dec_, out, &n, rec + 8, static_cast<int>(len)) == 1) &&
           EVP_CIPHER_CTX_ctrl(dec_, EVP_CTRL_AEAD_SET_TAG, kAuthTagBytes, auth_tag) == 1 &&
           EVP_DecryptFinal_ex(dec_, out + len, &n) == 1;
      // A record that fails authentication must not leave its unauthenticated plaintext behind.
      if (!ok) OPENSSL_cleanse(out, len);
    }
    if (!ok) {
      status[i] = kCorrupt;
      failures++;
      continue;
    }
    tags[i] = GetU32(header);
    checksums[i] = GetU32(header + 4);
    status[i] = static_cast<int32_t>(len);
  }
  OPENSSL_cleanse(header, sizeof header);
  return Napi::Number::New(env, failures);
}

Napi::Value ObjectSealer::Overhead(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(RecordOverhead()));
}

Napi::Value ObjectSealer::NextSeq(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(next_seq_));
}

Napi::Value ObjectSealer::Destroy(const Napi::CallbackInfo& info) {
  OPENSSL_cleanse(key_.data(), key_.size());
  if (enc_) EVP_CIPHER_CTX_free(enc_);
  if (dec_) EVP_CIPHER_CTX_free(dec_);
  enc_ = dec_ = nullptr;
  destroyed_ = true;
  return info.Env().Undefined();
}

}  // namespace zstash
