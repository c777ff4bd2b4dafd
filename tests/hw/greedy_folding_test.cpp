#include "hw/greedy_folding.hpp"

#include <gtest/gtest.h>

#include <random>

#include "support.hpp"

namespace hao::hw {

TEST(GreedyFolding, RaisesSimdBeforePe) {
  ir::Network net;
  net.input = {16, 4, 4};
  net.layers.push_back(test::conv("c", ir::kNetworkInput, 8, 1));
  ir::infer_shapes(net, "t");
  // MW = 16, MH = 8, 16 pixels: unfolded 16*8*16 = 2048 cycles.
  auto c = greedy_fold(net, 2048 / 4);
  EXPECT_EQ(c[0].simd, 4);
  EXPECT_EQ(c[0].pe, 1);
  c = greedy_fold(net, 2048 / 32);
  EXPECT_EQ(c[0].simd, 16);
  EXPECT_EQ(c[0].pe, 2);
}

TEST(GreedyFolding, MeetsReachableTargetsAndRelaxesToTheBottleneck) {
  std::mt19937 rng(3);
  Device any;
  for (int trial = 0; trial < 40; ++trial) {
    ir::Network net = test::random_network(rng);
    const std::int64_t target = 1 + static_cast<std::int64_t>(rng() % 200);
    auto configs = greedy_fold(net, target);
    std::int64_t ii = 0, fastest = 0;
    for (std::size_t i = 0; i < net.layers.size(); ++i) {
      ii = std::max(ii, layer_cost(net.layers[i], configs[i], any, {}).cycles);
      const FoldBounds b = fold_bounds(net.layers[i]);
      LayerConfig full{b.simd_max, b.pe_max, MacMapping::kDsp, WeightMemory::kBram};
      fastest = std::max(fastest, layer_cost(net.layers[i], full, any, {}).cycles);
    }
    EXPECT_LE(ii, std::max(target, fastest)) << "seed 3 trial " << trial;
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
