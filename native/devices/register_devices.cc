// Accelerator devices: the list of device kinds this build contains, the
// openDevice() entry point and a CPU-affinity probe (used to prove that opening
// DPDK leaves the calling thread's affinity alone).
#include <napi.h>
#include <sched.h>
#include "device_registry.h"
#include "engine_object.h"

namespace zstash {
namespace {

Napi::Value CpuAffinityJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  cpu_set_t set;
  CPU_ZERO(&set);
  Napi::Array out = Napi::Array::New(env);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return out;
  uint32_t n = 0;
  for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
    if (CPU_ISSET(cpu, &set)) out.Set(n++, Napi::Number::New(env, cpu));
  return out;
}

}  // namespace

void RegisterDevices(Napi::Env env, Napi::Object exports) {
  Napi::Array kinds = Napi::Array::New(env);
  uint32_t i = 0;
  for (const DeviceKindInfo& k : DeviceKinds()) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("kind", k.kind);
    o.Set("compiled", Napi::Boolean::New(env, k.compiled));
    o.Set("reason", k.reason);
    o.Set("version", k.version);
    o.Set("pluginDir", k.plugin_dir);
    kinds.Set(i++, o);
  }
  exports.Set("devices", kinds);
  // The constructor lives as long as the environment; openDevice reaches it
  // through its function data.
  auto* ctor = new Napi::FunctionReference(Napi::Persistent(DeviceEngineObject::Define(env)));
  env.AddCleanupHook([ctor] { delete ctor; });
  exports.Set("openDevice", Napi::Function::New(env, OpenDeviceJs, "openDevice", ctor));
  exports.Set("cpuAffinity", Napi::Function::New(env, CpuAffinityJs, "cpuAffinity"));
}

}  // namespace zstash
