// Small pieces every CPU forward uses: activation buffers that grow once, and
// the OpenMP team size of one call.
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <thread>
#include <vector>

#include "mezo/config.hpp"

MEZO_BEGIN_NAMESPACE
namespace model {

// Grows to the largest batch seen and then stays: no allocation per forward.
inline void ensure_size(std::vector<float>& buffer, std::int64_t size) {
  if (static_cast<std::int64_t>(buffer.size()) < size)
    buffer.resize(static_cast<std::size_t>(size));
}

// The threads a forward uses: num_threads, or every hardware thread for 0.
inline int resolve_threads(int num_threads) {
  return num_threads > 0 ? num_threads
                         : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

// Sets the calling thread's OpenMP team size for a forward, and puts it back.
class ThreadScope {
 public:
  explicit ThreadScope(int threads) : previous_(omp_get_max_threads()) {
    omp_set_num_threads(threads);
  }
  ~ThreadScope() { omp_set_num_threads(previous_); }
  ThreadScope(const ThreadScope&) = delete;
  ThreadScope& operator=(const ThreadScope&) = delete;

 private:
  int previous_;
};

}  // namespace model
MEZO_END_NAMESPACE
