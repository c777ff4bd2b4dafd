#include "hw/dataflow.hpp"

#include <gtest/gtest.h>

#include <random>

#include "support.hpp"

namespace hao::hw {
namespace {

Device big_device() {
  Device d;
  d.name = "big";
  d.dsp = 100000;
  d.lut = 10000000;
  d.bram36 = 100000;
  d.uram = 1000;
  d.clock_mhz = 200;
  d.offchip_gbps = 1000;
  d.usable_fraction = 1.0;
  return d;
}

// Loop-level reference for FINN's MVAU/VVAU schedule: one cycle per (pixel, neuron fold,
// synapse fold) iteration.
std::int64_t loop_cycles(const ir::Layer& l, const LayerConfig& c) {
  const FoldBounds b = fold_bounds(l);
  const std::int64_t pixels = l.op == ir::OpKind::kFc ? 1 : l.out.h * l.out.w;
  std::int64_t cycles = 0;
  for (std::int64_t p = 0; p < pixels; ++p)
    for (std::int64_t n = 0; n < b.pe_max; n += c.pe)
      for (std::int64_t s = 0; s < b.simd_max; s += c.simd) ++cycles;
  return cycles;
}

}  // namespace

TEST(DataflowCost, CyclesMatchTheLoopNest) {
  std::mt19937 rng(11);
  const Device device = big_device();
  for (int trial = 0; trial < 30; ++trial) {
    ir::Network net = test::random_network(rng);
    for (const auto& l : net.layers) {
      if (!l.has_weights()) continue;
      for (const auto& cand : layer_candidates(l, device, {})) {
        // The MVAU/VVAU node against the loop nest; the layer takes its slowest node's
        // cycles (the sliding-window unit and padding in front of it are pipeline stages too).
        std::int64_t engine = -1, slowest = 0;
        for (const auto& n : cand.cost.nodes) {
          if (n.op == FinnOp::kMvau || n.op == FinnOp::kVvau) engine = n.cycles;
          slowest = std::max(slowest, n.cycles);
        }
        EXPECT_EQ(engine, loop_cycles(l, cand.config))
            << "seed 11 trial " << trial << " layer " << l.name;
        EXPECT_EQ(cand.cost.cycles, slowest) << "seed 11 trial " << trial << " layer " << l.name;
      }
    }
  }
}

// A dilated conv: FINN v0.10.1's ConvolutionInputGenerator_rtl holds (K_h - 1) D_h rows and
// (K_w - 1) D_w + 1 pixels before its first window, so its buffer and its cycles grow with the
// dilation; the MVAU's work does not change.
TEST(DataflowCost, DilatedWindowFollowsFinnsFormulas) {
  ir::Network net;
  net.input = {16, 32, 32};
  net.layers.push_back(test::conv("plain", ir::kNetworkInput, 8, 3));  // padding 1
  net.layers.push_back(test::conv("dilated", ir::kNetworkInput, 8, 3));
  net.layers[1].dilation_h = net.layers[1].dilation_w = 2;
  net.layers[1].pad_top = net.layers[1].pad_left = net.layers[1].pad_bottom =
      net.layers[1].pad_right = 2;
  ir::infer_shapes(net, "t");
  ASSERT_EQ(net.layers[1].out, (ir::Shape{8, 32, 32}));
  EXPECT_EQ(net.layers[1].macs(), net.layers[0].macs());
  LayerConfig c;
  c.simd = 16, c.pe = 8;  // the window unit at 16 lanes: one pixel a word
  auto node = [&](const ir::Layer& l, FinnOp op) {
    for (const NodeCost& n : layer_cost(l, c, big_device(), {}).nodes)
      if (n.op == op) return n;
    ADD_FAILURE() << "no node";
    return NodeCost{};
  };
  // buffer (2 * 1 * 34 + 2 + 1) = 71 (padded width 34), then 32 rows of max(32 * 9, 34) cycles;
  // dilated: (2 * 2 * 36 + 2 * 2 + 1) = 149 (padded width 36).
  EXPECT_EQ(node(net.layers[0], FinnOp::kSwu).cycles, 71 + 32 * 288);
  EXPECT_EQ(node(net.layers[1], FinnOp::kSwu).cycles, 149 + 32 * 288);
  EXPECT_EQ(swu_buffer_depth(36, 16, window_of(net.layers[1]), 16), 149);
  EXPECT_EQ(node(net.layers[1], FinnOp::kMvau).cycles, node(net.layers[0], FinnOp::kMvau).cycles);
}

TEST(DataflowCost, DspUseGrowsWithPe) {
  ir::Network net;
  net.input = {16, 8, 8};
  net.layers.push_back(test::conv("c", ir::kNetworkInput, 32, 3));
  ir::infer_shapes(net, "t");
  const Device d = big_device();
  double last = 0;
  for (std::int64_t pe : {1, 2, 4, 8, 16, 32}) {
    LayerCost c = layer_cost(net.layers[0], {4, pe, MacMapping::kDsp, WeightMemory::kBram}, d, {});
    EXPECT_GT(c.res.dsp, last);
    last = c.res.dsp;
  }
}

TEST(DataflowCost, Int8PacksTwoProductsPerDsp48e2ButNotOnDsp48e1) {
  ir::Network net;
  net.input = {16, 8, 8};
  net.layers.push_back(test::conv("c", ir::kNetworkInput, 16, 1));
  ir::infer_shapes(net, "t");
  Device d = big_device();
  const LayerConfig c{16, 16, MacMapping::kDsp, WeightMemory::kBram};
  EXPECT_EQ(layer_cost(net.layers[0], c, d, {}).res.dsp, 128);
  d.dsp_kind = DspKind::kDsp48e1;
  EXPECT_EQ(layer_cost(net.layers[0], c, d, {}).res.dsp, 256);
  net.layers[0].weight_bits = 12;
  d.dsp_kind = DspKind::kDsp48e2;
  EXPECT_EQ(layer_cost(net.layers[0], c, d, {}).res.dsp, 256);
}

// FINN's rtl MVAU on 4-bit operands packs four PE lanes into a DSP48E2 (MVAU_rtl's
// dsp_estimation: ceil(PE/4) * SIMD); wider operands and the DSP48E1 keep the per-product rule.
TEST(DataflowCost, FourBitMvauPacksFourPeLanesPerDsp48e2) {
  ir::Network net;
  net.input = {16, 8, 8};
  net.layers.push_back(test::conv("c", ir::kNetworkInput, 16, 1));
  ir::infer_shapes(net, "t");
  net.layers[0].weight_bits = net.layers[0].act_bits = 4;
  Device d = big_device();
  EXPECT_EQ(
      layer_cost(net.layers[0], {16, 16, MacMapping::kDsp, WeightMemory::kBram}, d, {}).res.dsp,
      64);
  EXPECT_EQ(
      layer_cost(net.layers[0], {16, 2, MacMapping::kDsp, WeightMemory::kBram}, d, {}).res.dsp,
      16);  // ceil(2/4) = 1 DSP per SIMD lane
  d.dsp_kind = DspKind::kDsp48e1;
  EXPECT_EQ(
      layer_cost(net.layers[0], {16, 16, MacMapping::kDsp, WeightMemory::kBram}, d, {}).res.dsp,
      256);
}

TEST(DataflowCost, LutMultipliersGrowWithBits) {
  ir::Network net;
  net.input = {16, 8, 8};
  net.layers.push_back(test::conv("c", ir::kNetworkInput, 16, 3));
  ir::infer_shapes(net, "t");
  const Device d = big_device();
  const LayerConfig c{8, 8, MacMapping::kLut, WeightMemory::kBram};
  double last = 0;
  for (int bits : {1, 2, 4, 8}) {
    net.layers[0].weight_bits = net.layers[0].act_bits = bits;
    const double lut = layer_cost(net.layers[0], c, d, {}).res.lut;
    EXPECT_GT(lut, last) << bits;
    last = lut;
  }
}

// Hard-swish (x times hard-sigmoid(x)) is no monotonic function FINN can turn into thresholds:
// it forks x, thresholds the gate, multiplies and requantizes, on the accumulator of the conv
// before it (the width fused thresholds take), and on an activation's output where it reads one.
TEST(DataflowCost, GatedActivationForksThresholdsMultipliesAndRequantizes) {
  ir::Network net;
  net.input = {8, 6, 6};
  net.layers.push_back(test::conv("c", ir::kNetworkInput, 16, 1));
  net.layers.push_back(test::simple("hswish", ir::OpKind::kAct, {0}));
  net.layers.push_back(test::simple("hswish2", ir::OpKind::kAct, {1}));
  net.layers.push_back(test::conv("c2", 2, 16, 1));
  net.layers.push_back(test::simple("relu", ir::OpKind::kAct, {3}));
  net.layers[1].act = net.layers[2].act = ir::ActKind::kHardSwish;
  for (auto& l : net.layers) l.weight_bits = l.act_bits = 4;
  ir::infer_shapes(net, "t");
  EXPECT_TRUE(net.layers[1].reads_accumulator);
  EXPECT_EQ(net.layers[1].fused_into, -1);
  EXPECT_FALSE(net.layers[0].has_fused_act);
  EXPECT_FALSE(net.layers[2].reads_accumulator);  // reads hswish's 4-bit output
  EXPECT_EQ(net.layers[4].fused_into, 3);         // a ReLU still fuses
  EXPECT_FALSE(net.layers[4].reads_accumulator);

  const Device d = big_device();
  LayerConfig c{1, 4, MacMapping::kLut, WeightMemory::kLutram};
  c.aux_pe = 2;
  const std::int64_t acc = finn_accumulator_bits(1024, 4, 4), pixels = 36;
  for (int i : {1, 2}) {
    const LayerCost cost = layer_cost(net.layers[static_cast<std::size_t>(i)], c, d, {});
    ASSERT_EQ(cost.nodes.size(), 4u) << i;
    EXPECT_EQ(cost.nodes[0].op, FinnOp::kDuplicateStreams);
    EXPECT_EQ(cost.nodes[1].op, FinnOp::kThresholding);
    EXPECT_EQ(cost.nodes[2].op, FinnOp::kEltwise);
    EXPECT_EQ(cost.nodes[3].op, FinnOp::kThresholding);
    EXPECT_EQ(cost.nodes[0].cycles, 16 / 2 * pixels);  // the fork at its own PE
    for (int k : {1, 2, 3})
      EXPECT_EQ(cost.nodes[static_cast<std::size_t>(k)].cycles, 16 / 4 * pixels);
    EXPECT_EQ(cost.cycles, 16 / 2 * pixels);
    const int x = i == 1 ? static_cast<int>(acc) : 4;
    const NodeCost gate = thresholding_node(16, pixels, 15, x, 4);
    const NodeCost requant = thresholding_node(16, pixels, 15, x + 4, 4);
    EXPECT_EQ(cost.nodes[1].res.lut, gate.res.lut) << i;
    EXPECT_EQ(cost.nodes[3].res.lut, requant.res.lut) << i;
    EXPECT_GT(cost.nodes[2].res.lut, 0);
  }
  // On the accumulator it costs more than on a 4-bit activation.
  EXPECT_GT(layer_cost(net.layers[1], c, d, {}).res.lut,
            layer_cost(net.layers[2], c, d, {}).res.lut);
}

// A monotonic activation that cannot be absorbed (the conv's output also goes elsewhere) is a
// Thresholding of its own, comparing what it reads: the conv's accumulator, the width fused
// thresholds take. After an add it reads the add's requantized sum (the add's own
// Thresholding), after an activation that activation's bits.
TEST(DataflowCost, StandaloneThresholdsCompareWhatTheyRead) {
  ir::Network net;
  net.input = {8, 6, 6};
  net.layers.push_back(test::conv("c", ir::kNetworkInput, 8, 1));
  net.layers.push_back(test::simple("relu", ir::OpKind::kAct, {0}));  // c forks: standalone
  net.layers.push_back(test::simple("add", ir::OpKind::kAdd, {0, 1}));
  net.layers.push_back(test::simple("relu2", ir::OpKind::kAct, {2}));  // add forks: standalone
  net.layers.push_back(test::simple("add2", ir::OpKind::kAdd, {2, 3}));
  net.layers.push_back(test::simple("relu3", ir::OpKind::kAct, {4}));  // fused into add2
  net.layers.push_back(test::simple("relu4", ir::OpKind::kAct, {5}));  // after an activation
  for (auto& l : net.layers) l.weight_bits = l.act_bits = 4;
  ir::infer_shapes(net, "t");
  EXPECT_TRUE(net.layers[1].reads_accumulator);
  EXPECT_FALSE(net.layers[3].reads_accumulator);
  EXPECT_EQ(net.layers[5].fused_into, 4);
  EXPECT_FALSE(net.layers[6].reads_accumulator);

  const Device d = big_device();
  LayerConfig c{1, 2, MacMapping::kLut, WeightMemory::kLutram};
  const std::int64_t acc = finn_accumulator_bits(1024, 4, 4), pixels = 36;
  for (int i : {1, 3, 6}) {
    const LayerCost cost = layer_cost(net.layers[static_cast<std::size_t>(i)], c, d, {});
    ASSERT_EQ(cost.nodes.size(), 1u) << i;
    EXPECT_EQ(cost.nodes[0].op, FinnOp::kThresholding);
    EXPECT_EQ(cost.cycles, 8 / 2 * pixels);
    const NodeCost expected =
        thresholding_node(8, pixels, 15, i == 1 ? static_cast<int>(acc) : 4, 2);
    EXPECT_EQ(cost.res.lut, expected.res.lut) << i;
    EXPECT_EQ(cost.res.bram36, expected.res.bram36) << i;
  }
  EXPECT_GT(layer_cost(net.layers[1], c, d, {}).res.lut,
            layer_cost(net.layers[6], c, d, {}).res.lut);
}

TEST(DataflowCost, CandidatesAreExactlyTheNonDominatedSet) {
  std::mt19937 rng(5);
  const Device device = big_device();
  for (int trial = 0; trial < 20; ++trial) {
    ir::Network net = test::random_network(rng);
    for (const auto& l : net.layers) {
      const auto cands = layer_candidates(l, device, {});
      auto dominates = [](const LayerCost& a, const LayerCost& b) {
        return a.cycles <= b.cycles && a.res.dsp <= b.res.dsp && a.res.lut <= b.res.lut &&
               a.res.bram36 <= b.res.bram36 && a.res.uram <= b.res.uram;
      };
      for (std::size_t i = 0; i < cands.size(); ++i)
        for (std::size_t j = 0; j < cands.size(); ++j)
          if (i != j) {
            EXPECT_FALSE(dominates(cands[i].cost, cands[j].cost)) << l.name;
          }
      // Every legal configuration is matched by a candidate at least as good.
      const FoldBounds b = fold_bounds(l);
      for (std::int64_t s = 1; s <= b.simd_max; ++s)
        for (std::int64_t p = 1; p <= b.pe_max; ++p)
          for (MacMapping m : {MacMapping::kDsp, MacMapping::kLut})
            for (WeightMemory w :
                 {WeightMemory::kBram, WeightMemory::kLutram, WeightMemory::kUram}) {
              LayerConfig c{s, p, m, w};
              std::string why;
              if (!config_is_legal(l, c, device, why)) continue;
              const LayerCost cost = layer_cost(l, c, device, {});
              bool covered = false;
              for (const auto& k : cands) covered = covered || dominates(k.cost, cost);
              EXPECT_TRUE(covered) << l.name << " SIMD " << s << " PE " << p << " " << to_string(w);
            }
    }
  }
}

TEST(DataflowEval, IiIsTheSlowestLayerAndFpsFollows) {
  ir::Network net;
  net.input = {4, 8, 8};
  net.layers.push_back(test::conv("a", ir::kNetworkInput, 8, 3));
  net.layers.push_back(test::simple("r", ir::OpKind::kAct, {0}));
  ir::infer_shapes(net, "t");
  const Device d = big_device();
  std::vector<LayerConfig> configs = {{1, 1, MacMapping::kDsp, WeightMemory::kBram},
                                      {1, 8, MacMapping::kLut, WeightMemory::kBram}};
  DataflowEval e = evaluate_dataflow(net, configs, d, {});
  EXPECT_EQ(e.ii_cycles, 36 * 8 * 64);
  EXPECT_EQ(e.bottleneck, 0);
  EXPECT_DOUBLE_EQ(e.fps, 200e6 / static_cast<double>(e.ii_cycles));
  EXPECT_GT(e.latency_cycles, e.ii_cycles);
  EXPECT_TRUE(e.fits());
}

TEST(DataflowEval, SlowLinkBindsAndOverBudgetIsNamed) {
  ir::Network net;
  net.input = {3, 32, 32};
  net.layers.push_back(test::conv("a", ir::kNetworkInput, 64, 3));
  ir::infer_shapes(net, "t");
  Device d = big_device();
  d.offchip_gbps = 0.001;  // 1 MB/s: the input link is the bottleneck
  std::vector<LayerConfig> configs = {{27, 64, MacMapping::kDsp, WeightMemory::kBram}};
  DataflowEval e = evaluate_dataflow(net, configs, d, {});
  EXPECT_EQ(e.bottleneck, -1);
  EXPECT_EQ(e.ii_cycles, e.input_transfer_cycles);
  d.dsp = 10;
  d.name = "small";
  e = evaluate_dataflow(net, configs, d, {});
  ASSERT_FALSE(e.fits());
  EXPECT_EQ(e.over_budget[0], "DSP 864 > 10 usable on small (10 x 1.00)");
}

}  // namespace hao::hw
