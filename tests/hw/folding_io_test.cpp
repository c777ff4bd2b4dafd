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
  std::vector<LayerConfig> configs = {{1, 1, MacMapping::kDsp, WeightMemory::kUram},
                                      {1, 2, MacMapping::kLut, WeightMemory::kBram},
                                      {3, 16, MacMapping::kLut, WeightMemory::kBram},
                                      {1, 1, MacMapping::kDsp, WeightMemory::kBram}};
  const std::string text = folding_json(net, configs);
  FoldingFile back = read_folding(write(text), net, d);
  EXPECT_EQ(back.configs, configs);
  EXPECT_TRUE(back.notes.empty());
  // ram_style says where the cost model put the weights: c0 holds 72 x 16 words per PE in
  // UltraRAM, dw 3 words (LUTRAM, whatever the config's memory), c1 16 x 8 words in BRAM.
  const auto j = nlohmann::json::parse(text);
  EXPECT_EQ(j["MVAU_hls_0"]["ram_style"], "ultra");
  EXPECT_EQ(j["VVAU_hls_0"]["ram_style"], "distributed");
  EXPECT_EQ(j["MVAU_hls_1"]["ram_style"], "block");
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

// A ram_style the model's depth rule overrides is read, and said in a note.
TEST(FoldingIo, NotesRamStyleTheDepthRuleOverrides) {
  const ir::Network net = mixed();
  const std::string text = R"({
    "MVAU_hls_0": {"PE": 16, "SIMD": 72, "ram_style": "block"},
    "VVAU_hls_0": {"PE": 16, "SIMD": 9, "ram_style": "distributed"},
    "MVAU_hls_1": {"PE": 1, "SIMD": 1, "ram_style": "distributed"}
  })";
  FoldingFile f = read_folding(write(text), net, Device{});
  ASSERT_EQ(f.notes.size(), 2u);
  EXPECT_NE(f.notes[0].find("MVAU_hls_0 (layer 'c0'): ram_style block on 1 word per PE is "
                            "costed as LUTRAM"),
            std::string::npos)
      << f.notes[0];
  EXPECT_NE(f.notes[1].find("MVAU_hls_1 (layer 'c1'): ram_style distributed on 128 words per "
                            "PE is costed as BRAM"),
            std::string::npos)
      << f.notes[1];
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
