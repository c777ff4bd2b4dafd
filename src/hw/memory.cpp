#include "hw/memory.hpp"

#include <algorithm>
#include <limits>

namespace hao::hw {

std::int64_t bram36_blocks(std::int64_t width_bits, std::int64_t depth) {
  if (width_bits <= 0 || depth <= 0) return 0;
  struct Ratio {
    std::int64_t depth, width;
  };
  constexpr Ratio kRatios[] = {{32768, 1}, {16384, 2}, {8192, 4}, {4096, 9},
                               {2048, 18}, {1024, 36}, {512, 72}};
  std::int64_t best = std::numeric_limits<std::int64_t>::max();
  for (const auto& r : kRatios)
    best = std::min(best, ceil_div(depth, r.depth) * ceil_div(width_bits, r.width));
  return best;
}

std::int64_t uram_blocks(std::int64_t width_bits, std::int64_t depth) {
  if (width_bits <= 0 || depth <= 0) return 0;
  return ceil_div(depth, 4096) * ceil_div(width_bits, 72);
}

std::int64_t lutram_luts(std::int64_t width_bits, std::int64_t depth) {
  if (width_bits <= 0 || depth <= 0) return 0;
  return ceil_div(depth, 64) * width_bits;
}

}  // namespace hao::hw
