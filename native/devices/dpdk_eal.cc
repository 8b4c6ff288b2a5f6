#ifdef ZSTASH_HAVE_DPDK
#include "dpdk_eal.h"
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>
#include <sched.h>
#include <cstring>

namespace zstash {
namespace {

bool g_tried = false;
bool g_ok = false;
std::string g_error;
std::string g_args_key;
std::string g_args_text;

// "--lcores=0@(0-1,4)": map the main lcore to every CPU the process may run on,
// so the pinning rte_eal_init does to its calling thread is a no-op.
std::string LcoreMapping(const cpu_set_t& set) {
  std::string cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
    if (!CPU_ISSET(cpu, &set)) continue;
    if (!cpus.empty()) cpus += ",";
    cpus += std::to_string(cpu);
  }
  return "--lcores=0@(" + cpus + ")";
}

std::string Key(const EalRequest& r) {
  std::string key = std::string(r.pci ? "pci" : "nopci") + (r.hugepages ? "+huge" : "+nohuge");
  for (const std::string& a : r.extra_args) key += "\x1f" + a;
  return key;
}

bool HasArg(const EalRequest& r, const char* prefix) {
  for (const std::string& a : r.extra_args)
    if (a.rfind(prefix, 0) == 0) return true;
  return false;
}

}  // namespace

std::mutex& DpdkControlMutex() {
  static std::mutex mu;
  return mu;
}

bool EnsureEal(const EalRequest& request, std::string* error) {
  std::lock_guard<std::mutex> lock(DpdkControlMutex());
  if (g_tried) {
    if (!g_ok) {
      *error = "DPDK EAL initialisation failed earlier in this process: " + g_error;
      return false;
    }
    if (Key(request) != g_args_key) {
      *error = "DPDK EAL is already initialised in this process with [" + g_args_text +
               "]; its arguments cannot change (pci, hugepages and ealArgs must match the first open)";
      return false;
    }
    return true;
  }
  g_tried = true;
  g_args_key = Key(request);

  // rte_eal_init pins its calling thread to the main lcore's CPUs. Saving and
  // restoring the mask keeps this thread (and so anything it later runs, such
  // as Node's main thread or a libuv pool thread) free to use every CPU.
  cpu_set_t saved;
  CPU_ZERO(&saved);
  bool have_saved = sched_getaffinity(0, sizeof saved, &saved) == 0;

  std::vector<std::string> args = {"zstash"};
  if (!request.hugepages) args.push_back("--no-huge");
  if (!request.pci) args.push_back("--no-pci");
  // No shared config files: several Node processes (test workers) may each
  // run their own EAL at the same time.
  args.push_back("--no-shconf");
  args.push_back("--no-telemetry");
  if (!HasArg(request, "--log-level")) args.push_back("--log-level=" + std::to_string(RTE_LOG_ERR));
  if (have_saved && !HasArg(request, "--lcores") && !HasArg(request, "-l")) args.push_back(LcoreMapping(saved));
  for (const std::string& a : request.extra_args) args.push_back(a);

  for (const std::string& a : args) g_args_text += (g_args_text.empty() ? "" : " ") + a;
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int rc = rte_eal_init(static_cast<int>(args.size()), argv.data());
  int eal_errno = rte_errno;
  if (have_saved) sched_setaffinity(0, sizeof saved, &saved);
  if (rc < 0) {
    g_error = "rte_eal_init(" + g_args_text + ") failed: " + rte_strerror(eal_errno) + " (rte_errno " +
              std::to_string(eal_errno) + ")";
    *error = g_error;
    return false;
  }
  if (!HasArg(request, "--log-level")) rte_log_set_global_level(RTE_LOG_ERR);
  g_ok = true;
  return true;
}

std::string EalArgsUsed() {
  // Written once, under the mutex, before any EnsureEal caller could succeed.
  return g_args_text;
}

}  // namespace zstash
#endif  // ZSTASH_HAVE_DPDK
