#include "sim/core/table_math.hpp"

#include <atomic>

namespace sl {

namespace {

int cpu_double_lanes() {
#if defined(SL_HAVE_AVX2_LANES)
  static const int lanes = __builtin_cpu_supports("avx2") ? 4 : 2;
  return lanes;
#else
  return 2;
#endif
}

std::atomic<int> forced_lanes{0};  // 0: the CPU's choice

}  // namespace

int simd_double_lanes() {
  const int forced = forced_lanes.load(std::memory_order_relaxed);
  return forced != 0 ? forced : cpu_double_lanes();
}

bool set_simd_double_lanes_for_testing(int lanes) {
  if (lanes != 0 && lanes != 2 && lanes != 4) return false;
  if (lanes == 4 && cpu_double_lanes() != 4) return false;
  forced_lanes.store(lanes, std::memory_order_relaxed);
  return true;
}

}  // namespace sl
