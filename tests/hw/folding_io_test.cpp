#include "hw/folding_io.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/text.hpp"
#include "finn_designs.hpp"
#include "hw/memory.hpp"
#include "ir/bits.hpp"
#include "ir/onnx_import.hpp"
#include "support.hpp"

namespace hao::hw {
namespace {

ir::Network mixed() {
  ir::Network net;
  net.name = "mixed";
  net.input = {8, 6, 6};
  net.layers.push_back(test::conv("c0", ir::kNetworkInput, 16, 3));
  net.layers.push_back(test::simple("r0", ir::OpKind::kAct, {0}));
  net.layers.push_back(test::conv("dw", 1, 16, 3, 1, 16));
  net.layers.push_back(test::conv("c1", 2, 8, 1));
  ir::infer_shapes(net, "t");
  return net;
}

std::string write(const std::string& text) {
  // One file per test process: CTest runs these tests in parallel (-j2).
  const std::string path =
      ::testing::TempDir() + "hao_folding_" + std::to_string(getpid()) + ".json";
  std::ofstream(path) << text;
  return path;
}

// Writes `configs` as a folding file, reads it back and expects the same design, node for node,
// with no note; returns the file's text.
std::string expect_round_trip(const ir::Network& net, const std::vector<LayerConfig>& configs,
                              const Device& d) {
  const std::string text = folding_json(net, configs, d);
  const FoldingFile back = read_folding(write(text), net, d);
  EXPECT_TRUE(back.notes.empty()) << core::join(back.notes, "\n") << "\n" << text;
  for (std::size_t i = 0; i < configs.size(); ++i) {
    const LayerCost want = layer_cost(net.layers[i], configs[i], d, {});
    const LayerCost got = layer_cost(net.layers[i], back.configs[i], d, {});
    EXPECT_EQ(got.nodes.size(), want.nodes.size()) << i;
    for (std::size_t k = 0; k < std::min(want.nodes.size(), got.nodes.size()); ++k) {
      EXPECT_EQ(got.nodes[k].cycles, want.nodes[k].cycles) << i << "/" << k;
      EXPECT_EQ(got.nodes[k].res.lut, want.nodes[k].res.lut) << i << "/" << k;
      EXPECT_EQ(got.nodes[k].res.uram, want.nodes[k].res.uram) << i << "/" << k;
    }
  }
  return text;
}

}  // namespace

TEST(FoldingIo, NamesFollowFinnOrder) {
  const ir::Network net = mixed();
  const auto names = finn_node_names(net, std::vector<LayerConfig>(4), Device{});
  // r0 is a ReLU after c0: its thresholds are c0's, at 8 bits in a Thresholding node of
  // their own after the MVAU (at 4 bits and below they would live in the MVAU).
  EXPECT_EQ(names, (std::vector<std::vector<std::string>>{
                       {"FMPadding_rtl_0", "ConvolutionInputGenerator_rtl_0", "MVAU_hls_0"},
                       {"Thresholding_rtl_0"},
                       {"FMPadding_rtl_1", "ConvolutionInputGenerator_rtl_1", "VVAU_hls_0"},
                       {"MVAU_hls_1"}}));
}

// What hao writes, read back, costs the same, node for node.
TEST(FoldingIo, RoundTrips) {
  const ir::Network net = mixed();
  Device d;
  d.uram = 4;
  std::vector<LayerConfig> configs = {{1, 1, MacMapping::kDsp, WeightMemory::kUram},
                                      {1, 2, MacMapping::kLut, WeightMemory::kBram},
                                      {3, 16, MacMapping::kLut, WeightMemory::kBram},
                                      {1, 1, MacMapping::kDsp, WeightMemory::kLutram}};
  const std::string text = expect_round_trip(net, configs, d);
  const auto j = nlohmann::json::parse(text);
  EXPECT_EQ(j["MVAU_hls_0"]["ram_style"], "ultra");
  EXPECT_EQ(j["VVAU_hls_0"]["ram_style"], "block");
  EXPECT_EQ(j["MVAU_hls_1"]["ram_style"], "distributed");
  EXPECT_EQ(j["ConvolutionInputGenerator_rtl_1"]["SIMD"], 16);  // the VVAU's PE
}

// A hard-swish's nodes (fork, gate thresholds, ElementwiseMul, requantizer) are named in FINN's
// order and read back to the same design: the fork takes the auxiliary PE, the rest the PE.
TEST(FoldingIo, GatedActivationRoundTrips) {
  ir::Network net;
  net.name = "gated";
  net.input = {8, 6, 6};
  net.layers.push_back(test::conv("c0", ir::kNetworkInput, 16, 1));
  net.layers.push_back(test::simple("hswish", ir::OpKind::kAct, {0}));
  net.layers.push_back(test::conv("c1", 1, 8, 1));
  net.layers[1].act = ir::ActKind::kHardSwish;
  for (auto& l : net.layers) l.weight_bits = l.act_bits = 4;
  ir::infer_shapes(net, "t");
  const Device d;
  std::vector<LayerConfig> configs = {{2, 4, MacMapping::kLut, WeightMemory::kLutram},
                                      {1, 8, MacMapping::kLut, WeightMemory::kBram},
                                      {4, 2, MacMapping::kLut, WeightMemory::kLutram}};
  configs[1].aux_pe = 2;
  EXPECT_EQ(finn_node_names(net, configs, d)[1],
            (std::vector<std::string>{"DuplicateStreams_hls_0", "Thresholding_rtl_0",
                                      "ElementwiseMul_hls_0", "Thresholding_rtl_1"}));
  expect_round_trip(net, configs, d);
}

// Nearest upsampling is FINN's UpsampleNearestNeighbour: one output pixel of all channels a
// cycle (OFMDim^2), an input row of C x bits words held to repeat it, no folding attributes, so
// hao's file leaves it out (as FINN's own files leave out a 2-D StreamingMaxPool) and reading
// such a file notes nothing about it; an entry naming it is taken.
TEST(FoldingIo, UpsampleIsFinnsNodeWithoutFolding) {
  ir::Network net;
  net.name = "up";
  net.input = {8, 7, 7};
  net.layers.push_back(test::conv("c0", ir::kNetworkInput, 16, 3));
  net.layers.push_back(test::simple("up", ir::OpKind::kUpsample, {0}));
  net.layers[1].scale_h = 2;
  net.layers[1].scale_w = 3;
  net.layers.push_back(test::conv("c1", 1, 8, 1));
  for (auto& l : net.layers) l.weight_bits = l.act_bits = 4;
  ir::infer_shapes(net, "t");
  ASSERT_EQ(net.layers[1].out, (ir::Shape{16, 14, 21}));
  const Device d;
  const LayerCost up = layer_cost(net.layers[1], LayerConfig{}, d, {});
  ASSERT_EQ(up.nodes.size(), 1u);
  EXPECT_EQ(up.nodes[0].op, FinnOp::kUpsample);
  EXPECT_EQ(up.cycles, 14 * 21);
  EXPECT_EQ(up.nodes[0].pe, 16);
  // Stream logic (120 + 16 channels x 4 bits x 2) and the row buffer: 7 words of 64 bits in
  // LUTRAM.
  const DataflowOptions o;
  EXPECT_DOUBLE_EQ(up.res.lut, o.lut_stream_overhead + 16 * 4 * o.lut_per_stream_lane_bit +
                                   static_cast<double>(lutram_luts(64, 7)));
  EXPECT_EQ(fold_bounds(net.layers[1]).pe_max, 1);
  EXPECT_EQ(layer_candidates(net.layers[1], d, {}).size(), 1u);
  const std::vector<LayerConfig> configs = {{4, 2, MacMapping::kLut, WeightMemory::kLutram},
                                            {},
                                            {8, 4, MacMapping::kLut, WeightMemory::kLutram}};
  EXPECT_EQ(finn_node_names(net, configs, d)[1],
            std::vector<std::string>{"UpsampleNearestNeighbour_hls_0"});
  const std::string text = expect_round_trip(net, configs, d);
  EXPECT_EQ(text.find("Upsample"), std::string::npos) << text;
  auto j = nlohmann::ordered_json::parse(text);
  j["UpsampleNearestNeighbour_hls_0"] = nlohmann::ordered_json::object();
  const FoldingFile named = read_folding(write(j.dump()), net, d);
  EXPECT_TRUE(named.notes.empty()) << core::join(named.notes, "\n");
  EXPECT_EQ(named.node_names[1], std::vector<std::string>{"UpsampleNearestNeighbour_hls_0"});
}

// A transposed conv's pixel padding is FINN's FMPadding_Pixel (v0.10.1): C/SIMD cycles for
// every pixel of the padded map, SIMD in the file, read back; its FIFO is SIMD lanes wide.
TEST(FoldingIo, PixelPaddingIsFinnsFmPaddingPixel) {
  ir::Network net;
  net.name = "deconv";
  net.input = {8, 7, 7};
  net.layers.push_back(test::conv("c0", ir::kNetworkInput, 16, 3));
  net.layers.push_back(test::simple("pad", ir::OpKind::kPixelPad, {0}));
  net.layers[1].stride_h = net.layers[1].stride_w = 2;
  net.layers.push_back(test::conv("c1", 1, 8, 3));  // pads 1: kernel - 1 - pads 1
  for (auto& l : net.layers) l.weight_bits = l.act_bits = 4;
  ir::infer_shapes(net, "t");
  ASSERT_EQ(net.layers[1].out, (ir::Shape{16, 13, 13}));
  ASSERT_EQ(net.layers[2].out, (ir::Shape{8, 13, 13}));
  const Device d;
  LayerConfig four;
  four.pe = 4;
  const LayerCost pad = layer_cost(net.layers[1], four, d, {});
  ASSERT_EQ(pad.nodes.size(), 1u);
  EXPECT_EQ(pad.nodes[0].op, FinnOp::kFmPaddingPixel);
  EXPECT_EQ(pad.cycles, 16 / 4 * 13 * 13);
  EXPECT_EQ(fold_bounds(net.layers[1]).pe_max, 16);
  const std::vector<LayerConfig> configs = {{4, 2, MacMapping::kLut, WeightMemory::kLutram},
                                            four,
                                            {8, 4, MacMapping::kLut, WeightMemory::kLutram}};
  EXPECT_EQ(finn_node_names(net, configs, d)[1], std::vector<std::string>{"FMPadding_Pixel_hls_0"});
  const std::string text = expect_round_trip(net, configs, d);
  auto j = nlohmann::ordered_json::parse(text);
  EXPECT_EQ(j["FMPadding_Pixel_hls_0"]["SIMD"], 4);
  // A FIFO after it is SIMD x 4 bits wide: 16 bits (not one lane's 4), 64 deep.
  nlohmann::ordered_json with_fifo;
  for (auto it = j.begin(); it != j.end(); ++it) {
    with_fifo[it.key()] = it.value();
    if (it.key() == "FMPadding_Pixel_hls_0")
      with_fifo["StreamingFIFO_rtl_7"] = {{"depth", 64}, {"ram_style", "distributed"}};
  }
  const FoldingFile fifo = read_folding(write(with_fifo.dump()), net, d);
  ASSERT_EQ(fifo.extras.size(), 1u);
  EXPECT_DOUBLE_EQ(fifo.extras[0].cost.res.lut, fifo_node(16, 64, "distributed", "rtl").res.lut);
  j["FMPadding_Pixel_hls_0"]["SIMD"] = 3;
  const std::string refusal = test::input_error([&] { read_folding(write(j.dump()), net, d); });
  EXPECT_NE(refusal.find("FMPadding_Pixel_hls_0"), std::string::npos) << refusal;
  EXPECT_NE(refusal.find("does not divide"), std::string::npos) << refusal;
}

// Older names, entries out of graph order and FINN nodes outside the layers are read; graph
// nodes the file leaves out keep FINN's defaults, with a note each.
TEST(FoldingIo, AcceptsFinnNamesAndNotesTheRest) {
  const ir::Network net = mixed();
  const std::string text = R"({
    "Defaults": {},
    "MatrixVectorActivation_0": {"PE": 2, "SIMD": 9, "resType": "lut"},
    "VVAU_rtl_0": {"PE": 4, "SIMD": 3},
    "ConvolutionInputGenerator_0": {"SIMD": 8},
    "StreamingFIFO_3": {"depth": 32}
  })";
  FoldingFile f = read_folding(write(text), net, Device{});
  EXPECT_EQ(f.configs[0].pe, 2);
  EXPECT_EQ(f.configs[0].simd, 9);
  EXPECT_EQ(f.configs[0].swu_simd, 8);
  EXPECT_EQ(f.configs[0].mac, MacMapping::kLut);
  EXPECT_EQ(f.configs[2].pe, 4);
  EXPECT_EQ(f.configs[2].swu_simd, 1);  // not in the file: FINN's default
  EXPECT_EQ(f.configs[3].pe, 1);
  ASSERT_EQ(f.extras.size(), 1u);
  EXPECT_EQ(f.extras[0].cost.op, FinnOp::kFifo);
  // Left at FINN's defaults: both paddings, dw's window, c0's thresholds and MVAU_hls_1.
  EXPECT_EQ(f.notes.size(), 5u) << core::join(f.notes, "\n");
}

