#include "pool_object.h"
#include <string>
#include "checksum.h"
#include "js_args.h"
#include "pool_registry.h"

namespace zstash::alloc {

namespace {
const napi_type_tag kPoolTag = {0x7a73746173687031ULL, 0x6e61746976657031ULL};

bool OptionUint(const Napi::Object& o, const char* key, uint64_t max, uint64_t* out) {
  Napi::Env env = o.Env();
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return true;
  if (!v.IsNumber()) return ThrowType(env, std::string("option ") + key + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d != std::floor(d) || d > double(max)) {
    return ThrowRange(env, std::string("option ") + key + " must be an integer in 0.." + std::to_string(max));
  }
  *out = static_cast<uint64_t>(d);
  return true;
}
}  // namespace

Napi::Function PoolObject::Define(Napi::Env env) {
  return DefineClass(env, "NativePool",
                     {
                         InstanceAccessor<&PoolObject::Id>("id"),
                         InstanceMethod<&PoolObject::Close>("close"),
                         InstanceMethod<&PoolObject::Reserve>("reserve"),
                         InstanceMethod<&PoolObject::Unreserve>("unreserve"),
                         InstanceMethod<&PoolObject::TotalSize>("totalSize"),
                         InstanceMethod<&PoolObject::ReservedBytes>("reservedBytes"),
                         InstanceMethod<&PoolObject::Stats>("stats"),
                         InstanceMethod<&PoolObject::Compact>("compact"),
                         InstanceMethod<&PoolObject::AllocMany>("allocMany"),
                         InstanceMethod<&PoolObject::SlotRange>("slotRange"),
                         InstanceMethod<&PoolObject::SizeClasses>("sizeClasses"),
                     });
}

PoolObject::PoolObject(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PoolObject>(info) {
  Napi::Env env = info.Env();
  if (info.Length() >= 1 && info[0].IsNumber()) {
    uint64_t id;
    if (!UintArg(info, 0, "id", UINT32_MAX, &id)) return;
    pool_ = FindPool(static_cast<uint32_t>(id));
    if (!pool_) {
      Napi::Error::New(env, "no pool with id " + std::to_string(id) + " (closed everywhere, or never created)")
          .ThrowAsJavaScriptException();
      return;
    }
    id_ = static_cast<uint32_t>(id);
  } else if (info.Length() >= 1 && info[0].IsObject()) {
    Napi::Object o = info[0].As<Napi::Object>();
    PoolOptions options;
    uint64_t step = options.class_step, checksum = 0, retain = options.retain_percent;
    uint64_t slab_pages = options.max_slab_pages;
    if (!OptionUint(o, "maxBytes", uint64_t(1) << 40, &options.max_bytes) ||
        !OptionUint(o, "limitBytes", uint64_t(1) << 40, &options.limit_bytes) ||
        !OptionUint(o, "classStep", 64, &step) || !OptionUint(o, "checksum", 2, &checksum) ||
        !OptionUint(o, "retainPercent", 1000, &retain) || !OptionUint(o, "maxSlabPages", kMaxPagesPerSlab, &slab_pages)) {
      return;
    }
    if (step != 8 && step != 16 && step != 32 && step != 64) {
      ThrowRange(env, "option classStep must be 8, 16, 32 or 64");
      return;
    }
    options.class_step = static_cast<uint32_t>(step);
    options.checksum = static_cast<uint8_t>(checksum);
    options.retain_percent = static_cast<uint32_t>(retain);
    if (slab_pages < 1) {
      ThrowRange(env, "option maxSlabPages must be in 1..32");
      return;
    }
    options.max_slab_pages = static_cast<uint32_t>(slab_pages);
    if (options.max_bytes < options.max_slab_pages * 4096) {
      ThrowRange(env, "option maxBytes must hold at least one slab (maxSlabPages pages)");
      return;
    }
    auto pool = std::make_shared<Pool>(options);
    if (!pool->ok()) {
      Napi::Error::New(env, "NativePool: could not reserve address space for maxBytes").ThrowAsJavaScriptException();
      return;
    }
    pool_ = pool;
    id_ = RegisterPool(pool_);
  } else {
    ThrowType(env, "new NativePool(options: object) or new NativePool(id: number)");
    return;
  }
  napi_type_tag_object(env, info.This(), &kPoolTag);
  env_ = env;
  hooked_ = napi_add_env_cleanup_hook(env, &PoolObject::OnEnvCleanup, this) == napi_ok;
}

PoolObject::~PoolObject() {
  if (hooked_) napi_remove_env_cleanup_hook(env_, &PoolObject::OnEnvCleanup, this);
}

void PoolObject::OnEnvCleanup(void* self) {
  auto* p = static_cast<PoolObject*>(self);
  p->hooked_ = false;  // the hook has run; the finalizer must not remove it again
  p->DropReference();
}

void PoolObject::DropReference() { pool_.reset(); }

Pool* PoolObject::FromValue(const Napi::Env& env, const Napi::Value& value) {
  bool tagged = false;
  if (!value.IsObject() || napi_check_object_type_tag(env, value, &kPoolTag, &tagged) != napi_ok || !tagged) {
    ThrowType(env, "pool must be a NativePool");
    return nullptr;
  }
  PoolObject* self = Unwrap(value.As<Napi::Object>());
  return self ? self->Open(env) : nullptr;
}

Pool* PoolObject::Open(const Napi::Env& env) {
  if (!pool_) Napi::Error::New(env, "NativePool is closed").ThrowAsJavaScriptException();
  return pool_.get();
}

Napi::Value PoolObject::Id(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), id_); }

