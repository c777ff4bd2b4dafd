// hao calibrate --kind mlp and hao predict with its model, as a user runs them (label `torch`).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/app.hpp"
#include "cli/run_hao.hpp"
#include "core/csv.hpp"
#include "core/text.hpp"

namespace hao::cli {
namespace {

using test::hao;
using test::HaoRun;
using test::head;

}  // namespace

TEST(CalibrateTorch, MlpOnNasBench201ThenPredictAndBadUse) {
  const std::string data = HAO_SHARED_DATA "/nb201";
  if (!std::filesystem::exists(data + "/latency_ms.csv")) GTEST_SKIP() << "no " << data;
  const std::string dir = ::testing::TempDir() + "calibrate_mlp";
  std::filesystem::create_directories(dir);
  const std::string latency = head(data + "/latency_ms.csv", dir + "/latency.csv", 400);
  const std::string archs = head(data + "/accuracy.csv", dir + "/archs.csv", 400);
  const std::string model = dir + "/mlp.json";
  HaoRun r = hao({"calibrate", "--kind",        "mlp", "--space",   "nb201",    "--measurements",
                  latency,     "--archs",       archs, "--column",  "1080ti_1", "--steps",
                  "300",       "--hidden",      "32",  "--threads", "1",        "--folds",
                  "3",         "--train-sizes", "100", "--out",     model});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_NE(r.out.find("calibrated mlp on 400 rows"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("fit on 100, test on 300"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("fitting MLP 5 of 5"), std::string::npos) << r.err;
  const nlohmann::json m = nlohmann::json::parse(core::read_file(model));
  EXPECT_EQ(m["kind"], "mlp");
  EXPECT_LT(m["cv"]["mape_pct"].get<double>(), 15.0);  // the GPU column is nearly additive
  EXPECT_EQ(m["learning_curve"][0]["train_rows"], 100);
  // The weight decay was chosen among the defaults on held-out rows, and the model says so.
  ASSERT_EQ(m["mlp"]["weight_decay_selection"].size(), 3u);
  const double decay = m["mlp"]["weight_decay"].get<double>();
  EXPECT_TRUE(decay == 1e-2 || decay == 3e-2 || decay == 1e-1) << decay;
  EXPECT_NE(r.out.find("(MAPE on a held-out 20% of the rows: 0.01: "), std::string::npos) << r.out;

  const std::string predicted = dir + "/predicted.csv";
  HaoRun p = hao({"predict", "--model", model, "--archs", archs, "--out", predicted});
  ASSERT_EQ(p.code, kExitOk) << p.err;
  const core::CsvTable table = core::read_csv(predicted);
  ASSERT_EQ(table.rows.size(), 400u);
  for (const auto& row : table.rows)
    EXPECT_GT(std::stod(row[table.column("predicted_latency_ms")]), 0.0);

  // An mlp prices genotypes, not a network from elsewhere.
  HaoRun map = hao({"map", "--template", "engine", "--device",
                    HAO_EXAMPLES "/devices/zcu102_dpu_b4096.yaml", "--latency-model", model});
  EXPECT_EQ(map.code, kExitBadInput);
  EXPECT_NE(map.err.find("prices genotypes of space nb201"), std::string::npos) << map.err;
  // ... but a genotype model carries its genotype.
  const std::string cell = table.rows[0][table.column("arch_str")];
  HaoRun priced = hao({"map", "nb201:" + cell, "--template", "engine", "--device",
                       HAO_EXAMPLES "/devices/zcu102_dpu_b4096.yaml", "--latency-model", model});
  if (priced.err.find("no path from input to output") == std::string::npos) {
    EXPECT_EQ(priced.code, kExitOk) << priced.err;
    EXPECT_NE(priced.out.find(model), std::string::npos) << priced.out;
  }
  // A model whose encoding is not its space's.
  nlohmann::json other = m;
  other["space"] = "anb";
  std::ofstream(dir + "/other.json") << other.dump();
  HaoRun wrong = hao({"predict", "--model", dir + "/other.json", "--archs", archs});
  EXPECT_EQ(wrong.code, kExitBadInput);
  EXPECT_NE(wrong.err.find("not an encoding of space anb"), std::string::npos) << wrong.err;
  // Too few rows for a learning-curve point, and a file without the genotype column.
  HaoRun big =
      hao({"calibrate", "--kind", "mlp", "--space", "nb201", "--measurements", latency, "--archs",
           archs, "--column", "1080ti_1", "--train-sizes", "400", "--out", dir + "/x.json"});
  EXPECT_EQ(big.code, kExitBadInput);
  EXPECT_NE(big.err.find("--train-sizes: 400 rows to fit of 400"), std::string::npos) << big.err;
  HaoRun no_arch = hao({"calibrate", "--kind", "mlp", "--space", "nb201", "--measurements", latency,
                        "--column", "1080ti_1", "--out", dir + "/x.json"});
  EXPECT_EQ(no_arch.code, kExitBadInput);
  EXPECT_NE(no_arch.err.find("no column 'arch_str'"), std::string::npos) << no_arch.err;
}

// A NAS-Bench-201 cell trains on Fashion-MNIST (built for its 28x28x1 images) and is timed.
TEST(CalibrateTorch, Nb201GenotypeTrainsAndProfiles) {
  const std::string model =
      "nb201:|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|"
      "nor_conv_3x3~2|";
  HaoRun t = hao({"train", model, "--steps", "6", "--batch-size", "32", "--validation", "200",
                  "--threads", "1"});
  ASSERT_EQ(t.code, kExitOk) << t.err;
  EXPECT_NE(t.out.find("test accuracy"), std::string::npos) << t.out;
  HaoRun p = hao({"profile", model, "--repeats", "2", "--warmup", "1", "--threads", "1"});
  ASSERT_EQ(p.code, kExitOk) << p.err;
  EXPECT_NE(p.out.find("input 3x32x32"), std::string::npos) << p.out;
  // An AutoShrink cell too, and a cell with no path from the input is bad input.
  HaoRun a = hao({"train", "autoshrink:sep3:0;conv1:0,1;sep3:1,2;conv1:0,3", "--steps", "6",
                  "--batch-size", "32", "--validation", "200", "--threads", "1"});
  ASSERT_EQ(a.code, kExitOk) << a.err;
  HaoRun cut = hao({"train", "autoshrink:sep3:;conv1:1", "--steps", "1"});
  EXPECT_EQ(cut.code, kExitBadInput);
}

}  // namespace hao::cli
