#include "nn/darts.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "core/error.hpp"
#include "nn/synthetic_data.hpp"
#include "predict/arch_features.hpp"

namespace hao::nn {
namespace {

using test::synthetic;

// A latency "MLP" of one linear layer on the one-hot encoding: log ms = 1 per conv 3x3 and 0.5
// per conv 1x1 over the six edges, so the slowest cell takes e^6 ms and the fastest 1 ms.
predict::MlpRegressor conv_latency() {
  predict::MlpRegressor m;
  m.feature_names = predict::arch_feature_names(predict::Space::kNb201, predict::Encoding::kOneHot);
  m.feature_mean.assign(30, 0.0);
  m.feature_scale.assign(30, 1.0);
  predict::MlpLayer l;
  l.in = 30, l.out = 1;
  l.weight.assign(30, 0.0);
  for (std::size_t e = 0; e < 6; ++e) {
    l.weight[e * 5 + 2] = 0.5;  // nor_conv_1x1
    l.weight[e * 5 + 3] = 1.0;  // nor_conv_3x3
  }
  l.bias = {0.0};
  m.layers = {l};
  return m;
}

DartsOptions quick(double lambda) {
  DartsOptions o;
  o.steps = 30;
  o.batch_size = 16;
  o.width = 4;
  o.subset = 400;
  o.alpha_lr = 0.05;
  o.lambda = lambda;
  o.threads = 1;
  return o;
}

double mean_weight(const DartsAlphas& w, std::size_t op) {
  double sum = 0;
  for (const auto& edge : w) sum += edge[op];
  return sum / 6;
}

}  // namespace

TEST(Darts, DerivesEachEdgesStrongestOperatorAndLeavesNoneOutWhenAsked) {
  DartsAlphas a{};
  for (auto& edge : a) edge = {0.9, 0.1, 0.2, 0.3, 0.4};  // none strongest, then pool
  a[3] = {0.0, 0.1, 0.2, 0.8, 0.4};                       // 3<-0: conv 3x3
  EXPECT_EQ(derive_nb201(a, false), "|none~0|+|none~0|none~1|+|nor_conv_3x3~0|none~1|none~2|");
  EXPECT_EQ(derive_nb201(a, true),
            "|avg_pool_3x3~0|+|avg_pool_3x3~0|avg_pool_3x3~1|+|nor_conv_3x3~0|avg_pool_3x3~1|"
            "avg_pool_3x3~2|");
}

TEST(Darts, RejectsANegativeLambdaALambdaWithoutAModelAndAModelOnAnotherEncoding) {
  const data::DataSet ds = synthetic(200, 10, 1);
  const auto message = [&](const DartsOptions& o, const predict::MlpRegressor* m) {
    try {
      search_darts(ds, o, m);
    } catch (const core::InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message(quick(-0.1), nullptr).find("--lambda -0.1: must be 0 or more"),
            std::string::npos);
  EXPECT_NE(message(quick(0.1), nullptr).find("give --latency-model"), std::string::npos);
  predict::MlpRegressor structure = conv_latency();
  structure.feature_names =
      predict::arch_feature_names(predict::Space::kNb201, predict::Encoding::kStructure);
  EXPECT_NE(message(quick(0.1), &structure).find("--encoding onehot"), std::string::npos);
  DartsOptions big = quick(0);
  big.batch_size = 150;  // two halves of 100 images
  EXPECT_NE(message(big, nullptr).find("each smaller than a batch of 150"), std::string::npos);
}

TEST(Darts, TheLatencyTermMovesTheAlphasAwayFromSlowOperators) {
  const data::DataSet ds = synthetic(600, 10, 2);
  const predict::MlpRegressor latency = conv_latency();
  const DartsResult plain = search_darts(ds, quick(0), &latency);
  const DartsResult aware = search_darts(ds, quick(2.0), &latency);
  EXPECT_LT(mean_weight(aware.weights, 3), mean_weight(plain.weights, 3) - 0.05);
  EXPECT_LT(mean_weight(aware.weights, 2), mean_weight(plain.weights, 2));
  EXPECT_LT(aware.trace.back().expected_ms, plain.trace.back().expected_ms);
  EXPECT_EQ(aware.genotype.find("nor_conv_3x3"), std::string::npos) << aware.genotype;
  // The derived cell's predicted latency is the MLP's on its one-hot encoding.
  EXPECT_NEAR(aware.predicted_ms,
              latency.predict_ms(predict::arch_features(predict::Space::kNb201, aware.genotype, "",
                                                        predict::Encoding::kOneHot)),
              1e-9);
  // The expected latency falls along the trace.
  EXPECT_LT(aware.trace.back().expected_ms, aware.trace.front().expected_ms);
}

TEST(Darts, SameSeedSameAlphas) {
  const data::DataSet ds = synthetic(400, 10, 3);
  DartsOptions o = quick(0);
  o.steps = 8;
  const DartsResult a = search_darts(ds, o, nullptr), b = search_darts(ds, o, nullptr);
  EXPECT_EQ(a.alpha, b.alpha);
  EXPECT_EQ(a.genotype, b.genotype);
  EXPECT_EQ(a.trace.size(), 8u);  // a point every max(1, 8 / 50) steps
  // DARTS's derivation leaves none out; NAS-Bench-201's keeps it unless that cuts the cell.
  EXPECT_EQ(a.genotype, derive_nb201(a.alpha, true));
  EXPECT_EQ(a.with_none, derive_nb201(a.alpha, false));
  EXPECT_EQ(a.none_excluded, a.genotype != a.with_none);
  o.keep_none = true;
  const DartsResult c = search_darts(ds, o, nullptr);
  EXPECT_EQ(c.alpha, a.alpha);  // the derivation only
  EXPECT_EQ(c.genotype, c.none_excluded ? derive_nb201(c.alpha, true) : c.with_none);
}

TEST(Darts, SweepTrainsAndTimesEachDerivedCell) {
  const data::DataSet ds = synthetic(400, 50, 4);
  DartsSweepOptions o;
  o.search = quick(0);
  o.search.steps = 4;
  o.lambdas = {0, 0.5};
  o.training.steps = 4;
  o.training.batch_size = 16;
  o.training.validation = 50;
  o.training.threads = 1;
  o.training.stall_check = false;
  o.profile.warmup = 1;
  o.profile.repeats = 2;
  o.profile.threads = 1;
  const predict::MlpRegressor latency = conv_latency();
  std::size_t points = 0;
  DartsProgress progress;
  progress.search = [&](std::size_t, const DartsPoint&, long) { ++points; };
  const std::vector<DartsOutcome> r = run_darts(ds, o, &latency, progress);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(points, 8u);
  for (const DartsOutcome& x : r) {
    EXPECT_TRUE(x.trained);
    EXPECT_GT(x.training.test_accuracy, 0.0);
    EXPECT_GT(x.host.median_ms, 0.0);
    EXPECT_EQ(x.network.input.c, 1);
    EXPECT_EQ(x.network.input.h, 28);
  }
  EXPECT_EQ(r[1].lambda, 0.5);

  // A cell that does not train (a learning rate that sends the loss to NaN) is reported, and
  // the sweep goes on to the next lambda.
  DartsSweepOptions diverge = o;
  diverge.training.lr = 1e12;
  diverge.training.steps = 60;  // the stall check looks at batch 40
  diverge.training.stall_check = true;
  const std::vector<DartsOutcome> failed = run_darts(ds, diverge, &latency);
  ASSERT_EQ(failed.size(), 2u);
  for (const DartsOutcome& x : failed) {
    EXPECT_FALSE(x.trained);
    EXPECT_NE(x.training_failure.find("not learning"), std::string::npos) << x.training_failure;
    EXPECT_GT(x.host.median_ms, 0.0);
  }
  o.lambdas = {0, -1};
  EXPECT_THROW(run_darts(ds, o, &latency), core::InputError);
}

}  // namespace hao::nn