Napi::Value PoolObject::Close(const Napi::CallbackInfo& info) {
  DropReference();
  return info.Env().Undefined();
}

Napi::Value PoolObject::Reserve(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint64_t bytes;
  Pool* pool = Open(env);
  if (!pool || !UintArg(info, 0, "bytes", uint64_t(1) << 50, &bytes)) return env.Undefined();
  return Napi::Boolean::New(env, pool->Reserve(bytes));
}

Napi::Value PoolObject::Unreserve(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint64_t bytes;
  Pool* pool = Open(env);
  if (!pool || !UintArg(info, 0, "bytes", uint64_t(1) << 50, &bytes)) return env.Undefined();
  pool->Unreserve(bytes);
  return env.Undefined();
}

Napi::Value PoolObject::TotalSize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Pool* pool = Open(env);
  return pool ? Napi::Number::New(env, double(pool->TotalSize())) : env.Undefined();
}

// The reserve() counter alone: admission reads it per folio, stats() would build every class.
Napi::Value PoolObject::ReservedBytes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Pool* pool = Open(env);
  return pool ? Napi::Number::New(env, double(pool->Reserved())) : env.Undefined();
}

Napi::Value PoolObject::Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Pool* pool = Open(env);
  if (!pool) return env.Undefined();
  PoolStats s = pool->Stats();
  Napi::Object o = Napi::Object::New(env);
  auto set = [&](Napi::Object& obj, const char* k, uint64_t v) { obj.Set(k, Napi::Number::New(env, double(v))); };
  set(o, "pool_total_size", s.pool_total_size);
  set(o, "object_bytes", s.object_bytes);
  set(o, "objects", s.objects);
  set(o, "metadata_bytes", s.metadata_bytes);
  set(o, "reserved_bytes", s.reserved_bytes);
  set(o, "pages_compacted", s.pages_compacted);
  set(o, "objects_moved", s.objects_moved);
  set(o, "invalid_frees", s.invalid_frees);
  set(o, "alloc_fails", s.alloc_fails);
  set(o, "slabs", s.slabs);
  set(o, "region_bytes", s.region_bytes);
  set(o, "cached_bytes", s.cached_bytes);
  Napi::Array classes = Napi::Array::New(env, s.classes.size());
  for (size_t i = 0; i < s.classes.size(); i++) {
    const ClassStats& c = s.classes[i];
    Napi::Object k = Napi::Object::New(env);
    set(k, "size", c.size);
    set(k, "pagesPerSlab", c.pages_per_slab);
    set(k, "objectsPerSlab", c.objects_per_slab);
    set(k, "obj_allocated", c.obj_allocated);
    set(k, "obj_used", c.obj_used);
    set(k, "pages_used", c.pages_used);
    set(k, "freeable", c.freeable);
    classes.Set(static_cast<uint32_t>(i), k);
  }
  o.Set("classes", classes);
  return o;
}

Napi::Value PoolObject::Compact(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Pool* pool = Open(env);
  return pool ? Napi::Number::New(env, double(pool->Compact())) : env.Undefined();
}

// allocMany(lengths: Uint32Array, count, handles: Uint32Array) -> allocated count.
// Bare allocation (no bytes written), for allocator benchmarks and tests.
Napi::Value PoolObject::AllocMany(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Pool* pool = Open(env);
  uint64_t count;
  if (!pool || !UintArg(info, 1, "count", UINT32_MAX, &count)) return env.Undefined();
  const uint32_t* lengths = ArrayArg<uint32_t>(info, 0, "lengths", napi_uint32_array, 0, count);
  if (!lengths) return env.Undefined();
  uint32_t* handles = ArrayArg<uint32_t>(info, 2, "handles", napi_uint32_array, 0, count);
  if (!handles) return env.Undefined();
  for (size_t i = 0; i < count; i++) {
    if (lengths[i] < 1 || lengths[i] > 4096) {
      ThrowRange(env, "lengths[" + std::to_string(i) + "] must be in 1..4096");
      return env.Undefined();
    }
  }
  return Napi::Number::New(env, double(pool->AllocBatch(lengths, count, handles)));
}

// slotRange(handle) -> [offset in the region, slot size] | undefined
Napi::Value PoolObject::SlotRange(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Pool* pool = Open(env);
  uint64_t handle;
  if (!pool || !UintArg(info, 0, "handle", UINT32_MAX, &handle)) return env.Undefined();
  Pool::AccessScope scope(*pool);
  uint64_t offset;
  uint32_t size;
  if (!pool->SlotRange(static_cast<uint32_t>(handle), &offset, &size)) return env.Undefined();
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, Napi::Number::New(env, double(offset)));
  out.Set(1u, Napi::Number::New(env, size));
  return out;
}

// sizeClasses() -> [{ size, pagesPerSlab, objectsPerSlab }]
Napi::Value PoolObject::SizeClasses(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Pool* pool = Open(env);
  if (!pool) return env.Undefined();
  const SizeClassTable& t = pool->classes();
  Napi::Array out = Napi::Array::New(env, t.count());
  for (size_t i = 0; i < t.count(); i++) {
    Napi::Object c = Napi::Object::New(env);
    c.Set("size", Napi::Number::New(env, t.at(i).size));
    c.Set("pagesPerSlab", Napi::Number::New(env, t.at(i).pages));
    c.Set("objectsPerSlab", Napi::Number::New(env, t.at(i).objects));
    out.Set(static_cast<uint32_t>(i), c);
  }
  return out;
}

}  // namespace zstash::alloc
