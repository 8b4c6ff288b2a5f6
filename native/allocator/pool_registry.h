// Process-wide registry of pools by id, so a worker thread can attach to a pool
// created on the owner thread (a JS object cannot cross threads, a number can).
// The registry holds weak references: a pool lives as long as some thread holds
// it, and an id whose pool is gone attaches to nothing.
#pragma once
#include <cstdint>
#include <memory>
#include "zs_pool.h"

namespace zstash::alloc {

uint32_t RegisterPool(const std::shared_ptr<Pool>& pool);
std::shared_ptr<Pool> FindPool(uint32_t id);
// Pools alive in the process (any thread), for leak checks in tests.
size_t LivePools();

}  // namespace zstash::alloc
