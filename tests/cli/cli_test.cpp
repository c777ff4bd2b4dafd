#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "cli/app.hpp"
#include "cli/common.hpp"
#include "cli/run_hao.hpp"
#include "core/csv.hpp"
#include "core/text.hpp"
#include "support.hpp"

namespace hao::cli {
namespace {

using test::hao;
using test::HaoRun;

std::string fixture(const std::string& name) { return std::string(HAO_FIXTURES) + "/" + name; }

}  // namespace

TEST(Cli, HelpDocumentsExitCodes) {
  HaoRun r = hao({"map", "--help"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_NE(r.out.find("Exit codes"), std::string::npos);
  EXPECT_NE(r.out.find("--target-fps"), std::string::npos);
}

TEST(Cli, MissingSubcommandIsBadInput) {
  HaoRun r = hao({});
  EXPECT_EQ(r.code, kExitBadInput);
  EXPECT_NE(r.err.find("hao: error:"), std::string::npos);
}

TEST(Cli, DefaultMapRunsTheBuiltInExample) {
  HaoRun r = hao({"map"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_NE(r.out.find("fmnist_mbv2"), std::string::npos);
  EXPECT_NE(r.out.find("ilp: optimal"), std::string::npos);
  EXPECT_NE(r.out.find("bottleneck"), std::string::npos);
}

TEST(Cli, BadInputsExitTwoWithOneClearMessage) {
  struct Case {
    std::vector<std::string> args;
    std::string expect;
  };
  const std::vector<Case> cases = {
      {{"map", "/no/such/net.onnx"}, "/no/such/net.onnx: cannot open file"},
      {{"map", fixture("reference.json")}, "reference.json"},
      {{"map", "model.txt"}, "unknown model format '.txt'"},
      {{"map", "--device", "zu99"}, "unknown device 'zu99'"},
      {{"map", "--bits", "w0a4"}, "weight and activation bits must be within 1..16"},
      {{"map", "--method", "magic"}, "--method"},
      {{"map", "--target-fps", "-3"}, "--target-fps"},
      {{"map", "--time-limit", "0"}, "--time-limit: expected a number > 0, got '0'"},
      {{"search", "--ilp-time-limit", "0"}, "--ilp-time-limit: expected a number > 0, got '0'"},
      {{"map", "--folding", "/no/such/folding.json"}, "/no/such/folding.json"},
      {{"map", "--template", "systolic"}, "--template"},
      {{"map", "--template", "engine", "--method", "greedy"}, "applies to --template dataflow"},
      {{"map", "--template", "engine", "--pareto", "4"}, "--pareto applies"},
      {{"map", "--latency-model", "m.json"}, "applies to --template engine only"},
      {{"map", "--template", "engine", "--latency-model", "/no/such/model.json"},
       "/no/such/model.json: cannot open file"},
      {{"map", "--template", "engine", "--latency-model", fixture("reference.json")},
       "reference.json"},
  };
  for (const auto& c : cases) {
    HaoRun r = hao(c.args);
    EXPECT_EQ(r.code, kExitBadInput) << c.args.back() << ": " << r.err;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("terminate"), std::string::npos);
  }
}

TEST(Cli, TrainRejectsBadDataAndCheckpoints) {
  if (!HAO_HAS_TORCH) {
    EXPECT_EQ(hao({"train"}).code, kExitFailure);  // says it was built without LibTorch
    return;
  }
  HaoRun r = hao({"train", "--data", "idx:/no/such/dir"});
  EXPECT_EQ(r.code, kExitBadInput);
  EXPECT_NE(r.err.find("/no/such/dir/train-images-idx3-ubyte[.gz]: no such file"),
            std::string::npos)
      << r.err;
  r = hao({"train", "--data", "mnist"});
  EXPECT_EQ(r.code, kExitBadInput);
  EXPECT_NE(r.err.find("expected fashion-mnist, idx:DIR or cifar10:DIR"), std::string::npos);
  r = hao({"train", "--init", fixture("reference.json"), "--data", "idx:/no/such/dir"});
  EXPECT_EQ(r.code, kExitBadInput);
  r = hao({"train", "--epochs", "0"});
  EXPECT_EQ(r.code, kExitBadInput);
  r = hao({"profile", "--repeats", "3", "--warmup", "1", "--threads", "1"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_NE(r.out.find("frames/s at batch 1"), std::string::npos);
  EXPECT_NE(r.out.find("sum of layers"), std::string::npos);
  EXPECT_EQ(hao({"profile", "--repeats", "0"}).code, kExitBadInput);
  EXPECT_EQ(hao({"sensitivity", "--out", "s.json"}).code, kExitBadInput);  // no checkpoint
  r = hao({"sensitivity", "--checkpoint", "/no/such.pt", "--out", "s.json"});
  EXPECT_EQ(r.code, kExitBadInput);
  EXPECT_NE(r.err.find("/no/such.pt: cannot open file"), std::string::npos) << r.err;
  EXPECT_EQ(
      hao({"sensitivity", "--checkpoint", "c.pt", "--out", "s.json", "--bits-choices", "1,4"}).code,
      kExitBadInput);
  EXPECT_EQ(hao({"profile", "--checkpoint", fixture("reference.json")}).code, kExitBadInput);
}

TEST(Cli, StaticBatchOnnxMapsWithANote) {
  const HaoRun r =
      hao({"map", std::string(HAO_FIXTURES) + "/fmnist_mbv2_eval_b2.onnx", "--bits", "w4a4"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_NE(r.err.find("hao: note: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("static batch of 2; hao ignores the batch size"), std::string::npos);
}

TEST(Cli, MobileNetV2DoesNotFitOnZu3eg) {
  HaoRun r = hao({"map", fixture("mobilenet_v2.onnx"), "--device", "zu3eg", "--bits", "w4a4"});
  EXPECT_EQ(r.code, kExitInfeasible);
  EXPECT_NE(r.err.find("do not fit on chip"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("BRAM36"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("zu3eg"), std::string::npos) << r.err;
}

TEST(Cli, MobileNetV2FitsOnZu9egAndRoundTripsItsFolding) {
  const std::string json = ::testing::TempDir() + "mbv2.json";
  const std::string folding = ::testing::TempDir() + "mbv2_folding.json";
  HaoRun r = hao({"map", fixture("mobilenet_v2.onnx"), "--device", "zu9eg", "--bits", "w4a4",
                  "--json", json, "--folding-out", folding});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  const auto j = nlohmann::json::parse(core::read_file(json));
  EXPECT_EQ(j["status"], "optimal");
  EXPECT_TRUE(j["feasible"].get<bool>());
  EXPECT_LE(j["total"]["dsp"].get<double>(), j["device"]["usable"]["dsp"].get<double>());
  EXPECT_LE(j["total"]["bram36"].get<double>(), j["device"]["usable"]["bram36"].get<double>());
  EXPECT_EQ(j["layers"].size(), j["network"]["layers"].get<std::size_t>());
  // Evaluating the written folding gives the same design.
  HaoRun given = hao({"map", fixture("mobilenet_v2.onnx"), "--device", "zu9eg", "--bits", "w4a4",
                      "--folding", folding, "--json", json});
  ASSERT_EQ(given.code, kExitOk) << given.err;
  const auto g = nlohmann::json::parse(core::read_file(json));
  EXPECT_EQ(g["ii_cycles"], j["ii_cycles"]);
  EXPECT_EQ(g["total"], j["total"]);
}

// A FINN user's design beside hao's optimum in its resources and FINN's SetFolding at its speed.
TEST(Cli, FoldingCompareShowsTheFileHaoAndSetFoldingSideBySide) {
  const std::string file = std::string(HAO_SHARED_DATA) +
                           "/finn-examples/bnn-pynq/folding_config/cnv-w1a2_folding_config.json";
  if (hao::test::missing_data(file)) GTEST_SKIP();
  const std::string json = ::testing::TempDir() + "cnv_compare.json";
  const std::string folding = ::testing::TempDir() + "cnv_compare_folding.json";
  const std::vector<std::string> model = {"map",      fixture("finn_cnv.onnx"),
                                          "--device", "xc7z020",
                                          "--bits",   fixture("finn_bits/cnv-w1a2.yaml")};
  std::vector<std::string> args = model;
  for (const char* a : {"--folding", file.c_str(), "--compare", "--json", json.c_str(),
                        "--folding-out", folding.c_str()})
    args.push_back(a);
  HaoRun r = hao(args);
  ASSERT_EQ(r.code, kExitOk) << r.err;
  for (const char* row :
       {"FINN folding file", "hao optimal, same resources", "FINN SetFolding, same II"})
    EXPECT_NE(r.out.find(row), std::string::npos) << row;
  const auto j = nlohmann::json::parse(core::read_file(json));
  EXPECT_GE(j["optimal"]["fps"].get<double>(), j["folding_file"]["fps"].get<double>());
  EXPECT_LE(j["optimal"]["total"]["lut"].get<double>(),
            j["folding_file"]["total"]["lut"].get<double>());
  EXPECT_EQ(j["set_folding"]["method"], "greedy");
  // --folding-out holds hao's design: evaluated, it is the optimum the comparison reported.
  args = model;
  for (const char* a : {"--folding", folding.c_str(), "--json", json.c_str()}) args.push_back(a);
  HaoRun again = hao(args);
  ASSERT_EQ(again.code, kExitOk) << again.err;
  EXPECT_EQ(nlohmann::json::parse(core::read_file(json))["ii_cycles"], j["optimal"]["ii_cycles"]);
  // --compare needs a design.
  args = model;
  args.push_back("--compare");
  HaoRun bad = hao(args);
  EXPECT_EQ(bad.code, kExitBadInput);
  EXPECT_NE(bad.err.find("--compare needs a design to compare with: --folding FILE"),
            std::string::npos)
      << bad.err;
}

TEST(Cli, EngineTemplateMapsMobileNetV2OnZu3eg) {
  const std::string json = ::testing::TempDir() + "mbv2_engine.json";
  HaoRun r = hao({"map", fixture("mobilenet_v2.onnx"), "--template", "engine", "--device", "zu3eg",
                  "--json", json});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  for (const char* column : {"tiling", "compute", "memory", "binds", "DDR KiB", "fused"})
    EXPECT_NE(r.out.find(column), std::string::npos) << column;
  const auto j = nlohmann::json::parse(core::read_file(json));
  EXPECT_EQ(j["template"], "engine");
  EXPECT_EQ(j["status"], "optimal");
  EXPECT_LE(j["total"]["dsp"].get<double>(), j["device"]["usable"]["dsp"].get<double>());
  EXPECT_LE(j["total"]["bram36"].get<double>(), j["device"]["usable"]["bram36"].get<double>());
  double cycles = 0;
  for (const auto& s : j["steps"]) cycles += s["cycles"].get<double>();
  EXPECT_NEAR(cycles, j["cycles"].get<double>(), 1e-6 * cycles);
  EXPECT_NEAR(j["fps"].get<double>() * j["latency_ms"].get<double>(), 1000, 1e-6);
  // Asking for more than the fastest design reaches is exit 3, with the reachable fps.
  HaoRun fast = hao({"map", fixture("mobilenet_v2.onnx"), "--template", "engine", "--device",
                     "zu3eg", "--target-fps", "100000"});
  EXPECT_EQ(fast.code, kExitInfeasible);
  EXPECT_NE(fast.err.find("the fastest engine design reaches"), std::string::npos) << fast.err;
}

TEST(Cli, PinnedDpuWithCalibratedModel) {
  const std::string data = std::string(HAO_SHARED_DATA) + "/accel-nasbench/calibration.csv";
  if (hao::test::missing_data(data)) GTEST_SKIP() << "reference data not found: " << data;
  const std::string device = std::string(HAO_EXAMPLES) + "/devices/zcu102_dpu_b4096.yaml";
  const std::string model = ::testing::TempDir() + "engine_model.json";
  ASSERT_EQ(hao({"calibrate", "--kind", "engine", "--device", device, "--space", "anb",
                 "--measurements", data, "--column", "zcu102_latency_ms", "--out", model})
                .code,
            kExitOk);
  HaoRun r = hao({"map", fixture("mnasnet1_0.onnx"), "--template", "engine", "--device", device,
                  "--latency-model", model});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_NE(r.out.find("conv 8 px x 16 in x 16 out"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("pinned by the device"), std::string::npos);
  EXPECT_NE(r.out.find("calibrated"), std::string::npos);
}

TEST(Cli, PinnedEngineThatExceedsTheDeviceIsBadInput) {
  const std::string device = ::testing::TempDir() + "small_dpu.yaml";
  std::ofstream(device) << "name: small\nlut: 70560\nbram36: 216\ndsp: 360\n"
                           "engine: {pp: 8, pi: 16, po: 16}\n";
  HaoRun r = hao({"map", "--template", "engine", "--device", device});
  EXPECT_EQ(r.code, kExitBadInput) << r.out;
  EXPECT_NE(r.err.find("the pinned engine (pp 8, pi 16, po 16) does not fit"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("DSP"), std::string::npos) << r.err;
}

// A NAS-Bench-201 cell as the model: mapped like any network; a cut cell is bad input.
TEST(Cli, Nb201GenotypeAsModel) {
  HaoRun r = hao({"map",
                  "nb201:|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_"
                  "conv_1x1~1|nor_conv_3x3~2|",
                  "--template", "engine", "--device", "zu3eg"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_NE(r.out.find("network  nb201: 183 layers"), std::string::npos) << r.out;
  HaoRun cut = hao({"map", "nb201:|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"});
  EXPECT_EQ(cut.code, kExitBadInput);
  EXPECT_NE(cut.err.find("has no path from input to output"), std::string::npos) << cut.err;
}

// A search space's network by its label, as hao search reports it: the design the study
// priced (evaluation 0 of the seed-1 random densenet study: 28,344.7 fps on zu3eg).
TEST(Cli, SpaceLabelAsModel) {
  const std::string label = "c0:w16,d2,t2,b4;c1:w16,d4,t0,b8;c2:w24,d1,t0,b8";
  HaoRun r = hao({"map", "fmnist-densenet:" + label, "--device", "zu3eg"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_NE(r.out.find("network  fmnist-densenet: 23 layers"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("28344.7 fps"), std::string::npos) << r.out;
  HaoRun bad = hao({"map", "fmnist-densenet:c0:w17,d2,t2,b4;c1:w16,d4,t0,b8;c2:w24,d1,t0,b8"});
  EXPECT_EQ(bad.code, kExitBadInput);
  EXPECT_NE(bad.err.find("c0.width = '17', expected one of 8, 16, 24, 32"), std::string::npos)
      << bad.err;
}

TEST(Cli, CalibrateThenPredictRoundTrip) {
  const std::string data = std::string(HAO_SHARED_DATA) + "/accel-nasbench/calibration.csv";
  if (hao::test::missing_data(data)) GTEST_SKIP() << "reference data not found: " << data;
  const std::string model = ::testing::TempDir() + "lut.json";
  const std::string predictions = ::testing::TempDir() + "predicted.csv";
  // Both model kinds go through calibrate and back through predict.
  const std::string device = std::string(HAO_EXAMPLES) + "/devices/zcu102_dpu_b4096.yaml";
  for (const std::string kind : {"lut", "engine"}) {
    HaoRun r = hao({"calibrate", "--kind", kind, "--device", device, "--space", "anb",
                    "--measurements", data, "--column", "zcu102_latency_ms", "--out", model});
    ASSERT_EQ(r.code, kExitOk) << kind << ": " << r.err;
    EXPECT_NE(r.out.find("5-fold CV"), std::string::npos);
    HaoRun p = hao({"predict", "--model", model, "--archs", data, "--out", predictions});
    ASSERT_EQ(p.code, kExitOk) << kind << ": " << p.err;
    const std::string csv = core::read_file(predictions);
    EXPECT_NE(csv.find("predicted_latency_ms"), std::string::npos);
    EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 514);
    const core::CsvTable table = core::parse_csv(csv, predictions);
    const std::size_t col = table.column("predicted_latency_ms");
    for (const auto& row : table.rows) EXPECT_FALSE(row[col].empty()) << kind;
  }
  HaoRun bad = hao(
      {"calibrate", "--space", "anb", "--measurements", data, "--column", "fps", "--out", model});
  EXPECT_EQ(bad.code, kExitBadInput);
  EXPECT_NE(bad.err.find("no column 'fps'"), std::string::npos);
  HaoRun mlp_option = hao({"calibrate", "--space", "anb", "--measurements", data, "--column",
                           "zcu102_latency_ms", "--hidden", "32", "--out", model});
  EXPECT_EQ(mlp_option.code, kExitBadInput);
  EXPECT_NE(mlp_option.err.find("apply to --kind mlp only"), std::string::npos) << mlp_option.err;
  HaoRun decay_option = hao({"calibrate", "--space", "anb", "--measurements", data, "--column",
                             "zcu102_latency_ms", "--weight-decay", "0.1", "--out", model});
  EXPECT_EQ(decay_option.code, kExitBadInput);
  EXPECT_NE(decay_option.err.find("--weight-decay"), std::string::npos) << decay_option.err;
  HaoRun negative_decay =
      hao({"calibrate", "--kind", "mlp", "--space", "anb", "--measurements", data, "--column",
           "zcu102_latency_ms", "--weight-decay", "0.1,-1", "--out", model});
  EXPECT_EQ(negative_decay.code, kExitBadInput);
  EXPECT_NE(negative_decay.err.find("--weight-decay"), std::string::npos) << negative_decay.err;
  HaoRun not_model = hao({"predict", "--model", data, "--archs", data});
  EXPECT_EQ(not_model.code, kExitBadInput);
}

// A sensitivity file for the built-in example as hao sensitivity writes it: Omega falls with
// the bits and with depth (deeper layers matter less).
std::string synthetic_sensitivity(const std::string& name, const std::string& network) {
  const ir::Network net = load_model("", std::cerr);
  nlohmann::json j;
  j["network"] = network;
  j["layers"] = nlohmann::json::array();
  for (std::size_t l = 0; l < net.layers.size(); ++l)
    if (net.layers[l].has_weights()) {
      const double t = 1.0 / static_cast<double>(l + 1);
      j["layers"].push_back({{"name", net.layers[l].name},
                             {"params", net.layers[l].weights()},
                             {"trace", t},
                             {"omega", {{"2", 16 * t}, {"4", 4 * t}, {"8", 0.1 * t}}}});
    }
  const std::string path = ::testing::TempDir() + name;
  core::write_file(path, j.dump());
  return path;
}

TEST(Cli, QuantizeChoosesBitsWithTheFolding) {
  const std::string s = synthetic_sensitivity("quantize_s.json", "fmnist_mbv2");
  const std::string json = ::testing::TempDir() + "quantize_out.json";
  const std::string bits = ::testing::TempDir() + "quantize_bits.yaml";
  HaoRun r = hao({"quantize", "--sensitivity", s, "--bits-choices", "2,4,8", "--fps", "90000",
                  "--json", json, "--bits-out", bits});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_NE(r.out.find("summed Omega"), std::string::npos);
  const nlohmann::json j = nlohmann::json::parse(core::read_file(json));
  ASSERT_TRUE(j["design"]["feasible"].get<bool>());
  EXPECT_GE(j["design"]["fps"].get<double>(), 90000);
  // At this speed neither all 8-bit nor all 2-bit: a mix, and the first and last layers kept.
  std::set<int> widths;
  for (const auto& l : j["design"]["layers"])
    if (l["chosen"].get<bool>()) widths.insert(l["weight_bits"].get<int>());
  EXPECT_GE(widths.size(), 2u);
  EXPECT_FALSE(j["design"]["layers"][0]["chosen"].get<bool>());
  // The bits file maps the design back onto the network: hao map at those bits fits too.
  HaoRun m = hao({"map", "--bits", bits, "--target-fps", "90000"});
  EXPECT_EQ(m.code, kExitOk) << m.err;
}

// A latency target on the dataflow template counts the pipeline fill, not only the II.
TEST(Cli, QuantizeMeetsALatencyTarget) {
  const std::string s = synthetic_sensitivity("latency_s.json", "fmnist_mbv2");
  const std::string json = ::testing::TempDir() + "latency_out.json";
  HaoRun r = hao({"quantize", "--sensitivity", s, "--bits-choices", "2,4,8", "--latency-ms", "0.06",
                  "--json", json});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  const nlohmann::json j = nlohmann::json::parse(core::read_file(json));
  EXPECT_LE(j["design"]["latency_ms"].get<double>(), 0.06);
  EXPECT_GT(j["design"]["latency_ms"].get<double>(), 0.045);  // not needlessly fast
  EXPECT_EQ(hao({"quantize", "--sensitivity", s, "--latency-ms", "0.01"}).code, kExitInfeasible);
  // A speed the device cannot reach at any allocation: the interval it was asked for, and the
  // fastest it reaches.
  const HaoRun fast = hao({"quantize", "--sensitivity", s, "--fps", "400000"});
  EXPECT_EQ(fast.code, kExitInfeasible);
  EXPECT_NE(fast.err.find("no bit allocation reaches the target: every allocation of these bit "
                          "choices needs more of zu3eg than it has, at 500 cycles a frame"),
            std::string::npos)
      << fast.err;
  EXPECT_NE(fast.err.find("the fastest design with these bit choices reaches"), std::string::npos);
}

TEST(Cli, QuantizeOnTheEngineTemplate) {
  const std::string s = synthetic_sensitivity("engine_s.json", "fmnist_mbv2");
  const std::string json = ::testing::TempDir() + "engine_quantize.json";
  // Between the fastest all-8-bit engine design and the fastest at 2 bits.
  HaoRun r = hao({"quantize", "--template", "engine", "--sensitivity", s, "--bits-choices", "2,4,8",
                  "--fps", "5600", "--json", json});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_NE(r.out.find("fused"), std::string::npos);
  const nlohmann::json j = nlohmann::json::parse(core::read_file(json));
  EXPECT_GE(j["design"]["fps"].get<double>(), 5600);
  EXPECT_EQ(j["design"]["status"], "optimal");
  std::set<int> widths;
  for (const auto& l : j["design"]["layers"])
    if (l["chosen"].get<bool>()) widths.insert(l["weight_bits"].get<int>());
  EXPECT_GE(widths.size(), 2u);
  HaoRun slow = hao({"quantize", "--template", "engine", "--sensitivity", s, "--bits-choices",
                     "2,4,8", "--latency-ms", "1"});
  EXPECT_EQ(slow.code, kExitOk) << slow.err;
  EXPECT_NE(slow.out.find("w8a8 x19"), std::string::npos) << slow.out;
  HaoRun fast = hao({"quantize", "--template", "engine", "--sensitivity", s, "--fps", "1e6"});
  EXPECT_EQ(fast.code, kExitInfeasible);
  EXPECT_NE(fast.err.find("the fastest design with these bit choices reaches"), std::string::npos);
}

TEST(Cli, QuantizeSweepTradesOmegaForSpeed) {
  const std::string s = synthetic_sensitivity("sweep_s.json", "fmnist_mbv2");
  const std::string json = ::testing::TempDir() + "sweep_out.json";
  const std::string plot = ::testing::TempDir() + "sweep.svg";
  HaoRun r = hao({"quantize", "--sensitivity", s, "--bits-choices", "2,4,8", "--sweep",
                  "--sweep-points", "4", "--plot", plot, "--json", json});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  const nlohmann::json j = nlohmann::json::parse(core::read_file(json));
  ASSERT_GE(j["sweep"].size(), 3u);
  for (std::size_t k = 1; k < j["sweep"].size(); ++k) {
    EXPECT_GE(j["sweep"][k]["fps"].get<double>(), j["sweep"][k - 1]["fps"].get<double>());
    EXPECT_GE(j["sweep"][k]["omega"].get<double>(), j["sweep"][k - 1]["omega"].get<double>());
  }
  EXPECT_NE(core::read_file(plot).find("<polyline"), std::string::npos);
}

TEST(Cli, QuantizeBadInputs) {
  const std::string s = synthetic_sensitivity("bad_s.json", "fmnist_mbv2");
  const std::string other = synthetic_sensitivity("other_s.json", "resnet18");
  // One term no double holds, and one a double holds but the program cannot rank against.
  nlohmann::json damaged = nlohmann::json::parse(core::read_file(s));
  damaged["layers"][2]["omega"]["4"] = 1e300;
  const std::string huge = ::testing::TempDir() + "huge_s.json";
  core::write_file(huge, damaged.dump());
  const std::string overflow = ::testing::TempDir() + "overflow_s.json";
  std::string text = damaged.dump();
  text.replace(text.find("1e+300"), 6, "1e400");
  core::write_file(overflow, text);
  struct Case {
    std::vector<std::string> args;
    int code;
    std::string expect;
  };
  const std::vector<Case> cases = {
      {{"quantize", "--sensitivity", other, "--fps", "1000"},
       kExitBadInput,
       "is for network 'resnet18'"},
      {{"quantize", "--sensitivity", s, "--fps", "1000", "--bits-choices", "4,9"},
       kExitBadInput,
       "outside 2..8"},
      {{"quantize", "--sensitivity", s, "--fps", "1000", "--bits-choices", "3"},
       kExitBadInput,
       "no Omega at 3 bits"},
      {{"quantize", "--sensitivity", s, "--fps", "1000", "--tie", "b0_expand,nosuch"},
       kExitBadInput,
       "names layer 'nosuch'"},
      {{"quantize", "--sensitivity", s}, kExitBadInput, "give a target"},
      {{"quantize", "--fps", "1000"}, kExitBadInput, "--sensitivity FILE"},
      {{"quantize", "--sensitivity", "/no/such.json", "--fps", "1000"},
       kExitBadInput,
       "/no/such.json"},
      {{"quantize", "--sensitivity", huge, "--fps", "1000", "--bits-choices", "2,4,8"},
       kExitBadInput,
       "omega.4: is 1e+300, beyond 1e6"},
      {{"quantize", "--sensitivity", overflow, "--fps", "1000"},
       kExitBadInput,
       "overflow_s.json: not valid JSON (number overflow parsing '1e400')"},
      {{"quantize", "--sensitivity", s, "--fps", "1e9"},
       kExitInfeasible,
       "the fastest design with these bit choices reaches"},
      {{"quantize", "--sensitivity", s, "--fps", "1000", "--export", "exported"},
       kExitBadInput,
       "--export writes the fine-tuned dataflow design"},
      {{"export", "--checkpoint", "/no/such.pt", "--out", "x"},
       HAO_HAS_TORCH ? kExitBadInput : kExitFailure,
       HAO_HAS_TORCH ? "/no/such.pt" : "without LibTorch"},
  };
  for (const auto& c : cases) {
    HaoRun r = hao(c.args);
    EXPECT_EQ(r.code, c.code) << core::join(c.args, " ") << "\n" << r.err;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << core::join(c.args, " ") << "\n" << r.err;
  }
}

// The sensitivity reader on damaged files: every run ends with a design, a clear bad-input
// message or an unreachable target, never a crash.
TEST(Cli, QuantizeSurvivesDamagedSensitivityFiles) {
  const std::string good = core::read_file(synthetic_sensitivity("fuzz_s.json", "fmnist_mbv2"));
  const std::string path = ::testing::TempDir() + "fuzz_damaged.json";
  std::mt19937 rng(7);
  const std::string alphabet = "{}[]:,\"0123456789.-eE abcxyz\\";
  int bad = 0;
  for (int trial = 0; trial < 60; ++trial) {
    std::string text = good;
    const int edits = std::uniform_int_distribution<int>(1, 4)(rng);
    for (int e = 0; e < edits; ++e) {
      const auto at = std::uniform_int_distribution<std::size_t>(0, text.size() - 1)(rng);
      const char c =
          alphabet[std::uniform_int_distribution<std::size_t>(0, alphabet.size() - 1)(rng)];
      switch (std::uniform_int_distribution<int>(0, 2)(rng)) {
        case 0:
          text[at] = c;
          break;
        case 1:
          text.insert(at, 1, c);
          break;
        default:
          text.erase(at, 1);
      }
    }
    core::write_file(path, text);
    HaoRun r = hao({"quantize", "--sensitivity", path, "--fps", "20000"});
    EXPECT_TRUE(r.code == kExitOk || r.code == kExitBadInput || r.code == kExitInfeasible)
        << r.code << " " << r.err;
    if (r.code == kExitBadInput) {
      ++bad;
      EXPECT_NE(r.err.find(path), std::string::npos) << r.err;
    }
  }
  EXPECT_GT(bad, 10);
}

}  // namespace hao::cli

namespace hao::cli::test {
namespace {

TEST(Cli, BenchComparesStrategiesByHypervolumeRatio) {
  const std::string data = HAO_SHARED_DATA;
  const HaoRun r = hao({"bench", "anb", "--strategy", "random,hao", "--budget", "12", "--seeds",
                        "2", "--data", data, "--json", "-"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("512 architectures"), std::string::npos) << r.out;
  const auto j = nlohmann::json::parse(r.out.substr(r.out.find('{')));
  ASSERT_EQ(j["strategies"].size(), 2u);
  EXPECT_EQ(j["strategies"][1]["strategy"], "hao");
  EXPECT_EQ(j["strategies"][1]["ratios"].size(), 2u);
  EXPECT_EQ(j["strategies"][1]["evaluated"][0].size(), 12u);
  EXPECT_LE(j["strategies"][0]["max"].get<double>(), 1.0);
}

TEST(Cli, BenchWithWorkersEvaluatesWhatOneWorkerDoesForRandom) {
  // random's asks are seeded by (seed, told + pending): N workers on one study ask exactly the
  // candidates one worker asks, whatever the interleaving; hao still finds a front.
  const std::string data = HAO_SHARED_DATA;
  auto run = [&](const std::string& workers) {
    const HaoRun r = hao({"bench", "anb", "--strategy", "random,hao", "--budget", "16", "--seeds",
                          "1", "--workers", workers, "--data", data, "--json", "-"});
    EXPECT_EQ(r.code, 0) << r.err;
    return nlohmann::json::parse(r.out.substr(r.out.find('{')));
  };
  const auto one = run("1"), three = run("3");
  EXPECT_EQ(three["workers"], 3);
  auto sorted = [](nlohmann::json labels) {
    std::vector<std::string> v = labels.get<std::vector<std::string>>();
    std::sort(v.begin(), v.end());
    return v;
  };
  EXPECT_EQ(sorted(three["strategies"][0]["evaluated"][0]),
            sorted(one["strategies"][0]["evaluated"][0]));
  const auto hao_labels = sorted(three["strategies"][1]["evaluated"][0]);
  EXPECT_EQ(hao_labels.size(), 16u);
  EXPECT_EQ(std::adjacent_find(hao_labels.begin(), hao_labels.end()), hao_labels.end());
  EXPECT_GT(three["strategies"][1]["mean"].get<double>(), 0.5);
}

TEST(Cli, BenchBadInputs) {
  const std::string data = HAO_SHARED_DATA;
  auto bad = [&](std::vector<std::string> args, const std::string& needle) {
    args.insert(args.begin(), "bench");
    const HaoRun r = hao(args);
    EXPECT_EQ(r.code, 2) << r.out;
    EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
  };
  bad({"nb201", "--strategy", "tpe", "--data", data}, "unknown strategy 'tpe'");
  bad({"nb999"}, "nb999");
  bad({"nb201", "--budget", "0", "--data", data}, "--budget");
  bad({"nb201", "--latency", "nofile.csv", "--data", data}, "expected FILE:COLUMN");
  bad({"nb201", "--latency", data + "/nb201/latency_ms.csv:gpu9", "--data", data}, "gpu9");
  bad({"nb201", "--data", "/nonexistent"}, "/nonexistent");
  bad({"nb201", "--workers", "0", "--data", data}, "--workers: 0, expected 1..256");
}

}  // namespace
}  // namespace hao::cli::test

namespace hao::cli::test {
namespace {

namespace fs = std::filesystem;

std::string fresh_dir(const std::string& name) {
  const fs::path p =
      fs::temp_directory_path() / ("hao_cli_search_" + std::to_string(getpid()) + "_" + name);
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

std::vector<std::string> labels_of(const std::string& json_text) {
  const auto j = nlohmann::json::parse(json_text);
  std::vector<std::string> out;
  for (const auto& e : j["evaluations"]) out.push_back(e["genotype"]);
  return out;
}

TEST(Cli, SearchOnATabularSpaceWritesTheReportAndResumes) {
  const std::string dir = fresh_dir("tabular");
  const std::string db = dir + "/s.db", data = HAO_SHARED_DATA;
  HaoRun r = hao({"search", "--space", "nb201", "--budget", "12", "--storage", db, "--data", data,
                  "--out", dir + "/rep"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("new study 'nb201-hao-s1'"), std::string::npos) << r.out;
  for (const char* f : {"pareto.csv", "pareto.json", "index.html"})
    EXPECT_TRUE(fs::exists(dir + "/rep/" + f)) << f;
  const auto first = labels_of(core::read_file(dir + "/rep/pareto.json"));
  ASSERT_EQ(first.size(), 12u);
  // Extending the budget continues the same sequence as one longer run would.
  r = hao({"search", "--space", "nb201", "--budget", "20", "--storage", db, "--data", data, "--out",
           dir + "/rep"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("resuming study 'nb201-hao-s1'"), std::string::npos);
  r = hao({"search", "--space", "nb201", "--budget", "20", "--storage", db, "--data", data,
           "--study", "whole", "--out", dir + "/whole"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(labels_of(core::read_file(dir + "/rep/pareto.json")),
            labels_of(core::read_file(dir + "/whole/pareto.json")));
  // hao report rebuilds the same folder content from the store.
  const std::string csv = core::read_file(dir + "/rep/pareto.csv");
  fs::remove_all(dir + "/rep");
  r = hao({"report", "nb201-hao-s1", "--storage", db, "--out", dir + "/rep"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(core::read_file(dir + "/rep/pareto.csv"), csv);
}

TEST(Cli, SearchKilledWithSigkillResumesWithTheSameCandidates) {
  const std::string dir = fresh_dir("kill");
  const std::string db = dir + "/s.db", data = HAO_SHARED_DATA;
  const std::vector<std::string> common{"search", "--space",    "nb201", "--budget",
                                        "40",     "--storage",  db,      "--data",
                                        data,     "--strategy", "hao"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = common;
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };
  ASSERT_EQ(hao(with({"--study", "whole", "--out", dir + "/whole"})).code, 0);
  // The same study in a child process, killed once its first evaluations are stored (a busy
  // machine can let a 40-evaluation search finish between two peeks: then try again).
  std::size_t at_kill = 0;
  for (int attempt = 0; attempt < 12; ++attempt) {
    const std::string study = "killed" + std::to_string(attempt);
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      std::vector<std::string> args = with({"--study", study, "--out", dir + "/" + study});
      std::vector<char*> argv{const_cast<char*>(HAO_BINARY)};
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      freopen("/dev/null", "w", stdout);
      freopen("/dev/null", "w", stderr);
      execv(HAO_BINARY, argv.data());
      _exit(127);
    }
    for (int wait = 0; wait < 4000; ++wait) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      if (!fs::exists(db)) continue;
      const HaoRun peek = hao({"report", study, "--storage", db, "--out", dir + "/peek"});
      if (peek.code != 0) continue;
      at_kill = labels_of(core::read_file(dir + "/peek/pareto.json")).size();
      if (at_kill >= 1) break;
    }
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    const HaoRun after = hao({"report", study, "--storage", db, "--out", dir + "/peek"});
    const std::size_t stored =
        after.code == 0 ? labels_of(core::read_file(dir + "/peek/pareto.json")).size() : 0;
    if (!WIFSIGNALED(status) || stored == 0 || stored >= 40) continue;  // finished first: again
    const HaoRun resumed = hao(with({"--study", study, "--out", dir + "/" + study}));
    ASSERT_EQ(resumed.code, 0) << resumed.err;
    EXPECT_NE(resumed.out.find("resuming study '" + study + "'"), std::string::npos);
    EXPECT_EQ(labels_of(core::read_file(dir + "/" + study + "/pareto.json")),
              labels_of(core::read_file(dir + "/whole/pareto.json")));
    return;
  }
  FAIL() << "no attempt was killed mid-run";
}

TEST(Cli, SearchBadInputsLeaveTheStudyUntouched) {
  const std::string dir = fresh_dir("bad");
  const std::string db = dir + "/s.db", data = HAO_SHARED_DATA;
  ASSERT_EQ(hao({"search", "--space", "nb201", "--budget", "6", "--storage", db, "--data", data,
                 "--study", "x", "--out", dir + "/rep"})
                .code,
            0);
  const std::string before = core::read_file(dir + "/rep/pareto.json");
  auto bad = [&](std::vector<std::string> args, const std::string& needle) {
    const HaoRun r = hao(args);
    EXPECT_EQ(r.code, 2) << r.out << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
  };
  bad({"search", "--space", "nb201", "--storage", db, "--data", data, "--study", "x", "--seed",
       "2"},
      "exists with other settings");
  bad({"search", "--space", "nb201", "--storage", db, "--data", data, "--strategy", "tpe"},
      "unknown strategy 'tpe'");
  bad({"search", "--space", "nb201", "--storage", db, "--data", data, "--evaluator", "supernet"},
      "--evaluator supernet applies to generative spaces; nb201 is a table");
  std::ofstream(dir + "/space.yaml")
      << "name: x\nkind: mbv2\nstages: []\nchoices: {depth: []}\nfoo: 1\n";
  bad({"search", "--space", dir + "/space.yaml", "--storage", db}, "foo: unknown key");
  bad({"search", "--space", dir + "/space.yaml", "--storage", db},
      "choices.depth: expected a non-empty list");
  bad({"search", "--space", "no-such"}, "neither a built-in space");
  std::ofstream(dir + "/notes.txt") << "not a database";
  bad({"search", "--space", "nb201", "--storage", dir + "/notes.txt", "--data", data},
      "not a hao study store");
  EXPECT_EQ(core::read_file(dir + "/notes.txt"), "not a database");
  const std::string nowhere = "postgresql://me:secret@127.0.0.1:1/hao?connect_timeout=2";
  bad({"search", "--space", "nb201", "--storage", nowhere, "--data", data},
      "postgresql://me:***@127.0.0.1:1/hao?connect_timeout=2: cannot connect to the study store");
  bad({"report", "x", "--storage", nowhere}, "cannot connect to the study store");
  bad({"search", "--evaluation-delay", "1"}, "--evaluation-delay applies to tabular spaces");
  // The supernet is the default on mbv2 spaces only: elsewhere a warm start has nothing to take.
  bad({"search", "--space", "fmnist-densenet", "--warm-start", "--storage", db},
      "it needs --evaluator supernet on a generative space");
  bad({"search", "--space", "fmnist-densenet", "--evaluator", "supernet", "--storage", db},
      "supernets are built for mbv2 spaces only");
  bad({"report", "nope", "--storage", db}, "no study 'nope'");
  ASSERT_EQ(hao({"report", "x", "--storage", db, "--out", dir + "/rep"}).code, 0);
  EXPECT_EQ(core::read_file(dir + "/rep/pareto.json"), before);
}

}  // namespace
}  // namespace hao::cli::test
