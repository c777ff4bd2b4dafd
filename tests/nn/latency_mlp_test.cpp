#include "nn/latency_mlp.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/error.hpp"

namespace hao::nn {
namespace {

// 8 binary features; log ms = 1 + 0.3 x0 + 0.5 x1 x2 - 0.4 x3 (an interaction a table of
// additive terms cannot express).
struct Data {
  std::vector<std::vector<double>> x;
  std::vector<double> ms;
  std::vector<std::string> names = {"x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7"};
};

Data synthetic(std::size_t n, unsigned seed) {
  Data d;
  std::mt19937 rng(seed);
  std::bernoulli_distribution bit(0.5);
  for (std::size_t r = 0; r < n; ++r) {
    std::vector<double> row;
    for (int c = 0; c < 8; ++c) row.push_back(bit(rng) ? 1.0 : 0.0);
    d.ms.push_back(std::exp(1 + 0.3 * row[0] + 0.5 * row[1] * row[2] - 0.4 * row[3]));
    d.x.push_back(row);
  }
  return d;
}

LatencyMlpOptions quick() {
  LatencyMlpOptions o;
  o.hidden = {16};
  o.steps = 600;
  o.lr = 1e-2;
  o.threads = 1;
  return o;
}

}  // namespace

TEST(LatencyMlp, LearnsAnInteractionAndGeneralizes) {
  const Data train = synthetic(200, 1), test = synthetic(200, 2);
  const predict::MlpRegressor m = fit_latency_mlp(train.x, train.ms, train.names, quick());
  double ape = 0;
  for (std::size_t r = 0; r < test.x.size(); ++r)
    ape += std::abs(m.predict_ms(test.x[r]) - test.ms[r]) / test.ms[r];
  EXPECT_LT(100 * ape / static_cast<double>(test.x.size()), 3.0);
}

TEST(LatencyMlp, ModuleMatchesThePlainForwardPassAndPassesGradients) {
  const Data d = synthetic(100, 3);
  const predict::MlpRegressor m = fit_latency_mlp(d.x, d.ms, d.names, quick());
  torch::Tensor x = torch::rand({5, 8}, torch::kDouble).requires_grad_(true);
  const torch::Tensor log_ms = mlp_log_ms(m, x);
  for (long r = 0; r < 5; ++r) {
    std::vector<double> row(8);
    for (long c = 0; c < 8; ++c) row[static_cast<std::size_t>(c)] = x[r][c].item<double>();
    EXPECT_NEAR(std::exp(log_ms[r].item<double>()), m.predict_ms(row), 1e-9 * m.predict_ms(row));
  }
  log_ms.sum().backward();
  EXPECT_GT(x.grad().abs().sum().item<double>(), 0.0);
}

TEST(LatencyMlp, DeterministicPerSeed) {
  const Data d = synthetic(60, 4);
  const auto a = fit_latency_mlp(d.x, d.ms, d.names, quick());
  const auto b = fit_latency_mlp(d.x, d.ms, d.names, quick());
  EXPECT_EQ(a.to_json(), b.to_json());
  LatencyMlpOptions other = quick();
  other.seed = 2;
  EXPECT_NE(fit_latency_mlp(d.x, d.ms, d.names, other).to_json(), a.to_json());
}

TEST(LatencyMlp, SelectsTheWeightDecayOnHeldOutRowsAndRecordsIt) {
  const Data d = synthetic(120, 6);
  LatencyMlpOptions choose = quick();
  choose.weight_decay = {30.0, 1e-4};  // 30 flattens the network to the mean latency
  const predict::MlpRegressor chosen = fit_latency_mlp(d.x, d.ms, d.names, choose);
  EXPECT_EQ(chosen.weight_decay, 1e-4);
  ASSERT_EQ(chosen.weight_decay_mape.size(), 2u);
  EXPECT_EQ(chosen.weight_decay_mape[0].first, 30.0);
  EXPECT_GT(chosen.weight_decay_mape[0].second, 3 * chosen.weight_decay_mape[1].second);
  // The chosen value is then fitted on every row, as a fit given that value alone.
  LatencyMlpOptions fixed = quick();
  fixed.weight_decay = {1e-4};
  const predict::MlpRegressor alone = fit_latency_mlp(d.x, d.ms, d.names, fixed);
  EXPECT_TRUE(alone.weight_decay_mape.empty());
  EXPECT_EQ(alone.to_json()["layers"], chosen.to_json()["layers"]);
  EXPECT_EQ(chosen.to_json()["weight_decay_selection"].size(), 2u);
  EXPECT_EQ(predict::MlpRegressor::from_json(chosen.to_json(), "m").weight_decay, 1e-4);
}

TEST(LatencyMlp, BadRowsAreInputErrors) {
  Data d = synthetic(20, 5);
  d.ms[3] = 0;
  EXPECT_THROW(fit_latency_mlp(d.x, d.ms, d.names, quick()), core::InputError);
  d = synthetic(20, 5);
  d.x[7].pop_back();
  EXPECT_THROW(fit_latency_mlp(d.x, d.ms, d.names, quick()), core::InputError);
  EXPECT_THROW(fit_latency_mlp({}, {}, d.names, quick()), core::InputError);
  d = synthetic(20, 5);
  LatencyMlpOptions negative = quick();
  negative.weight_decay = {1e-2, -1};
  EXPECT_THROW(fit_latency_mlp(d.x, d.ms, d.names, negative), core::InputError);
  negative.weight_decay.clear();
  EXPECT_THROW(fit_latency_mlp(d.x, d.ms, d.names, negative), core::InputError);
}

}  // namespace hao::nn
