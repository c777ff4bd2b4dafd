#include "hw/engine_template.hpp"

#include <gtest/gtest.h>

#include <random>

#include "support.hpp"

namespace hao::hw {
namespace {

using test::conv;
using test::simple;

// input 8x16x16 -> expand 1x1 to 32 -> relu -> dw 3x3 -> relu -> project 1x1 to 8 -> add.
ir::Network inverted_residual() {
  ir::Network net;
  net.name = "ir";
  net.input = {8, 16, 16};
  net.layers.push_back(conv("expand", ir::kNetworkInput, 32, 1));
  net.layers.push_back(simple("expand_act", ir::OpKind::kAct, {0}));
  net.layers.push_back(conv("dw", 1, 32, 3, 1, 32));
  net.layers.push_back(simple("dw_act", ir::OpKind::kAct, {2}));
  net.layers.push_back(conv("project", 3, 8, 1));
  net.layers.push_back(simple("add", ir::OpKind::kAdd, {ir::kNetworkInput, 4}));
  ir::infer_shapes(net, "test");
  return net;
}

Device device(double gbps = 1.6, double clock_mhz = 200) {
  Device d;
  d.name = "test";
  d.dsp = 2000, d.lut = 200000, d.bram36 = 400;
  d.usable_fraction = 1.0;
  d.clock_mhz = clock_mhz;
  d.offchip_gbps = gbps;
  return d;
}

EngineConfig config(std::int64_t pp, std::int64_t pi, std::int64_t po, std::int64_t dc) {
  EngineConfig c;
  c.shape = {pp, pi, po};
  c.dw_lanes = dc;
  c.in_bram = c.weight_bram = c.out_bram = 100;
  return c;
}

TEST(EngineTemplate, WorkSkipsFusedActivationsAndFindsTheChain) {
  const ir::Network net = inverted_residual();
  const EngineWork w = engine_work(net);
  ASSERT_EQ(w.units.size(), 4u);  // expand, dw, project, add; activations run in their conv
  EXPECT_EQ(w.units[0].kind, UnitKind::kConv);
  EXPECT_EQ(w.units[1].kind, UnitKind::kDepthwise);
  EXPECT_EQ(w.units[3].kind, UnitKind::kEltwise);
  ASSERT_EQ(w.chains.size(), 1u);
  EXPECT_EQ(w.chains[0].layers, (std::vector<int>{0, 2, 4}));
  EXPECT_EQ(w.chain_members[0], (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(w.chains[0].name, "expand+dw+project");
}

TEST(EngineTemplate, NoChainWhenTheExpandOutputHasAnotherReader) {
  ir::Network net = inverted_residual();
  net.layers.push_back(simple("tap", ir::OpKind::kAdd, {1, 1}));  // expand output read twice
  ir::infer_shapes(net, "test");
  const EngineWork w = engine_work(net);
  ASSERT_EQ(w.chains.size(), 1u);
  EXPECT_EQ(w.chains[0].layers, (std::vector<int>{2, 4}));  // dw -> project only
}

TEST(EngineTemplate, OverlappingChainsInAMobileNetV1Stack) {
  ir::Network net;
  net.input = {4, 8, 8};
  net.layers.push_back(conv("dw0", ir::kNetworkInput, 4, 3, 1, 4));
  net.layers.push_back(conv("pw0", 0, 8, 1));
  net.layers.push_back(conv("dw1", 1, 8, 3, 1, 8));
  net.layers.push_back(conv("pw1", 2, 8, 1));
  ir::infer_shapes(net, "test");
  const EngineWork w = engine_work(net);
  ASSERT_EQ(w.chains.size(), 2u);
  EXPECT_EQ(w.chains[0].layers, (std::vector<int>{0, 1}));
  EXPECT_EQ(w.chains[1].layers, (std::vector<int>{1, 2, 3}));  // pw0 is the second's expand
}

// A 3x3 conv 16 -> 32 on a 16x16 map, every number worked out by hand.
TEST(EngineTemplate, ConvCostMatchesHandComputation) {
  ir::Network net;
  net.input = {16, 16, 16};
  net.layers.push_back(conv("c", ir::kNetworkInput, 32, 3));
  ir::infer_shapes(net, "test");
  const EngineWork w = engine_work(net);
  const EngineConfig cfg = config(4, 8, 16, 8);
  const Device d = device(1.6, 200);  // 1.6e9 * 0.8 / 200e6 = 6.4 bytes per cycle
  const EngineCostOptions o;

  // 4 rows x 16 channels, input outer: 4 row tiles x 2 channel tiles.
  const TileCost c = unit_cost(net, w.units[0], {4, 16, false}, cfg, d, o);
  EXPECT_EQ(c.tiles, 8);
  // per tile ceil(4*16/4) * ceil(16/8) * ceil(16/16) * 9 = 16 * 2 * 1 * 9 = 288
  EXPECT_DOUBLE_EQ(c.compute_cycles, 8 * 288.0);
  // input rows per tile: min(16, 3 * 1 + 3) = 6; 4 tiles x 6 x 16 x 16 channels, once
  EXPECT_DOUBLE_EQ(c.in_bytes, 4 * 6 * 16 * 16.0);
  // weights re-read per row tile: 4 x 9 x 16 x 32
  EXPECT_DOUBLE_EQ(c.weight_bytes, 4 * 9 * 16 * 32.0);
  EXPECT_DOUBLE_EQ(c.out_bytes, 32 * 16 * 16.0);
  EXPECT_DOUBLE_EQ(c.need_in, 2 * 6 * 16 * 16.0);
  EXPECT_DOUBLE_EQ(c.need_weight, 2 * 9 * 16 * 16.0);
  EXPECT_DOUBLE_EQ(c.need_out, 2 * 4 * 16 * 16.0);
  const double memory = (c.in_bytes + c.weight_bytes + c.out_bytes) / 6.4;
  EXPECT_NEAR(c.memory_cycles, memory, 1e-9);
  EXPECT_NEAR(c.prologue_cycles, (6 * 16 * 16 + 9 * 16 * 16) / 6.4, 1e-9);
  EXPECT_DOUBLE_EQ(c.overhead_cycles, o.layer_overhead_cycles + 8 * o.tile_overhead_cycles);
  EXPECT_NEAR(c.cycles, std::max(c.compute_cycles, memory) + c.prologue_cycles + c.overhead_cycles,
              1e-9);

  // Weights outer: weights once, the input re-read per channel tile.
  const TileCost wo = unit_cost(net, w.units[0], {4, 16, true}, cfg, d, o);
  EXPECT_DOUBLE_EQ(wo.weight_bytes, 9 * 16 * 32.0);
  EXPECT_DOUBLE_EQ(wo.in_bytes, 2 * 4 * 6 * 16 * 16.0);
  EXPECT_DOUBLE_EQ(wo.compute_cycles, c.compute_cycles);

  // One tile: everything once and single-buffered.
  const TileCost one = unit_cost(net, w.units[0], {16, 32, false}, cfg, d, o);
  EXPECT_EQ(one.tiles, 1);
  EXPECT_DOUBLE_EQ(one.in_bytes, 16 * 16 * 16.0);
  EXPECT_DOUBLE_EQ(one.weight_bytes, 9 * 16 * 32.0);
  EXPECT_DOUBLE_EQ(one.need_in, 16 * 16 * 16.0);
  EXPECT_DOUBLE_EQ(one.compute_cycles, 64 * 2 * 2 * 9.0);
}

// A dilated conv's row tile reads the rows its windows span: (rows - 1) stride + (K - 1) D + 1.
TEST(EngineTemplate, DilatedConvReadsTheRowsItsWindowsSpan) {
  ir::Network net;
  net.input = {16, 16, 16};
  net.layers.push_back(conv("c", ir::kNetworkInput, 32, 3));
  net.layers[0].dilation_h = net.layers[0].dilation_w = 2;
  net.layers[0].pad_top = net.layers[0].pad_left = net.layers[0].pad_bottom =
      net.layers[0].pad_right = 2;
  ir::infer_shapes(net, "test");
  const EngineWork w = engine_work(net);
  const TileCost c = unit_cost(net, w.units[0], {4, 32, false}, config(4, 8, 16, 8), device(), {});
  EXPECT_EQ(c.tiles, 4);
  EXPECT_DOUBLE_EQ(c.in_bytes, 4 * (3 + 5) * 16 * 16.0);     // 8 rows a tile (undilated: 6)
  EXPECT_DOUBLE_EQ(c.compute_cycles, 4 * 16 * 2 * 2 * 9.0);  // the same taps as undilated
}

// A pixel padding (a transposed conv's zeros between pixels) reads each input row once and
// writes the whole padded map: a tile of r output rows reads at most ceil(r / stride_h) rows.
TEST(EngineTemplate, PixelPaddingReadsEachInputRowOnce) {
  ir::Network net;
  net.input = {8, 4, 4};
  net.layers.push_back(simple("pad", ir::OpKind::kPixelPad, {ir::kNetworkInput}));
  net.layers[0].stride_h = net.layers[0].stride_w = 2;
  ir::infer_shapes(net, "test");
  const EngineWork w = engine_work(net);
  const EngineConfig cfg = config(4, 8, 16, 8);
  const TileCost one = unit_cost(net, w.units[0], {7, 8, false}, cfg, device(), {});
  EXPECT_EQ(one.tiles, 1);
  EXPECT_DOUBLE_EQ(one.in_bytes, 8 * 4 * 4.0);   // 8-bit: the input, once
  EXPECT_DOUBLE_EQ(one.out_bytes, 8 * 7 * 7.0);  // zeros included
  const TileCost rows = unit_cost(net, w.units[0], {2, 8, false}, cfg, device(), {});
  EXPECT_EQ(rows.tiles, 4);
  EXPECT_DOUBLE_EQ(rows.in_bytes, 4 * 1 * 4 * 8.0);  // one input row per two output rows
}

TEST(EngineTemplate, FusingKeepsIntermediatesOffDdr) {
  const ir::Network net = inverted_residual();
  const EngineWork w = engine_work(net);
  const EngineConfig cfg = config(4, 8, 8, 8);
  const Device d = device();
  const EngineCostOptions o;
  const TileCost fused = unit_cost(net, w.chains[0], {16, 8, false}, cfg, d, o);
  double alone_bytes = 0, alone_overhead = 0;
  for (int m : w.chain_members[0]) {
    const TileCost c =
        unit_cost(net, w.units[static_cast<std::size_t>(m)], {16, 32, false}, cfg, d, o);
    alone_bytes += c.in_bytes + c.weight_bytes + c.out_bytes;
    alone_overhead += c.overhead_cycles;
  }
  // Fused: the block input (8x16x16) and output (8x16x16) and the weights, nothing else.
  const double weights = 8 * 32 + 9 * 32 + 32 * 8;
  EXPECT_DOUBLE_EQ(fused.in_bytes + fused.weight_bytes + fused.out_bytes,
                   2 * 8 * 16 * 16 + weights);
  // Unfused, the 32-channel expand and depthwise outputs each cross DDR twice.
  EXPECT_DOUBLE_EQ(alone_bytes, 2 * 8 * 16 * 16 + weights + 4 * 32 * 16 * 16);
  EXPECT_LT(fused.overhead_cycles, alone_overhead);
  // The fused chain holds its intermediates: the expand tile and the depthwise tile.
  EXPECT_DOUBLE_EQ(fused.need_out, 8 * 16 * 16 + 32 * 16 * 16 + 32 * 16 * 16);
  EXPECT_DOUBLE_EQ(fused.need_weight, weights);
}

TEST(EngineTemplate, FusedRowTilesRecomputeTheExpandHalo) {
  const ir::Network net = inverted_residual();
  const EngineWork w = engine_work(net);
  const EngineConfig cfg = config(1, 2, 2, 32);  // the conv engine binds
  const Device d = device(1000);
  const EngineCostOptions o;
  const TileCost whole = unit_cost(net, w.chains[0], {16, 8, false}, cfg, d, o);
  const TileCost rows4 = unit_cost(net, w.chains[0], {4, 8, false}, cfg, d, o);
  // Expand per tile of r rows: min(16, r + 2) rows x 16 px x ceil(8/2) x ceil(32/2);
  // project r x 16 px x ceil(32/2) x ceil(8/2).
  EXPECT_DOUBLE_EQ(whole.compute_cycles, 16 * 16 * 64 + 16 * 16 * 64);
  const double expand4 = 4 * (6 * 16 * 64);  // 6 input rows for each of the 4 tiles
  EXPECT_DOUBLE_EQ(rows4.compute_cycles, expand4 + 16 * 16 * 64);
  EXPECT_GT(rows4.in_bytes, whole.in_bytes);  // the halo rows are read again
  EXPECT_LT(rows4.need_in, whole.need_in);
}

TEST(EngineTemplate, CandidatesAreNonDominatedAndSorted) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 20; ++trial) {
    const ir::Network net = test::random_block_network(rng);
    const EngineWork w = engine_work(net);
    const EngineConfig cfg = config(2, 4, 8, 4);
    std::vector<EngineUnit> all = w.units;
    all.insert(all.end(), w.chains.begin(), w.chains.end());
    for (const EngineUnit& u : all) {
      const auto cands = tile_candidates(net, u, cfg, device(0.5), {});
      ASSERT_FALSE(cands.empty()) << u.name;
      for (std::size_t i = 0; i < cands.size(); ++i) {
        if (i > 0) {
          EXPECT_LE(cands[i - 1].cycles, cands[i].cycles);
        }
        for (std::size_t j = 0; j < cands.size(); ++j) {
          if (i == j) continue;
          const bool dominates = cands[j].cycles <= cands[i].cycles &&
                                 cands[j].need_in <= cands[i].need_in &&
                                 cands[j].need_weight <= cands[i].need_weight &&
                                 cands[j].need_out <= cands[i].need_out;
          EXPECT_FALSE(dominates) << u.name << " candidate " << i << " by " << j;
        }
      }
    }
  }
}

TEST(EngineTemplate, ResourcesPackTwoInt8ProductsPerDsp) {
  EngineConfig c = config(8, 16, 16, 16);
  c.in_bram = 10, c.weight_bram = 20, c.out_bram = 30;
  Device d = device();
  const EngineCostOptions o;
  const Resources r8 = engine_resources(c, d, 8, 8, o);
  EXPECT_DOUBLE_EQ(r8.dsp, 8 * 16 * 16 / 2 + 8 * 16 / 2);
  EXPECT_DOUBLE_EQ(r8.bram36, 60);
  EXPECT_DOUBLE_EQ(r8.lut, o.lut_base + o.lut_per_mac * (2048 + 128) + o.lut_per_buffer_bram * 60);
  EXPECT_DOUBLE_EQ(engine_resources(c, d, 16, 8, o).dsp, 2048 + 128);
  d.dsp_kind = DspKind::kDsp48e1;
  EXPECT_DOUBLE_EQ(engine_resources(c, d, 8, 8, o).dsp, 2048 + 128);
  // Banks: the input buffer delivers 8 px x 16 ch x 8 bit = 1024 bits per cycle.
  const BufferBanks b = min_buffer_banks(c, 8, 8);
  EXPECT_EQ(b.in, 15);      // ceil(1024 / 72)
  EXPECT_EQ(b.weight, 29);  // ceil(16 * 16 * 8 / 72)
  EXPECT_EQ(b.out, 15);
}

TEST(EngineTemplate, EvaluationNamesTheStepWhoseTileOverflowsItsBuffer) {
  const ir::Network net = inverted_residual();
  EngineDesign design;
  design.config = config(2, 4, 4, 4);
  design.config.in_bram = 1;  // 4608 bytes; the whole 8x16x16 input needs 2048 - fits
  design.config.out_bram = 1;
  design.steps.push_back({UnitKind::kConv, {0}, "expand", {16, 32, false}});  // 8 KiB out
  const EngineEval e = evaluate_engine(net, design, device(), {});
  ASSERT_FALSE(e.fits());
  bool named = false;
  for (const auto& m : e.over_budget)
    named = named || m.find("expand: output tile needs 8,192 bytes") != std::string::npos;
  EXPECT_TRUE(named) << e.over_budget.front();
}

TEST(EngineTemplate, ShapeCandidatesFitTheDevice) {
  Device d = device();
  d.dsp = 300;
  const auto shapes = engine_shape_candidates(d, 8, 8, {});
  ASSERT_FALSE(shapes.empty());
  for (const auto& s : shapes) EXPECT_LE(engine_resources(s, d, 8, 8, {}).dsp, 300);
}

}  // namespace
}  // namespace hao::hw