// ram_style is costed as written; auto, or none, as Vivado's placement by depth.
TEST(FoldingIo, RamStyleIsCostedAsWrittenAndAutoByDepth) {
  const ir::Network net = mixed();
  const std::string text = R"({
    "MVAU_hls_0": {"PE": 16, "SIMD": 72, "ram_style": "block"},
    "VVAU_hls_0": {"PE": 16, "SIMD": 9, "ram_style": "auto"},
    "MVAU_hls_1": {"PE": 1, "SIMD": 1, "ram_style": "distributed"}
  })";
  FoldingFile f = read_folding(write(text), net, Device{});
  EXPECT_EQ(f.configs[0].memory, WeightMemory::kBram);    // 1 word per PE, as asked
  EXPECT_EQ(f.configs[2].memory, WeightMemory::kLutram);  // auto, 1 word per PE
  EXPECT_EQ(f.configs[3].memory, WeightMemory::kLutram);  // 128 words per PE, as asked
  // Left out: PE = SIMD = 1 and auto, so c1's 128 words per PE go to BRAM.
  FoldingFile g = read_folding(write(R"({"MVAU_hls_0": {"PE": 16, "SIMD": 72}})"), net, Device{});
  EXPECT_EQ(g.configs[0].memory, WeightMemory::kLutram);
  EXPECT_EQ(g.configs[3].memory, WeightMemory::kBram);
  // The MVAU node's own memory (c0's 8-bit thresholds sit in a Thresholding node after it).
  auto mvau = [&](const LayerConfig& c) {
    for (const auto& n : layer_cost(net.layers[0], c, Device{}, {}).nodes)
      if (n.op == FinnOp::kMvau) return n.res;
    return Resources{};
  };
  const Resources shallow_bram = mvau(f.configs[0]);
  EXPECT_GT(shallow_bram.bram36, 0);
  LayerConfig in_luts = f.configs[0];
  in_luts.memory = WeightMemory::kLutram;
  const Resources shallow_lut = mvau(in_luts);
  EXPECT_EQ(shallow_lut.bram36, 0);
  EXPECT_GT(shallow_lut.lut, shallow_bram.lut);
}

