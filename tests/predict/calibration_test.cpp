#include "predict/calibration.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/error.hpp"

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
  const double ms = load_predictor(r.model, "model")(set.samples[0].net, &unknown);
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
  EXPECT_NEAR(load_predictor(r.model, "model")(set.samples[0].net, nullptr),
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

TEST(Calibration, TooFewRowsIsBadInput) {
  const std::string path = write("few.csv", "arch_mnasnet_blocks,lat\n" + kArch + ",4.5\n");
  EXPECT_THROW(calibrate(load_samples(Space::kAnb, path, "lat"), {}), core::InputError);
}

}  // namespace hao::predict
