#include "pool_registry.h"
#include <mutex>
#include <unordered_map>

namespace zstash::alloc {

namespace {
std::mutex registry_lock;
std::unordered_map<uint32_t, std::weak_ptr<Pool>>& Registry() {
  // Never destroyed: worker threads may look pools up while the process exits.
  static auto* map = new std::unordered_map<uint32_t, std::weak_ptr<Pool>>();
  return *map;
}
uint32_t next_id = 1;

void DropExpired(std::unordered_map<uint32_t, std::weak_ptr<Pool>>& map) {
  for (auto it = map.begin(); it != map.end();) it = it->second.expired() ? map.erase(it) : std::next(it);
}
}  // namespace

uint32_t RegisterPool(const std::shared_ptr<Pool>& pool) {
  std::lock_guard<std::mutex> lock(registry_lock);
  auto& map = Registry();
  DropExpired(map);
  uint32_t id = next_id++;
  map[id] = pool;
  return id;
}

std::shared_ptr<Pool> FindPool(uint32_t id) {
  std::lock_guard<std::mutex> lock(registry_lock);
  auto& map = Registry();
  auto it = map.find(id);
  return it == map.end() ? nullptr : it->second.lock();
}

size_t LivePools() {
  std::lock_guard<std::mutex> lock(registry_lock);
  auto& map = Registry();
  DropExpired(map);
  return map.size();
}

}  // namespace zstash::alloc