TEST(FoldingIo, IllegalValuesNameNodeAndNumbers) {
  const ir::Network net = mixed();
  try {
    read_folding(write(R"({"MVAU_hls_0": {"PE": 5, "SIMD": 9}, "MVAU_hls_9": {"PE": 1},
                         "MVAU_hls_1": {"PE": "x"}, "ConvolutionInputGenerator_rtl_0": {"SIMD": 3},
                         "MVAU_hls_0x": {}})"),
                 net, Device{});
    FAIL();
  } catch (const core::InputError& e) {
    ASSERT_EQ(e.problems().size(), 1u);  // names are checked first
    EXPECT_NE(e.problems()[0].find("MVAU_hls_0x: not a FINN node type hao models"),
              std::string::npos)
        << e.problems()[0];
  }
  try {
    read_folding(write(R"({"MVAU_hls_0": {"PE": 5, "SIMD": 9}, "MVAU_hls_9": {"PE": 1},
                         "MVAU_hls_1": {"PE": "x"}, "ConvolutionInputGenerator_rtl_0": {"SIMD": 3},
                         "Thresholding_rtl_4": {"PE": 1}, "Thresholding_rtl_5": {"PE": 1}})"),
                 net, Device{});
    FAIL();
  } catch (const core::InputError& e) {
    const std::string all = core::join(e.problems(), "\n");
    EXPECT_EQ(e.problems().size(), 5u) << all;
    EXPECT_NE(all.find("MVAU_hls_9: names no node of mixed's FINN graph (it has 2 MVAU nodes)"),
              std::string::npos)
        << all;
    EXPECT_NE(all.find("MVAU_hls_0.PE: 5 does not divide MH (16)"), std::string::npos) << all;
    EXPECT_NE(all.find("MVAU_hls_1.PE: '\"x\"', expected a positive integer"), std::string::npos)
        << all;
    EXPECT_NE(all.find("ConvolutionInputGenerator_rtl_0.SIMD: 3 does not divide IFMChannels (8)"),
              std::string::npos)
        << all;
    // c0's thresholds (8 bits: a node of their own) take the first; nothing takes the second.
    EXPECT_NE(all.find("Thresholding_rtl_5: names no Thresholding node"), std::string::npos) << all;
  }
  EXPECT_THROW(read_folding(write("{not json"), net, Device{}), core::InputError);
  try {
    read_folding(write(R"({"StreamingFIFO_rtl_0": {"ram_style": "flash", "depth": 64}})"), net,
                 Device{});
    FAIL();
  } catch (const core::InputError& e) {
    EXPECT_NE(e.problems()[0].find("StreamingFIFO_rtl_0.ram_style: 'flash', expected auto, block, "
                                   "distributed or ultra"),
              std::string::npos)
        << e.problems()[0];
  }
  try {
    read_folding(write(R"({"StreamingFIFO_rtl_0": {"impl_style": "hls", "depth": 64}})"), net,
                 Device{});
    FAIL();
  } catch (const core::InputError& e) {
    EXPECT_NE(e.problems()[0].find("StreamingFIFO_rtl_0.impl_style: 'hls', expected rtl or vivado"),
              std::string::npos)
        << e.problems()[0];
  }
}

