#include "predict/calibration.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/error.hpp"
#include "predict/arch_features.hpp"
#include "predict/mlp_regressor.hpp"

namespace hao::predict {
namespace {
const std::string kData = HAO_SHARED_DATA;
const std::string kArch =
    "\"b0:e6,k3,l1,se0;b1:e1,k5,l3,se0;b2:e6,k3,l2,se0;b3:e6,k3,l1,se0;b4:e4,k3,l2,se0;"
    "b5:e6,k5,l1,se0;b6:e4,k5,l2,se0\"";

std::string write(const std::string& name, const std::string& text) {
  // CTest runs tests in parallel processes: a name of this test's own.
  const std::string path = ::testing::TempDir() +
                           ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_" +
                           name;
  std::ofstream(path) << text;
  return path;
}
}  // namespace

TEST(Samples, MissingMeasurementsAreSkippedAndCounted) {
  const std::string path = write(
      "m.csv", "arch_mnasnet_blocks,lat\n" + kArch + ",4.5\n" + kArch + ",\n" + kArch + ",nan\n");
  const SampleSet set = load_samples(Space::kAnb, path, "lat");
  EXPECT_EQ(set.samples.size(), 1u);
  EXPECT_EQ(set.skipped_missing, 2u);
  EXPECT_EQ(set.samples[0].line, 2u);
}

TEST(Samples, BadValuesNameLineAndValue) {
  const std::string path =
      write("m.csv", "arch_mnasnet_blocks,lat\n" + kArch + ",-1\n" + kArch + ",fast\n");
  try {
    load_samples(Space::kAnb, path, "lat");
    FAIL();
  } catch (const core::InputError& e) {
    ASSERT_EQ(e.problems().size(), 2u);
    EXPECT_NE(e.problems()[0].find("line 2: lat = '-1'"), std::string::npos) << e.problems()[0];
    EXPECT_NE(e.problems()[1].find("line 3: lat = 'fast'"), std::string::npos);
  }
}

TEST(Samples, Nb201JoinsOnArchIndex) {
  const std::string archs = write(
      "a.csv",
      "arch_index,arch_str\n7,|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|\n");
  const std::string lat = write("l.csv", "arch_index,fpga\n7,2.5\n");
  const SampleSet set = load_samples(Space::kNb201, lat, "fpga", archs);
  ASSERT_EQ(set.samples.size(), 1u);
  EXPECT_DOUBLE_EQ(set.samples[0].measured_ms, 2.5);
  EXPECT_THROW(load_samples(Space::kNb201, lat, "fpga"), core::InputError);  // nothing to join
  const std::string bad = write("b.csv", "arch_index,fpga\n8,2.5\n");
  EXPECT_THROW(load_samples(Space::kNb201, bad, "fpga", archs), core::InputError);
}

// Issue 3 target for the data-driven baseline: MAPE <= 1% on networks it has not seen.
TEST(Calibration, LutMeetsItsTargetOnAccelNasBench) {
  const std::string path = kData + "/accel-nasbench/calibration.csv";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "reference data not found: " << path;
  const SampleSet set = load_samples(Space::kAnb, path, "zcu102_latency_ms");
  const CalibrationResult r = calibrate(set, {});
  EXPECT_EQ(r.cv.n, 513u);
  EXPECT_LT(r.cv.mape_pct, 1.0);
  EXPECT_GT(r.cv.spearman, 0.99);
  // The saved model predicts what the fit predicts.
  std::size_t unknown = 0;
  const double ms = load_predictor(r.model, "model")(set.samples[0].net, "", &unknown);
  EXPECT_EQ(unknown, 0u);
  EXPECT_NEAR(ms, set.samples[0].measured_ms, 0.05 * set.samples[0].measured_ms);
}

// Issue 3 target for the physical model: MAPE <= 3% and Spearman >= 0.99 on unseen networks,
// with at most 16 coefficients; and it carries over to a block shape it never saw.
TEST(Calibration, EngineModelMeetsItsTargetAndCarriesOver) {
  const std::string path = kData + "/accel-nasbench/calibration.csv";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "reference data not found: " << path;
  const SampleSet set = load_samples(Space::kAnb, path, "zcu102_latency_ms");
  CalibrationOptions o;
  o.kind = ModelKind::kEngine;
  o.holdout_regex = "b6:e[0-9],k5";
  const CalibrationResult r = calibrate(set, o);
  EXPECT_LE(r.coefficients, 16u);
  EXPECT_LT(r.cv.mape_pct, 3.0);
  EXPECT_GT(r.cv.spearman, 0.99);
  EXPECT_LT(r.holdout.mape_pct, 3.0);  // every network with a kernel-5 b6, never fitted on
  EXPECT_GT(r.holdout.spearman, 0.99);
  for (const auto& [name, value] : r.model["engine_model"]["coefficients"].items())
    EXPECT_GE(value.get<double>(), 0.0) << name;
  EXPECT_NEAR(load_predictor(r.model, "model")(set.samples[0].net, "", nullptr),
              set.samples[0].measured_ms, 0.15 * set.samples[0].measured_ms);
}

// HW-NAS-Bench's FPGA latency is additive in the op counts of NAS-Bench-201's reference
// network (which computes ops on zero nodes too): a per-layer table reproduces it exactly.
TEST(Calibration, Nb201FpgaLatencyIsAPerLayerTable) {
  const std::string latency = kData + "/nb201/latency_ms.csv";
  const std::string archs = kData + "/nb201/accuracy.csv";
  if (!std::filesystem::exists(latency)) GTEST_SKIP() << "reference data not found: " << latency;
  std::ifstream in(latency);
  std::string line, subset;
  for (int i = 0; i <= 1500 && std::getline(in, line); ++i) subset += line + "\n";
  const SampleSet set = load_samples(Space::kNb201, write("nb201_1500.csv", subset), "fpga", archs);
  ASSERT_EQ(set.samples.size(), 1500u);
  CalibrationOptions o;
  o.grouping = Grouping::kLayers;
  const CalibrationResult r = calibrate(set, o);
  EXPECT_LT(r.cv.mape_pct, 0.01);
  EXPECT_LT(r.cv.max_ape_pct, 0.05);
}

TEST(Calibration, LoadPredictorRejectsWhatIsNotAModel) {
  EXPECT_THROW(load_predictor(nlohmann::json::array(), "m.json"), core::InputError);
  EXPECT_THROW(load_predictor({{"kind", "engine"}}, "m.json"), core::InputError);
  EXPECT_THROW(load_predictor({{"kind", "magic"}, {"table", {}}}, "m.json"), core::InputError);
  EXPECT_THROW(load_predictor({{"kind", "lut"}, {"table", {{"entries", 3}}}}, "m.json"),
               core::InputError);
}

// The cross-validation, holdout and learning-curve framework, with a family whose fits are
// checked by hand: each fit predicts the mean of the rows it was fitted on.
TEST(Calibration, FrameworkFitsOnExactlyTheRowsItNames) {
  std::string csv = "arch_mnasnet_blocks,lat\n";
  for (int i = 1; i <= 10; ++i) csv += kArch + "," + std::to_string(i) + "\n";
  const SampleSet set = load_samples(Space::kAnb, write("ten.csv", csv), "lat");
  ModelFamily mean;
  mean.kind = ModelKind::kMlp;
  mean.coefficients = 1;
  mean.min_rows = 1;
  mean.model_key = "mean";
  mean.fit = [&set](const std::vector<std::size_t>& rows, nlohmann::json* json) -> RowPredictor {
    double sum = 0;
    for (auto r : rows) sum += set.samples[r].measured_ms;
    const double m = sum / static_cast<double>(rows.size());
    if (json) *json = m;
    return [m](std::size_t, std::size_t& unknown) {
      unknown = 0;
      return m;
    };
  };
  CalibrationOptions o;
  o.folds = 10;  // leave-one-out: row i is predicted by the mean of the other nine
  o.train_sizes = {4};
  const CalibrationResult r = calibrate(set, o, mean);
  for (std::size_t i = 0; i < 10; ++i)
    EXPECT_DOUBLE_EQ(r.cv_predicted[i], (55.0 - static_cast<double>(i + 1)) / 9.0);
  EXPECT_DOUBLE_EQ(r.model["mean"].get<double>(), 5.5);
  ASSERT_EQ(r.curve.size(), 1u);
  EXPECT_EQ(r.curve[0].train_rows, 4u);
  EXPECT_EQ(r.curve[0].test.n, 6u);  // every row not fitted on
  EXPECT_EQ(r.model["learning_curve"][0]["test"]["n"], 6);
  o.train_sizes = {10};  // nothing left to test
  EXPECT_THROW(calibrate(set, o, mean), core::InputError);
}

TEST(Calibration, MlpModelsPriceGenotypesOfTheirSpace) {
  MlpRegressor five;  // a constant 5 ms over NAS-Bench-201's encoding
  five.feature_names = arch_feature_names(Space::kNb201);
  const std::size_t n = five.feature_names.size();
  five.feature_mean.assign(n, 0.0);
  five.feature_scale.assign(n, 1.0);
  five.layers.push_back({n, 1, std::vector<double>(n, 0.0), {std::log(5.0)}});
  const nlohmann::json model = {{"kind", "mlp"}, {"space", "nb201"}, {"mlp", five.to_json()}};
  const std::string arch = "|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|";
  const ir::Network net = expand(Space::kNb201, arch, "t");
  EXPECT_NEAR(load_predictor(model, "m.json")(net, arch, nullptr), 5.0, 1e-9);
  EXPECT_THROW(load_predictor(model, "m.json")(net, "", nullptr), core::InputError);
  MlpRegressor onehot = five;  // the operators alone: 30 features, recognized as such
  onehot.feature_names = arch_feature_names(Space::kNb201, Encoding::kOneHot);
  onehot.feature_mean.assign(30, 0.0);
  onehot.feature_scale.assign(30, 1.0);
  onehot.layers = {{30, 1, std::vector<double>(30, 0.0), {std::log(7.0)}}};
  const nlohmann::json small = {{"kind", "mlp"}, {"space", "nb201"}, {"mlp", onehot.to_json()}};
  EXPECT_NEAR(load_predictor(small, "m.json")(net, arch, nullptr), 7.0, 1e-9);
  nlohmann::json other = model;
  other["space"] = "anb";  // 66 features are not anb's encoding
  EXPECT_THROW(load_predictor(other, "m.json"), core::InputError);
  CalibrationOptions o;
  o.kind = ModelKind::kMlp;  // LibTorch's family, not this module's
  const std::string csv = write("m.csv", "arch_mnasnet_blocks,lat\n" + kArch + ",4.5\n");
  EXPECT_THROW(model_family(load_samples(Space::kAnb, csv, "lat"), o), core::InputError);
}

// A learning curve below the table's entry count: the minimum-norm table, poorly determined
// (about 30% MAPE on 100 rows, 0.65% on 300).
TEST(Calibration, LutLearningCurveBelowItsEntryCount) {
  const std::string path = kData + "/accel-nasbench/calibration.csv";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "reference data not found: " << path;
  CalibrationOptions o;
  o.train_sizes = {100, 300};
  const CalibrationResult r = calibrate(load_samples(Space::kAnb, path, "zcu102_latency_ms"), o);
  ASSERT_EQ(r.curve.size(), 2u);
  EXPECT_GT(r.coefficients, 100u);
  EXPECT_EQ(r.curve[0].test.n, 413u);
  EXPECT_GT(r.curve[0].test.mape_pct, 5.0);
  EXPECT_LT(r.curve[1].test.mape_pct, r.curve[0].test.mape_pct);  // more rows, better
}

TEST(Calibration, TooFewRowsIsBadInput) {
  const std::string path = write("few.csv", "arch_mnasnet_blocks,lat\n" + kArch + ",4.5\n");
  EXPECT_THROW(calibrate(load_samples(Space::kAnb, path, "lat"), {}), core::InputError);
}

}  // namespace hao::predict
