// hao darts as a user runs it: a one-hot latency MLP from hao calibrate, a short sweep, and
// bad use (label `torch`).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/app.hpp"
#include "cli/run_hao.hpp"
#include "core/text.hpp"
#include "data/images.hpp"
#include "ir/genotype.hpp"

namespace hao::cli {
namespace {

using test::hao;
using test::HaoRun;
using test::head;

// A one-hot (or structure) raspi4 MLP fitted on the table's first 300 cells, quickly.
std::string latency_model(const std::string& dir, const std::string& encoding) {
  const std::string data = HAO_SHARED_DATA "/nb201";
  const std::string model = dir + "/" + encoding + ".json";
  const HaoRun r = hao({"calibrate",
                        "--kind",
                        "mlp",
                        "--space",
                        "nb201",
                        "--encoding",
                        encoding,
                        "--measurements",
                        head(data + "/latency_ms.csv", dir + "/lat.csv", 300),
                        "--archs",
                        head(data + "/accuracy.csv", dir + "/archs.csv", 300),
                        "--column",
                        "raspi4",
                        "--steps",
                        "100",
                        "--hidden",
                        "16",
                        "--threads",
                        "1",
                        "--folds",
                        "2",
                        "--out",
                        model});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  return model;
}

}  // namespace

TEST(DartsTorch, SweepWithAOneHotMlpThenBadUse) {
  if (!std::filesystem::exists(HAO_SHARED_DATA "/nb201/latency_ms.csv"))
    GTEST_SKIP() << "no NAS-Bench-201 table";
  if (!std::filesystem::exists(data::kFashionMnistDir)) GTEST_SKIP() << "no Fashion-MNIST";
  const std::string dir = ::testing::TempDir() + "darts_cli";
  std::filesystem::create_directories(dir);
  const std::string model = latency_model(dir, "onehot");
  const std::string json = dir + "/darts.json";
  const std::vector<std::string> quick = {"--steps",  "6",   "--batch-size", "16", "--width", "4",
                                          "--subset", "400", "--threads",    "1"};
  std::vector<std::string> args = {"darts",      "--latency-model", model,   "--lambda", "0,0.5",
                                   "--no-train", "--device",        "zu3eg", "--json",   json};
  args.insert(args.end(), quick.begin(), quick.end());
  const HaoRun r = hao(args);
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_NE(r.out.find("zu3eg ms"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("edge   none   skip  conv1x1  conv3x3   pool"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("search lambda=0.5"), std::string::npos) << r.err;
  const nlohmann::json j = nlohmann::json::parse(core::read_file(json));
  ASSERT_EQ(j["runs"].size(), 2u);
  for (const auto& run : j["runs"]) {
    const std::string cell = run["genotype"];
    EXPECT_NO_THROW(ir::genotype_model("nb201:" + cell, {1, 28, 28}, 10)) << cell;
    EXPECT_GT(run["predicted_ms"].get<double>(), 0.0);
    EXPECT_GT(run["host_cpu_ms"].get<double>(), 0.0);
    // The dataflow accelerator of a 15-cell network may not fit the ZU3EG: then the reason.
    EXPECT_TRUE(run["device_ms"].get<double>() > 0 || run.contains("device_note")) << run;
    EXPECT_EQ(run["trace"].size(), 6u);
    EXPECT_FALSE(run.contains("test_accuracy"));  // --no-train
  }

  // The measured table: each derived cell's latency is looked up; a sweep with lambda 0 and
  // trained cells is picked from (the smallest lambda at least 20% faster within 0.5 points).
  const std::string table = HAO_SHARED_DATA "/nb201/latency_ms.csv";
  const std::string archs = HAO_SHARED_DATA "/nb201/accuracy.csv";
  std::vector<std::string> picked = {
      "darts",      "--latency-model", model,     "--lambda", "0,0.5,1", "--train-steps",     "2",
      "--measured", table + ":raspi4", "--archs", archs,      "--json",  dir + "/picked.json"};
  picked.insert(picked.end(), quick.begin(), quick.end());
  const HaoRun p = hao(picked);
  ASSERT_EQ(p.code, kExitOk) << p.err;
  EXPECT_NE(p.out.find("raspi4 ms"), std::string::npos) << p.out;
  EXPECT_NE(p.out.find("pick: "), std::string::npos) << p.out;
  const nlohmann::json pj = nlohmann::json::parse(core::read_file(dir + "/picked.json"));
  ASSERT_EQ(pj["runs"].size(), 3u);
  for (const auto& run : pj["runs"]) EXPECT_GT(run["measured_ms"].get<double>(), 0.0) << run;
  const auto& plain = pj["runs"][0];
  EXPECT_EQ(pj["pick"]["latency"], "measured raspi4");
  if (pj["pick"]["lambda"].is_null()) {
    for (std::size_t i = 1; i < 3; ++i) {
      const auto& run = pj["runs"][i];
      EXPECT_TRUE(run["measured_ms"].get<double>() > 0.8 * plain["measured_ms"].get<double>() ||
                  run["val_accuracy"].get<double>() < plain["val_accuracy"].get<double>() - 0.005)
          << run;
    }
  } else {
    const auto& chosen = pj["runs"][pj["pick"]["lambda"].get<double>() == 0.5 ? 1 : 2];
    EXPECT_EQ(chosen["genotype"], pj["pick"]["genotype"]);
    EXPECT_LE(chosen["measured_ms"].get<double>(), 0.8 * plain["measured_ms"].get<double>());
    EXPECT_GE(chosen["val_accuracy"].get<double>(), plain["val_accuracy"].get<double>() - 0.005);
  }
  EXPECT_TRUE(j["pick"].is_null());  // --no-train: no validation accuracy to pick by

  const auto fails = [&](std::vector<std::string> extra, const std::string& message) {
    std::vector<std::string> a = {"darts", "--no-train"};
    a.insert(a.end(), quick.begin(), quick.end());
    a.insert(a.end(), extra.begin(), extra.end());
    const HaoRun bad = hao(a);
    EXPECT_EQ(bad.code, kExitBadInput) << bad.err;
    EXPECT_NE(bad.err.find(message), std::string::npos) << bad.err;
  };
  fails({"--lambda", "-0.5", "--latency-model", model}, "--lambda -0.5: must be 0 or more");
  // Refused before the data set is read and before the sweep's header.
  fails({"--lambda", "0,-0.5", "--latency-model", model, "--data", dir + "/no-such-data"},
        "--lambda -0.5: must be 0 or more");
  EXPECT_EQ(hao({"darts", "--lambda", "-0.5", "--latency-model", model}).err.find("DARTS on"),
            std::string::npos);
  fails({"--lambda", "0.1"}, "weighs a predicted latency: give --latency-model");
  fails({"--latency-model", latency_model(dir, "structure")},
        "DARTS needs one on NAS-Bench-201's one-hot encoding");
  std::ofstream(dir + "/lut.json") << R"({"kind": "lut", "table": {}})";
  fails({"--latency-model", dir + "/lut.json"}, "a model of kind 'lut'");
  fails({"--measured", table}, "--measured");
  fails({"--measured", table + ":no_such_column", "--archs", archs}, "no_such_column");
  fails({"--measured", table + ":raspi4"}, "arch");  // no arch_str and no --archs
}

}  // namespace hao::cli