// A FIFO as FINN's StreamingFIFO_rtl estimates it: an rtl FIFO is shift registers (LUTs) whatever
// its ram_style; a vivado one takes its ram_style at the depth rounded up to a power of 2, and at
// auto is placed by depth.
TEST(FoldingIo, FifoMemoryFollowsItsImplementationStyle) {
  const NodeCost rtl = fifo_node(8, 1000, "block", "rtl");
  EXPECT_EQ(rtl.res.bram36, 0.0);
  EXPECT_EQ(rtl.res.lut, 2.0 * 10 + 32 * 4);  // address LUTs + ceil(1000/32) * ceil(8/2)
  const NodeCost block = fifo_node(8, 1000, "block", "vivado");
  EXPECT_EQ(block.res.bram36, finn_bram36(8, 1024));
  EXPECT_EQ(block.res.lut, 2.0 * 10);
  EXPECT_EQ(fifo_node(8, 1000, "auto", "vivado").res.bram36, finn_bram36(8, 1024));
  EXPECT_EQ(fifo_node(8, 40, "auto", "vivado").res.bram36, 0.0);    // 64 words: LUTRAM
  EXPECT_EQ(fifo_node(72, 5000, "ultra", "vivado").res.uram, 2.0);  // 8,192 words of 72 bits
}

