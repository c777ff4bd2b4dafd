#include "hw/greedy_folding.hpp"

#include <gtest/gtest.h>

#include <random>

#include "support.hpp"

namespace hao::hw {

// FINN's SetFolding: SIMD first, while weight bits x SIMD stays within 36, then PE; each
// strictly below the target.
TEST(GreedyFolding, RaisesSimdBeforePeWithinTheWeightStreamBound) {
  ir::Network net;
  net.input = {16, 4, 4};
  net.layers.push_back(test::conv("c", ir::kNetworkInput, 8, 1));
  ir::infer_shapes(net, "t");
  // MW = 16, MH = 8, 16 pixels: unfolded 16*8*16 = 2048 cycles.
  net.layers[0].weight_bits = 1;
  auto c = greedy_fold(net, 2048 / 4 + 1);
  EXPECT_EQ(c[0].simd, 4);
  EXPECT_EQ(c[0].pe, 1);
  c = greedy_fold(net, 2048 / 4);  // 512 cycles do not meet 512: strictly below
  EXPECT_EQ(c[0].simd, 8);
  c = greedy_fold(net, 2048 / 32 + 1);
  EXPECT_EQ(c[0].simd, 16);
  EXPECT_EQ(c[0].pe, 2);
  // 8-bit weights: SIMD 8 would make a 64-bit weight stream; SIMD stays 4, PE does the rest.
  net.layers[0].weight_bits = 8;
  c = greedy_fold(net, 2048 / 32 + 1);
  EXPECT_EQ(c[0].simd, 4);
  EXPECT_EQ(c[0].pe, 8);
}

// FMPadding_Pixel is one of SetFolding's SIMD ops: the least SIMD dividing the channels that
// brings C/SIMD Ho Wo strictly below the target.
TEST(GreedyFolding, FoldsPixelPaddingBySimd) {
  ir::Network net;
  net.input = {12, 4, 4};
  net.layers.push_back(test::simple("pad", ir::OpKind::kPixelPad, {ir::kNetworkInput}));
  net.layers[0].stride_h = net.layers[0].stride_w = 2;
  ir::infer_shapes(net, "t");
  const std::int64_t pixels = 7 * 7;
  EXPECT_EQ(greedy_fold(net, 12 * pixels + 1)[0].pe, 1);
  EXPECT_EQ(greedy_fold(net, 12 * pixels)[0].pe, 2);
  EXPECT_EQ(greedy_fold(net, 3 * pixels)[0].pe, 6);  // 4 would give exactly 3 * 49
  EXPECT_EQ(greedy_fold(net, 1)[0].pe, 12);
}

TEST(GreedyFolding, MeetsReachableTargetsAndRelaxesToTheBottleneck) {
  std::mt19937 rng(3);
  Device any;
  auto ii = [&](const ir::Network& net, const std::vector<LayerConfig>& configs) {
    std::int64_t m = 0;
    for (std::size_t i = 0; i < net.layers.size(); ++i)
      m = std::max(m, layer_cost(net.layers[i], configs[i], any, {}).cycles);
    return m;
  };
  for (int trial = 0; trial < 40; ++trial) {
    ir::Network net = test::random_network(rng);
    const std::int64_t target = 1 + static_cast<std::int64_t>(rng() % 200);
    // The fastest SetFolding reaches: a target no node can meet raises every node to its end.
    const std::int64_t fastest = ii(net, greedy_fold(net, 1));
    const std::int64_t reached = ii(net, greedy_fold(net, target));
    if (fastest < target)
      EXPECT_LT(reached, target) << "seed 3 trial " << trial;
    else
      EXPECT_EQ(reached, fastest) << "seed 3 trial " << trial;
  }
}

TEST(GreedyFolding, FastestFitFitsTheDevice) {
  std::mt19937 rng(4);
  for (int trial = 0; trial < 20; ++trial) {
    ir::Network net = test::random_network(rng);
    Device d = test::random_device(rng);
    GreedyResult g = greedy_fastest_fit(net, d, {});
    DataflowEval e = evaluate_dataflow(net, g.configs, d, {});
    EXPECT_EQ(e.fits(), g.fits) << "seed 4 trial " << trial;
  }
}

}  // namespace hao::hw
