#include "ilp/dataflow_mapper.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/error.hpp"
#include "core/text.hpp"
#include "ir/bits.hpp"
#include "ir/description_io.hpp"
#include "ir/model_io.hpp"
#include "support.hpp"

namespace hao::ilp {

TEST(DataflowMapper, IlpNeverSlowerThanGreedy) {
  std::mt19937 rng(31);
  for (int trial = 0; trial < 40; ++trial) {
    const ir::Network net = test::random_network(rng);
    const hw::Device device = test::random_device(rng);
    MapOptions ilp_options, greedy_options;
    greedy_options.method = MapMethod::kGreedy;
    const MapResult ilp = map_dataflow(net, device, ilp_options);
    const MapResult greedy = map_dataflow(net, device, greedy_options);
    if (greedy.feasible) {
      ASSERT_TRUE(ilp.feasible) << "seed 31 trial " << trial;
      EXPECT_LE(ilp.eval.ii_cycles, greedy.eval.ii_cycles) << "seed 31 trial " << trial;
    }
    if (ilp.feasible) {
      EXPECT_TRUE(ilp.eval.fits());
    }
  }
}

TEST(DataflowMapper, ExampleNetworkOnZu3eg) {
  const ir::Network net = ir::read_description(std::string(HAO_EXAMPLES) + "/fmnist_mbv2.yaml");
  const hw::Device device = hw::load_device("zu3eg");
  const MapResult r = map_dataflow(net, device, {});
  ASSERT_TRUE(r.feasible) << r.reason;
  EXPECT_EQ(r.stats.status, SolveStatus::kOptimal);
  EXPECT_EQ(r.stats.gap, 0);
  MapOptions g;
  g.method = MapMethod::kGreedy;
  const MapResult greedy = map_dataflow(net, device, g);
  EXPECT_LE(r.eval.ii_cycles, greedy.eval.ii_cycles);
}

// Where LUTs bind and BRAM is free, the fastest design keeps even a one-word weight memory
// in BRAM (FINN's ram_style "block"), which Vivado's placement by depth would put in LUTs.
TEST(DataflowMapper, ShallowWeightsGoToBramWhenLutsBind) {
  ir::Network net;
  net.input = {64, 4, 4};
  net.layers.push_back(test::conv("c", ir::kNetworkInput, 64, 1));
  net.layers[0].weight_bits = net.layers[0].act_bits = 4;
  ir::infer_shapes(net, "t");
  hw::Device device;
  device.name = "lut-bound";
  device.dsp = 0;
  device.bram36 = 100000;
  device.offchip_gbps = 1000;
  device.usable_fraction = 1.0;
  hw::LayerConfig full{64, 64, hw::MacMapping::kLut, hw::WeightMemory::kBram};
  ASSERT_EQ(hw::weight_memory_depth(net.layers[0], full), 1);
  device.lut =
      static_cast<std::int64_t>(std::ceil(hw::layer_cost(net.layers[0], full, device, {}).res.lut));
  full.memory = hw::auto_weight_memory(net.layers[0], full);
  ASSERT_EQ(full.memory, hw::WeightMemory::kLutram);
  ASSERT_GT(hw::layer_cost(net.layers[0], full, device, {}).res.lut,
            static_cast<double>(device.lut));
  const MapResult r = map_dataflow(net, device, {});
  ASSERT_TRUE(r.feasible) << r.reason;
  EXPECT_EQ(r.eval.ii_cycles, 16);  // one output pixel per cycle
  EXPECT_EQ(r.configs[0].memory, hw::WeightMemory::kBram);
  MapOptions greedy;
  greedy.method = MapMethod::kGreedy;
  EXPECT_GT(map_dataflow(net, device, greedy).eval.ii_cycles, 16);
}

TEST(DataflowMapper, TargetFpsUsesTheLeastResources) {
  const ir::Network net = ir::read_description(std::string(HAO_EXAMPLES) + "/fmnist_mbv2.yaml");
  const hw::Device device = hw::load_device("zu3eg");
  const MapResult fastest = map_dataflow(net, device, {});
  MapOptions slow;
  slow.target_fps = fastest.eval.fps / 4;
  const MapResult r = map_dataflow(net, device, slow);
  ASSERT_TRUE(r.feasible);
  EXPECT_GE(r.eval.fps, slow.target_fps * 0.999);
  EXPECT_LT(r.eval.total.lut + r.eval.total.dsp * 100,
            fastest.eval.total.lut + fastest.eval.total.dsp * 100);
  MapOptions impossible;
  impossible.target_fps = fastest.eval.fps * 1.5;
  const MapResult no = map_dataflow(net, device, impossible);
  EXPECT_FALSE(no.feasible);
  EXPECT_NE(no.reason.find("the fastest that fits reaches"), std::string::npos) << no.reason;
}

TEST(DataflowMapper, TimeLimitReturnsTheBestDesignWithItsGap) {
  // EfficientNet-B0 at w3a3 on zu7ev is large: CBC may take the 2-s limit to settle it, so the
  // limit may stop it. (At w4a4 it does not fit: its SiLUs' gates threshold accumulators.)
  ir::Network net = ir::load_network(std::string(HAO_FIXTURES) + "/efficientnet_b0.onnx");
  ir::apply_bits(net, "w3a3");
  ir::infer_shapes(net, "efficientnet_b0");
  MapOptions o;
  o.solve.time_limit_s = 2;
  const MapResult r = map_dataflow(net, hw::load_device("zu7ev"), o);
  ASSERT_TRUE(r.feasible) << r.reason;
  EXPECT_TRUE(r.eval.fits());
  if (r.stats.status == SolveStatus::kOptimal) {
    EXPECT_EQ(r.stats.gap, 0);
  } else {
    EXPECT_EQ(r.stats.status, SolveStatus::kFeasible);
    EXPECT_GT(r.stats.gap, 0);
    EXPECT_LT(r.stats.gap, 1);
  }
  EXPECT_LT(r.stats.seconds, 2 + 3.0);  // the limit, plus candidate enumeration and greedy
}

// A one-stage detector as a user exports it (tests/fixtures/make_onnx.py: YOLOv5n's layout,
// 320 x 320, three outputs): its two nearest upsamplings are FINN's UpsampleNearestNeighbour at
// one output pixel a cycle, and the optimal design is bound by the stem's padding, which FINN
// feeds one padded pixel a cycle at most (FMPadding at SIMD = all 3 channels: 324 x 324). The
// greedy SetFolding bisection on the same device is no faster.
TEST(DataflowMapper, DetectorWithUpsamplingAndThreeOutputs) {
  ir::Network net = ir::load_network(std::string(HAO_FIXTURES) + "/yolo_detector.onnx");
  ir::apply_bits(net, "w4a4");
  ir::infer_shapes(net, "yolo_detector");
  int heads = 0, upsamples = 0;
  for (std::size_t i = 0; i < net.layers.size(); ++i)
    heads += net.consumers(static_cast<int>(i)).empty() ? 1 : 0;
  EXPECT_EQ(heads, 3);
  const hw::Device zu9eg = hw::load_device("zu9eg");
  const MapResult r = map_dataflow(net, zu9eg, {});
  ASSERT_TRUE(r.feasible) << r.reason;
  EXPECT_EQ(r.stats.status, SolveStatus::kOptimal);
  EXPECT_TRUE(r.eval.fits());
  for (std::size_t i = 0; i < net.layers.size(); ++i) {
    const ir::Layer& l = net.layers[i];
    if (l.op != ir::OpKind::kUpsample) continue;
    ++upsamples;
    EXPECT_EQ(l.scale_h, 2);
    const hw::LayerCost& c = r.eval.layers[i];
    ASSERT_FALSE(c.nodes.empty());
    EXPECT_EQ(c.nodes.front().op, hw::FinnOp::kUpsample);
    EXPECT_EQ(c.nodes.front().cycles, l.out.h * l.out.w);
  }
  EXPECT_EQ(upsamples, 2);
  EXPECT_GE(r.eval.ii_cycles, 324 * 324);
  EXPECT_LE(r.eval.ii_cycles, 324 * 324 + 4);
  MapOptions greedy;
  greedy.method = MapMethod::kGreedy;
  const MapResult g = map_dataflow(net, zu9eg, greedy);
  ASSERT_TRUE(g.feasible) << g.reason;
  EXPECT_GE(g.eval.ii_cycles, r.eval.ii_cycles);
}

// A U-Net as segmentation users export it (tests/fixtures/make_onnx.py: four levels, width 16,
// 256 x 256): each ConvTranspose2d(2, stride 2) is a pixel padding (FINN's FMPadding_Pixel,
// C/SIMD cycles for each pixel of the padded map) and a 2 x 2 conv padded by 1. The optimal
// design on a zu9eg fits and is at least as fast as SetFolding's on the same device.
TEST(DataflowMapper, UNetWithTransposedConvs) {
  ir::Network net = ir::load_network(std::string(HAO_FIXTURES) + "/unet.onnx");
  ir::apply_bits(net, "w4a4");
  ir::infer_shapes(net, "unet");
  EXPECT_TRUE(net.notes.empty()) << core::join(net.notes, "\n");  // FINN lowers these as given
  const hw::Device zu9eg = hw::load_device("zu9eg");
  const MapResult r = map_dataflow(net, zu9eg, {});
  ASSERT_TRUE(r.feasible) << r.reason;
  EXPECT_EQ(r.stats.status, SolveStatus::kOptimal);
  EXPECT_TRUE(r.eval.fits());
  int pads = 0;
  for (std::size_t i = 0; i < net.layers.size(); ++i) {
    const ir::Layer& l = net.layers[i];
    if (l.op != ir::OpKind::kPixelPad) continue;
    ++pads;
    const ir::Layer& up = net.layers[i + 1];
    EXPECT_EQ(up.inputs, std::vector<int>{static_cast<int>(i)});
    EXPECT_EQ(up.out.h, 2 * l.in.h);
    EXPECT_EQ(up.kernel_h, 2);
    EXPECT_EQ(up.pad_top, 1);
    const hw::LayerCost& c = r.eval.layers[i];
    ASSERT_EQ(c.nodes.size(), 1u);
    EXPECT_EQ(c.nodes[0].op, hw::FinnOp::kFmPaddingPixel);
    EXPECT_EQ(c.nodes[0].cycles, l.in.c / r.configs[i].pe * l.out.h * l.out.w);
    EXPECT_LE(c.cycles, r.eval.ii_cycles);
  }
  EXPECT_EQ(pads, 4);
  MapOptions greedy;
  greedy.method = MapMethod::kGreedy;
  const MapResult g = map_dataflow(net, zu9eg, greedy);
  ASSERT_TRUE(g.feasible) << g.reason;
  EXPECT_GE(g.eval.ii_cycles, r.eval.ii_cycles);
}

TEST(DataflowMapper, BadOptionsAreInputErrors) {
  const ir::Network net = ir::read_description(std::string(HAO_EXAMPLES) + "/fmnist_mbv2.yaml");
  MapOptions o;
  o.target_fps = -1;
  EXPECT_THROW(map_dataflow(net, hw::load_device("zu3eg"), o), core::InputError);
}

}  // namespace hao::ilp