// FINN's best-known example as FINN builds it: CNV-w1a1 on a Pynq-Z1 with the folding file
// finn-examples ships, read node for node; the board measures 3,020.5 frames/s at 100 MHz
// (../shared/data/finn-examples/README.md).
TEST(FoldingIo, CnvW1a1ReproducesTheMeasuredFrameRate) {
  const std::string file = std::string(HAO_SHARED_DATA) +
                           "/finn-examples/bnn-pynq/folding_config/cnv-w1a1_folding_config.json";
  if (test::missing_data(file)) GTEST_SKIP();
  ir::Network net = ir::read_onnx(std::string(HAO_FIXTURES) + "/finn_cnv.onnx");
  for (auto& l : net.layers) l.weight_bits = 1, l.act_bits = 1;
  net.layers.front().act_bits = 8;  // the first layer reads the 8-bit image
  net.input_bits = 8;
  ir::infer_shapes(net, "cnv");
  const Device pynq = load_device("xc7z020");
  const FoldingFile f = read_folding(file, net, pynq);
  EXPECT_TRUE(f.notes.empty()) << core::join(f.notes, "\n");  // every node mapped
  ASSERT_EQ(f.extras.size(), 2u);                             // the input quantizer and LabelSelect
  EXPECT_EQ(f.extras[0].name, "Thresholding_rtl_0");
  const DataflowEval e = evaluate_dataflow(net, f.configs, pynq, {}, f.extras);
  EXPECT_TRUE(e.fits()) << core::join(e.over_budget, "; ");
  EXPECT_NEAR(e.fps, 3020.5, 0.05 * 3020.5);
  // The names hao writes for this design are the file's own.
  const auto names = finn_node_names(net, f.configs, pynq);
  const nlohmann::json given = nlohmann::json::parse(core::read_file(file));
  for (const auto& layer : names)
    for (const auto& name : layer)
      if (name.rfind("StreamingMaxPool", 0) != 0) {
        EXPECT_TRUE(given.contains(name)) << name;
      }
}

}  // namespace hao::hw

