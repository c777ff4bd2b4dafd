// hao quantize with LibTorch: the sensitivity measured from a checkpoint, and fine-tuning at
// the chosen bits (label `torch`).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/app.hpp"
#include "cli/run_hao.hpp"
#include "core/text.hpp"

namespace hao::cli {
namespace {

using test::hao;
using test::HaoRun;

// One thread each: CTest runs tests two at a time on two cores, and LibTorch's OpenMP threads
// spin when they outnumber the cores.
TEST(QuantizeTorch, MeasuresSensitivityAndFineTunesAtTheChosenBits) {
  const std::string ckpt = ::testing::TempDir() + "quantize_torch.pt";
  const std::string json = ::testing::TempDir() + "quantize_torch.json";
  HaoRun t = hao({"train", "--steps", "30", "--subset", "3840", "--validation", "1000", "--threads",
                  "1", "--out", ckpt});
  ASSERT_EQ(t.code, kExitOk) << t.err;
  const std::string exported = ::testing::TempDir() + "quantize_torch_export";
  std::filesystem::remove_all(exported);
  HaoRun q = hao({"quantize", "--checkpoint", ckpt, "--probes", "3", "--bits-choices", "2,4,8",
                  "--fps", "90000", "--qat-epochs", "1", "--subset", "2560", "--threads", "1",
                  "--json", json, "--export", exported});
  ASSERT_EQ(q.code, kExitOk) << q.err;
  // The fine-tuned design as hao export writes it, at the chosen bits and the target.
  for (const char* f : {"checkpoint.pt", "bits.yaml", "model.qonnx.onnx", "folding_config.json",
                        "build.py", "input.npy", "expected_output.npy"})
    EXPECT_TRUE(std::filesystem::exists(exported + "/" + f)) << f;
  HaoRun m = hao({"map", exported + "/model.qonnx.onnx", "--target-fps", "90000"});
  EXPECT_EQ(m.code, kExitOk) << m.err;
  HaoRun again = hao({"quantize", "--checkpoint", ckpt, "--probes", "3", "--fps", "90000",
                      "--qat-epochs", "1", "--export", exported});
  EXPECT_EQ(again.code, kExitBadInput);  // refused before any work: the folder is not empty
  EXPECT_NE(again.err.find("exists and is not an empty folder"), std::string::npos) << again.err;
  EXPECT_NE(q.err.find("measuring the sensitivity"), std::string::npos);
  EXPECT_NE(q.out.find("test at these bits"), std::string::npos);
  const nlohmann::json j = nlohmann::json::parse(core::read_file(json));
  const double acc = j["accuracy"]["test"].get<double>();
  EXPECT_GT(acc, 0.2);  // twice chance after 30 float steps and a 20-step QAT epoch
  EXPECT_GE(j["design"]["fps"].get<double>(), 90000);
}

// A trained study extended by one evaluation asks what the uninterrupted study asked: the
// strategy's sensitivity features come back from the store (a small two-stage space keeps
// program 4 quick; QAT in the loop turns the sensitivity trend on).
TEST(SearchTorch, ExtendedTrainedStudyAsksWhatTheWholeOneAsked) {
  const std::string dir = ::testing::TempDir() + "search_torch";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string space = dir + "/two.yaml";
  std::ofstream(space) << "name: two\nkind: mbv2\ndata: fashion-mnist\n"
                          "stages: [{channels: 16, stride: 2}, {channels: 24, stride: 2}]\n"
                          "choices: {depth: [1, 2], width: [0.5, 1.0], kernel: [3], "
                          "expansion: [1, 3], bits: [4, 8]}\n";
  auto search = [&](const std::string& db, const std::string& budget,
                    const std::string& strategy = "hao") {
    return hao({"search",
                "--space",
                space,
                "--strategy",
                strategy,
                "--budget",
                budget,
                "--storage",
                db,
                "--evaluator",
                "scratch",
                "--train-steps",
                "3",
                "--subset",
                "1024",
                "--validation",
                "256",
                "--qat-steps",
                "1",
                "--finalists",
                "1",
                "--final-qat-steps",
                "1",
                "--threads",
                "1",
                "--out",
                dir + "/rep-" + strategy + "-" + budget});
  };
  HaoRun whole = search(dir + "/whole.db", "7");
  ASSERT_EQ(whole.code, kExitOk) << whole.err;
  const std::string whole_json = core::read_file(dir + "/rep-hao-7/pareto.json");
  // The chosen design as FINN builds it (hao export), from its finalist's checkpoint: its
  // QONNX file maps to the design the study stored.
  const std::string chosen = dir + "/rep-hao-7/chosen/";
  for (const char* f : {"model.yaml", "folding_config.json", "model.qonnx.onnx", "build.py",
                        "input.npy", "expected_output.npy"})
    EXPECT_TRUE(std::filesystem::exists(chosen + f)) << f;
  EXPECT_NE(whole.out.find("chosen/: the design as FINN builds it"), std::string::npos)
      << whole.out;
  double chosen_fps = 0;
  const nlohmann::json whole_report = nlohmann::json::parse(whole_json);
  for (const auto& e : whole_report["frontier"])
    if (e.value("chosen", false)) chosen_fps = e["fps"].get<double>();
  const std::string mapped = dir + "/chosen_map.json";
  ASSERT_EQ(hao({"map", chosen + "model.qonnx.onnx", "--json", mapped}).code, kExitOk);
  EXPECT_NEAR(nlohmann::json::parse(core::read_file(mapped))["fps"].get<double>(), chosen_fps,
              1e-6 * chosen_fps);
  ASSERT_EQ(search(dir + "/part.db", "6").code, kExitOk);
  HaoRun extended = search(dir + "/part.db", "7");
  ASSERT_EQ(extended.code, kExitOk) << extended.err;
  EXPECT_NE(extended.out.find("resuming"), std::string::npos);
  auto genotypes = [](const std::string& text) {
    const nlohmann::json j = nlohmann::json::parse(text);
    std::vector<std::string> out;
    for (const auto& e : j["evaluations"]) out.push_back(e["genotype"]);
    return out;
  };
  const auto a = genotypes(whole_json);
  ASSERT_EQ(a.size(), 7u);
  EXPECT_EQ(genotypes(core::read_file(dir + "/rep-hao-7/pareto.json")), a);
  // The hao strategy's predictor reads each candidate's sensitivity, so it is measured; a
  // strategy that reads none gets no probes (the same training, the same accuracy).
  for (const auto& e : whole_report["evaluations"])
    EXPECT_TRUE(e["extra"].contains("sensitivity")) << e["extra"].dump();
  HaoRun random = search(dir + "/random.db", "2", "random");
  ASSERT_EQ(random.code, kExitOk) << random.err;
  const nlohmann::json random_report =
      nlohmann::json::parse(core::read_file(dir + "/rep-random-2/pareto.json"));
  ASSERT_EQ(random_report["evaluations"].size(), 2u);
  for (const auto& e : random_report["evaluations"]) {
    EXPECT_FALSE(e["extra"].contains("sensitivity")) << e["extra"].dump();
    EXPECT_TRUE(e["extra"].contains("train_seconds")) << e["extra"].dump();
  }
}

// An eval-mode ONNX export (batch norms folded away) as a user brings it: trained as it is
// (--batchnorm never), it stops at the stall check with a message and exit 1 instead of
// spending its epochs at chance; with the default it learns.
TEST(TrainTorch, EvalModeExportStopsWithAMessageWhenTrainedWithoutBatchNorms) {
  const std::string onnx = std::string(HAO_FIXTURES) + "/fmnist_mbv2_eval.onnx";
  HaoRun stuck = hao({"train", onnx, "--batchnorm", "never", "--epochs", "3", "--subset", "3000",
                      "--validation", "1000", "--threads", "1"});
  EXPECT_EQ(stuck.code, kExitFailure);
  EXPECT_NE(stuck.err.find("hao: error: the network is not learning: after 40 batches"),
            std::string::npos)
      << stuck.err;
  EXPECT_EQ(stuck.err.find("internal error"), std::string::npos);
  HaoRun learns = hao({"train", onnx, "--steps", "45", "--subset", "3000", "--validation", "1000",
                       "--threads", "1"});
  EXPECT_EQ(learns.code, kExitOk) << learns.err;
}

// An export with weights: hao train starts from them (--epochs 0 only measures them) and
// --from-scratch ignores them; --epochs 0 without trained weights is refused.
TEST(TrainTorch, OnnxFileWithWeightsIsMeasuredAndFineTunedFromThem) {
  const std::string onnx = std::string(HAO_FIXTURES) + "/fmnist_mbv2_eval_weights.onnx";
  const std::vector<std::string> small = {"--subset", "1000",      "--validation",
                                          "500",      "--threads", "1"};
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.end(), small.begin(), small.end());
    return hao(args);
  };
  HaoRun measured = run({"train", onnx, "--epochs", "0"});
  ASSERT_EQ(measured.code, kExitOk) << measured.err;
  EXPECT_NE(measured.err.find("starting from the weights in"), std::string::npos);
  EXPECT_NE(measured.err.find("measuring torch_jit"), std::string::npos) << measured.err;
  EXPECT_NE(measured.out.find("test accuracy"), std::string::npos);
  EXPECT_EQ(measured.out.find("epoch"), std::string::npos) << measured.out;  // no epochs table
  HaoRun scratch = run({"train", onnx, "--steps", "2", "--from-scratch"});
  ASSERT_EQ(scratch.code, kExitOk) << scratch.err;
  EXPECT_EQ(scratch.err.find("starting from the weights"), std::string::npos);
  HaoRun refused =
      run({"train", std::string(HAO_FIXTURES) + "/fmnist_mbv2_eval.onnx", "--epochs", "0"});
  EXPECT_EQ(refused.code, kExitBadInput);
  EXPECT_NE(refused.err.find("--epochs 0 measures trained weights"), std::string::npos)
      << refused.err;
}

}  // namespace
}  // namespace hao::cli
