#include "hw/folding_io.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
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

}  // namespace

TEST(FoldingIo, NamesFollowFinnOrder) {
  const auto names = finn_node_names(mixed());
  EXPECT_EQ(names, (std::vector<std::string>{"MVAU_hls_0", "Thresholding_hls_0", "VVAU_hls_0",
                                             "MVAU_hls_1"}));
}

TEST(FoldingIo, RoundTrips) {
  const ir::Network net = mixed();
  Device d;
  d.uram = 4;
  // Every memory as chosen, whatever its depth: c0 holds 72 x 16 words per PE in UltraRAM,
  // dw 3 words in BRAM, c1 16 x 8 words in LUTRAM.
  std::vector<LayerConfig> configs = {{1, 1, MacMapping::kDsp, WeightMemory::kUram},
                                      {1, 2, MacMapping::kLut, WeightMemory::kBram},
                                      {3, 16, MacMapping::kLut, WeightMemory::kBram},
                                      {1, 1, MacMapping::kDsp, WeightMemory::kLutram}};
  const std::string text = folding_json(net, configs);
  FoldingFile back = read_folding(write(text), net, d);
  EXPECT_EQ(back.configs, configs);
  EXPECT_TRUE(back.notes.empty());
  const auto j = nlohmann::json::parse(text);
  EXPECT_EQ(j["MVAU_hls_0"]["ram_style"], "ultra");
  EXPECT_EQ(j["VVAU_hls_0"]["ram_style"], "block");
  EXPECT_EQ(j["MVAU_hls_1"]["ram_style"], "distributed");
}

TEST(FoldingIo, AcceptsFinnNamesAndNotesTheRest) {
  const ir::Network net = mixed();
  const std::string text = R"({
    "Defaults": {},
    "MatrixVectorActivation_0": {"PE": 2, "SIMD": 9, "resType": "lut"},
    "VVAU_rtl_0": {"PE": 4, "SIMD": 3},
    "ConvolutionInputGenerator_0": {"SIMD": 9},
    "StreamingFIFO_3": {"depth": 32}
  })";
  FoldingFile f = read_folding(write(text), net, Device{});
  EXPECT_EQ(f.configs[0].pe, 2);
  EXPECT_EQ(f.configs[0].simd, 9);
  EXPECT_EQ(f.configs[0].mac, MacMapping::kLut);
  EXPECT_EQ(f.configs[2].pe, 4);
  EXPECT_EQ(f.configs[3].pe, 1);  // not in the file: FINN's default
  EXPECT_EQ(f.notes.size(), 3u);  // two skipped FINN nodes, one missing layer
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
  EXPECT_TRUE(f.notes.empty());
  EXPECT_EQ(f.configs[0].memory, WeightMemory::kBram);    // 1 word per PE, as asked
  EXPECT_EQ(f.configs[2].memory, WeightMemory::kLutram);  // auto, 1 word per PE
  EXPECT_EQ(f.configs[3].memory, WeightMemory::kLutram);  // 128 words per PE, as asked
  // Left out: PE = SIMD = 1 and auto, so c1's 128 words per PE go to BRAM.
  FoldingFile g = read_folding(write(R"({"MVAU_hls_0": {"PE": 16, "SIMD": 72}})"), net, Device{});
  EXPECT_EQ(g.configs[0].memory, WeightMemory::kLutram);
  EXPECT_EQ(g.configs[3].memory, WeightMemory::kBram);
  const Resources shallow_bram = layer_cost(net.layers[0], f.configs[0], Device{}, {}).res;
  EXPECT_GT(shallow_bram.bram36, 0);
  LayerConfig in_luts = f.configs[0];
  in_luts.memory = WeightMemory::kLutram;
  const Resources shallow_lut = layer_cost(net.layers[0], in_luts, Device{}, {}).res;
  EXPECT_EQ(shallow_lut.bram36, 0);
  EXPECT_GT(shallow_lut.lut, shallow_bram.lut);
}

TEST(FoldingIo, IllegalValuesNameNodeAndNumbers) {
  const ir::Network net = mixed();
  try {
    read_folding(write(R"({"MVAU_hls_0": {"PE": 5, "SIMD": 9}, "MVAU_hls_9": {"PE": 1},
                         "MVAU_hls_1": {"PE": "x"}})"),
                 net, Device{});
    FAIL();
  } catch (const core::InputError& e) {
    ASSERT_EQ(e.problems().size(), 3u);
    EXPECT_NE(e.problems()[0].find("MVAU_hls_0: layer 'c0': PE 5 does not divide 16"),
              std::string::npos)
        << e.problems()[0];
    EXPECT_NE(e.problems()[1].find("MVAU_hls_1.PE: '\"x\"'"), std::string::npos) << e.problems()[1];
    EXPECT_NE(e.problems()[2].find("MVAU_hls_9: the network has no such layer"), std::string::npos);
  }
  EXPECT_THROW(read_folding(write("{not json"), net, Device{}), core::InputError);
}

}  // namespace hao::hw