namespace hao::hw {

// Every finn-examples folding file hao models reads onto its network with every node mapped,
// the design's II is its slowest node, and writing the design back gives FINN's file: the
// same node names in the same order (the FIFOs' and other extras' attributes as read).
TEST(FoldingIo, EveryFinnExamplesDesignReadsNodeForNodeAndWritesBackInFinnOrder) {
  for (const test::FinnDesign& d : test::kFinnDesigns) {
    SCOPED_TRACE(std::string(d.name) + " " + d.folding);
    const std::string file = d.folding_path();
    if (test::missing_data(file)) GTEST_SKIP();
    const ir::Network net = d.network();
    const Device device = d.device_at_clock();
    const FoldingFile f = read_folding(file, net, device);
    EXPECT_TRUE(f.notes.empty()) << core::join(f.notes, "\n");
    const DataflowEval e = evaluate_dataflow(net, f.configs, device, {}, f.extras);
    std::int64_t slowest = 0;
    for (const auto& l : e.layers)
      for (const auto& n : l.nodes) slowest = std::max(slowest, n.cycles);
    for (const auto& n : e.extras) slowest = std::max(slowest, n.cost.cycles);
    EXPECT_EQ(e.ii_cycles, std::max(slowest, e.input_transfer_cycles));
    const auto written = nlohmann::ordered_json::parse(
        folding_json(net, f.configs, device, {}, f.node_names, f.extras));
    const auto given = nlohmann::ordered_json::parse(core::read_file(file));
    std::vector<std::string> want, got;
    for (auto it = given.begin(); it != given.end(); ++it) want.push_back(it.key());
    for (auto it = written.begin(); it != written.end(); ++it)
      if (it.key().rfind("StreamingMaxPool", 0) != 0) got.push_back(it.key());
    EXPECT_EQ(got, want);
    // Read back, the written file is the same design.
    const FoldingFile again = parse_folding(written.dump(), "written", net, device);
    EXPECT_EQ(again.configs, f.configs);
    EXPECT_EQ(evaluate_dataflow(net, again.configs, device, {}, again.extras).ii_cycles,
              e.ii_cycles);
  }
}

}  // namespace hao::hw

