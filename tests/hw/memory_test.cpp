#include "hw/memory.hpp"

#include <gtest/gtest.h>

namespace hao::hw {

TEST(Memory, Bram36PicksTheBestAspectRatio) {
  EXPECT_EQ(bram36_blocks(72, 512), 1);   // 512 x 72
  EXPECT_EQ(bram36_blocks(36, 1024), 1);  // 1K x 36
  EXPECT_EQ(bram36_blocks(1, 32768), 1);  // 32K x 1
  EXPECT_EQ(bram36_blocks(144, 512), 2);
  EXPECT_EQ(bram36_blocks(8, 4096), 1);   // 4K x 9 holds 8-bit words
  EXPECT_EQ(bram36_blocks(16, 4096), 2);  // 2 x (4K x 9) or 2 x (2K x 18)
  EXPECT_EQ(bram36_blocks(0, 100), 0);
}

TEST(Memory, Bram36NeverBelowCapacityBound) {
  for (std::int64_t w = 1; w <= 200; w += 7)
    for (std::int64_t d = 1; d <= 70000; d = d * 3 + 1) {
      const std::int64_t blocks = bram36_blocks(w, d);
      EXPECT_GE(blocks * 36864, w * d) << w << "x" << d;
    }
}

TEST(Memory, UramAndLutram) {
  EXPECT_EQ(uram_blocks(72, 4096), 1);
  EXPECT_EQ(uram_blocks(73, 4097), 4);
  EXPECT_EQ(lutram_luts(8, 64), 8);
  EXPECT_EQ(lutram_luts(8, 65), 16);
}

}  // namespace hao::hw
