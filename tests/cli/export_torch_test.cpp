// hao export with LibTorch: a quantization-aware checkpoint as QONNX, checked by an evaluator
// written apart from the exporter (tests/qonnx_reference.py, NumPy), read back by hao map, and
// its bad inputs (label `torch`).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "cli/app.hpp"
#include "cli/run_hao.hpp"
#include "core/text.hpp"
#include "ir/model_io.hpp"

namespace hao::cli {
namespace {

namespace fs = std::filesystem;
using test::hao;
using test::HaoRun;

// Runs the reference evaluator on an export folder; its JSON summary.
nlohmann::json reference(const std::string& dir) {
  const std::string cmd = "/usr/bin/python3 " + std::string(HAO_TESTS) + "/qonnx_reference.py " +
                          dir + "/model.qonnx.onnx " + dir + "/input.npy " + dir +
                          "/expected_output.npy --json";
  std::string text;
  if (FILE* p = popen(cmd.c_str(), "r")) {
    char buf[4096];
    while (std::fgets(buf, sizeof buf, p)) text += buf;
    pclose(p);
  }
  return nlohmann::json::parse(text, nullptr, false);
}

// The design fields `hao map --json` reports, for comparing two models' designs.
nlohmann::json design(const std::vector<std::string>& map_args) {
  const std::string json = ::testing::TempDir() + "export_design.json";
  std::vector<std::string> args = {"map"};
  args.insert(args.end(), map_args.begin(), map_args.end());
  args.insert(args.end(), {"--json", json});
  const HaoRun r = hao(args);
  EXPECT_EQ(r.code, kExitOk) << r.err;
  nlohmann::json j = nlohmann::json::parse(core::read_file(json));
  nlohmann::json layers = nlohmann::json::array();
  for (auto& l : j["layers"]) {
    l.erase("name");
    if (l["op"] != "conv" && l["op"] != "fc") l.erase("weight_bits");  // a field of no use there
    layers.push_back(l);
  }
  return {{"fps", j["fps"]}, {"total", j["total"]}, {"layers", layers}};
}

// One thread: CTest runs two tests at a time on two cores.
TEST(ExportTorch, QonnxAgreesWithHaosQuantizedInferenceAndMapsToTheSameDesign) {
  const std::string dir = ::testing::TempDir() + "export_torch";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string flt = dir + "/float.pt", w4 = dir + "/w4.pt", mixed = dir + "/mixed.pt";
  const std::string bits = dir + "/bits.yaml";
  HaoRun t = hao({"train", "--steps", "40", "--subset", "3840", "--validation", "1000", "--threads",
                  "1", "--out", flt});
  ASSERT_EQ(t.code, kExitOk) << t.err;
  t = hao({"train", "--init", flt, "--epochs", "0", "--bits", "w4a4", "--qat-steps", "20",
           "--subset", "3840", "--validation", "1000", "--threads", "1", "--out", w4});
  ASSERT_EQ(t.code, kExitOk) << t.err;

  // Uniform 4 bits: every top class agrees on 1,000 test images; where logits differ at all, a
  // value sat at a rounding tie.
  HaoRun e = hao(
      {"export", "--checkpoint", w4, "--bits", "w4a4", "--out", dir + "/w4", "--samples", "1000"});
  ASSERT_EQ(e.code, kExitOk) << e.err;
  for (const char* f : {"model.qonnx.onnx", "folding_config.json", "input.npy",
                        "expected_output.npy", "build.py", "README.md"})
    EXPECT_TRUE(fs::exists(dir + "/w4/" + f)) << f;
  nlohmann::json r = reference(dir + "/w4");
  ASSERT_TRUE(r.is_object()) << "the reference evaluator did not run";
  EXPECT_EQ(r["images"], 1000);
  EXPECT_EQ(r["top1_agree"], 1000);
  EXPECT_EQ(r["differ_without_tie"], 0);
  EXPECT_LT(r["logits_differ"].get<int>(), 50) << "more than rounding ties";
  // hao map reads the bits from the Quant nodes: the checkpoint's design.
  EXPECT_EQ(design({dir + "/w4/model.qonnx.onnx"}), design({"--bits", "w4a4"}));
  EXPECT_EQ(std::system(("/usr/bin/python3 -c \"import ast,sys; ast.parse(open(sys.argv[1]).read())"
                         "\" " +
                         dir + "/w4/build.py")
                            .c_str()),
            0)
      << "build.py is not valid Python";
  const std::string build = core::read_file(dir + "/w4/build.py");
  EXPECT_NE(build.find("board=\"Ultra96\""), std::string::npos);
  EXPECT_NE(build.find("folding_config_file=\"folding_config.json\""), std::string::npos);

  // A mixed design from hao quantize (2, 4 and 8 bits), fine-tuned at its bits.
  HaoRun q =
      hao({"quantize", "--sensitivity", std::string(HAO_EXAMPLES) + "/fmnist_mbv2_sensitivity.json",
           "--bits-choices", "2,4,8", "--fps", "85000", "--bits-out", bits});
  ASSERT_EQ(q.code, kExitOk) << q.err;
  t = hao({"train", "--init", flt, "--epochs", "0", "--bits", bits, "--qat-steps", "20", "--subset",
           "3840", "--validation", "1000", "--threads", "1", "--out", mixed});
  ASSERT_EQ(t.code, kExitOk) << t.err;
  e = hao({"export", "--checkpoint", mixed, "--bits", bits, "--out", dir + "/mixed", "--samples",
           "1000", "--target-fps", "85000"});
  ASSERT_EQ(e.code, kExitOk) << e.err;
  r = reference(dir + "/mixed");
  ASSERT_TRUE(r.is_object());
  EXPECT_EQ(r["top1_agree"], 1000);
  EXPECT_EQ(r["differ_without_tie"], 0);
  EXPECT_EQ(design({dir + "/mixed/model.qonnx.onnx", "--target-fps", "85000"}),
            design({"--bits", bits, "--target-fps", "85000"}));

  // Bad input: exit 2, nothing written.
  HaoRun b = hao({"export", "--checkpoint", w4, "--bits", "w8a8", "--out", dir + "/other"});
  EXPECT_EQ(b.code, kExitBadInput);
  EXPECT_NE(b.err.find("trained at other bits"), std::string::npos) << b.err;
  EXPECT_NE(b.err.find("--qat-epochs 1"), std::string::npos) << b.err;
  b = hao({"export", "--checkpoint", flt, "--out", dir + "/float"});
  EXPECT_EQ(b.code, kExitBadInput);
  EXPECT_NE(b.err.find("float weights only"), std::string::npos) << b.err;
  const std::string before = core::read_file(dir + "/w4/build.py");
  b = hao({"export", "--checkpoint", w4, "--bits", "w4a4", "--out", dir + "/w4"});
  EXPECT_EQ(b.code, kExitBadInput);
  EXPECT_NE(b.err.find("not empty (--force"), std::string::npos) << b.err;
  b = hao({"export",
           "nb201:|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|"
           "nor_conv_3x3~1|nor_conv_3x3~2|",
           "--checkpoint", w4, "--out", dir + "/nb"});
  EXPECT_EQ(b.code, kExitBadInput);
  EXPECT_NE(b.err.find("checkpoint of another network"), std::string::npos) << b.err;
  b = hao({"export", "--checkpoint", w4, "--bits", "w4a4", "--out", dir + "/slow", "--device",
           "zu2eg", "--target-fps", "1e9"});
  EXPECT_EQ(b.code, kExitInfeasible) << b.err;
  EXPECT_FALSE(fs::exists(dir + "/other") || fs::exists(dir + "/float") ||
               fs::exists(dir + "/nb") || fs::exists(dir + "/slow"));
  EXPECT_EQ(core::read_file(dir + "/w4/build.py"), before);
  b = hao({"export", "--checkpoint", w4, "--bits", "w4a4", "--out", dir + "/w4", "--force",
           "--device", "xc7z020"});
  EXPECT_EQ(b.code, kExitOk) << b.err;
  EXPECT_NE(core::read_file(dir + "/w4/build.py").find("board=\"Pynq-Z1\""), std::string::npos);
}

// A NAS-Bench-201 cell's network: its last batch norm, before the final ReLU and after the last
// cell's sum, where no conv can take it in, is exported as Mul and Add, the reference
// evaluator agrees with hao's quantized logits, and hao reads the pair back as that norm.
// PyTorch networks with GELUs (exported as Erf chains), a leaky ReLU and a tanh, nearest
// upsampling, transposed and dilated convolutions (tests/fixtures/make_fmnist_onnx.py): trained
// quantization-aware from the file's weights, exported as QONNX (each op written back as PyTorch
// writes it), which the reference evaluator runs to hao's logits and hao map reads as the same
// design (for the dilated convs, these two check the dilations the Conv nodes carry).
TEST(ExportTorch, ActivationsFromPyTorchTrainExportAndAgree) {
  const std::map<std::string, std::string> op_of = {{"gelus", "Erf"},
                                                    {"leaky_tanh", "LeakyRelu"},
                                                    {"upsampling", "Resize"},
                                                    {"transposed", "ConvTranspose"},
                                                    {"dilated", "Conv"}};
  for (const auto& [name, op] : op_of) {
    SCOPED_TRACE(name);
    const std::string dir = ::testing::TempDir() + "export_" + name;
    fs::remove_all(dir);
    fs::create_directories(dir);
    const std::string onnx = std::string(HAO_FIXTURES) + "/" + name + "_weights.onnx";
    HaoRun t =
        hao({"train", onnx, "--steps", "20", "--bits", "w4a4", "--qat-steps", "10", "--subset",
             "2000", "--validation", "500", "--threads", "1", "--out", dir + "/w4.pt"});
    ASSERT_EQ(t.code, kExitOk) << t.err;
    HaoRun e = hao({"export", onnx, "--checkpoint", dir + "/w4.pt", "--bits", "w4a4", "--out",
                    dir + "/w4", "--samples", "300"});
    ASSERT_EQ(e.code, kExitOk) << e.err;
    EXPECT_NE(core::read_file(dir + "/w4/model.qonnx.onnx").find(op), std::string::npos);
    const nlohmann::json r = reference(dir + "/w4");
    ASSERT_TRUE(r.is_object()) << "the reference evaluator did not run";
    EXPECT_EQ(r["top1_agree"], 300);
    EXPECT_EQ(r["differ_without_tie"], 0);
    EXPECT_EQ(design({dir + "/w4/model.qonnx.onnx"}), design({onnx, "--bits", "w4a4"}));
  }
}

TEST(ExportTorch, Nb201CellsLastBatchNormIsExportedAsMulAndAdd) {
  const std::string dir = ::testing::TempDir() + "export_nb201";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string cell =
      "nb201:|nor_conv_3x3~0|+|avg_pool_3x3~0|nor_conv_3x3~1|+|skip_connect~0|skip_connect~1|"
      "nor_conv_3x3~2|";
  const std::string flt = dir + "/float.pt", w4 = dir + "/w4.pt";
  HaoRun t = hao({"train", cell, "--steps", "20", "--batch-size", "64", "--lr", "0.05", "--subset",
                  "1920", "--validation", "500", "--threads", "1", "--out", flt});
  ASSERT_EQ(t.code, kExitOk) << t.err;
  t = hao({"train",       cell, "--init",       flt,  "--epochs", "0",    "--bits",       "w4a4",
           "--qat-steps", "10", "--batch-size", "64", "--subset", "1920", "--validation", "500",
           "--threads",   "1",  "--out",        w4});
  ASSERT_EQ(t.code, kExitOk) << t.err;
  const HaoRun e = hao({"export", cell, "--checkpoint", w4, "--bits", "w4a4", "--out", dir + "/w4",
                        "--samples", "200", "--device", "zu9eg"});
  ASSERT_EQ(e.code, kExitOk) << e.err;
  const std::string model = core::read_file(dir + "/w4/model.qonnx.onnx");
  EXPECT_NE(model.find("final_relu_norm_scale"), std::string::npos);
  EXPECT_NE(model.find("final_relu_norm_shift"), std::string::npos);
  const nlohmann::json r = reference(dir + "/w4");
  ASSERT_TRUE(r.is_object()) << "the reference evaluator did not run";
  EXPECT_EQ(r["images"], 200);
  EXPECT_EQ(r["top1_agree"], 200);
  EXPECT_EQ(r["differ_without_tie"], 0);
  // Read back, the Mul and Add are the final ReLU's batch norm again (no other layer has one).
  const ir::Network back = ir::load_network(dir + "/w4/model.qonnx.onnx");
  std::vector<std::string> normed;
  for (const auto& l : back.layers)
    if (l.op == ir::OpKind::kAct && l.folded_norm) normed.push_back(l.name);
  EXPECT_EQ(normed.size(), 1u) << core::join(normed, ", ");
}

}  // namespace
}  // namespace hao::cli