namespace hao::hw {

// A folding file for another network: one message per node type left over, not one per node.
TEST(FoldingIo, AFileForAnotherNetworkSaysSoOncePerNodeType) {
  const test::FinnDesign& cnv = test::kFinnDesigns[0];
  const test::FinnDesign& mobilenet = test::kFinnDesigns[8];
  if (test::missing_data(mobilenet.folding_path())) GTEST_SKIP();
  try {
    read_folding(mobilenet.folding_path(), cnv.network(), cnv.device_at_clock());
    FAIL();
  } catch (const core::InputError& e) {
    const std::string all = core::join(e.problems(), "\n");
    EXPECT_LE(e.problems().size(), 8u) << all;
    EXPECT_NE(all.find("VVAU_hls_0 ... VVAU_hls_12: 13 entries name no node of "),
              std::string::npos)
        << all;
    EXPECT_NE(all.find("(a folding file for another network?)"), std::string::npos) << all;
  }
}

}  // namespace hao::hw

namespace hao::hw {

// A window unit's line buffer where its ram_style puts it (FINN's ConvolutionInputGenerator_rtl
// estimates): LUTs for distributed, RAMB18s for block (and auto), URAM for ultra; written back
// as read.
TEST(FoldingIo, WindowUnitLineBufferFollowsItsRamStyle) {
  ir::Network net;
  net.name = "wide";
  net.input = {64, 32, 32};
  net.layers.push_back(test::conv("c0", ir::kNetworkInput, 16, 3));
  ir::infer_shapes(net, "t");
  Device device = load_device("zu7ev");
  auto swu = [&](const char* style) {
    const FoldingFile f = read_folding(
        write(std::string(R"({"ConvolutionInputGenerator_rtl_0": {"SIMD": 8, "ram_style": ")") +
              style + R"("}, "MVAU_hls_0": {"PE": 1, "SIMD": 8}})"),
        net, device);
    const LayerCost c = layer_cost(net.layers[0], f.configs[0], device, {});
    EXPECT_NE(folding_json(net, f.configs, device, {}, f.node_names, f.extras)
                  .find(std::string("\"ram_style\": \"") +
                        (std::string(style) == "auto" ? "block" : style) + "\""),
              std::string::npos)
        << style;
    for (const NodeCost& n : c.nodes)
      if (n.op == FinnOp::kSwu) return n.res;
    ADD_FAILURE() << "no window unit";
    return Resources{};
  };
  // 8 lanes of 8 bits, ((3 - 1) * 34 + 3) * 64 / 8 = 568 words deep (34: the padded width).
  const Resources lut = swu("distributed"), bram = swu("block"), uram = swu("ultra");
  EXPECT_EQ(lut.lut, 300 + 64 * 15);  // ceil(568 / 38) = 15
  EXPECT_EQ(lut.bram36, 0);
  EXPECT_EQ(bram.lut, 300);
  EXPECT_EQ(bram.bram36, 2);  // 64 bits / 18 per RAMB18 at 568 words = 4 RAMB18
  EXPECT_EQ(swu("auto").bram36, 2);
  EXPECT_EQ(uram.uram, 1);
  EXPECT_THROW(swu("flash"), core::InputError);
}

}  // namespace hao::hw
