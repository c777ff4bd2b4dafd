#include "predict/metrics.hpp"

#include <gtest/gtest.h>

namespace hao::predict {

TEST(Metrics, RankCorrelationsOnKnownValues) {
  // Values checked with scipy.stats: spearmanr = 0.8, kendalltau (tau-b) = 0.6.
  const std::vector<double> a = {1, 2, 3, 4, 5}, b = {2, 1, 4, 3, 5};
  EXPECT_NEAR(spearman(a, b), 0.8, 1e-12);
  EXPECT_NEAR(kendall_tau_b(a, b), 0.6, 1e-12);
  // With ties: scipy gives spearmanr 0.9486832980505138, kendalltau 0.9128709291752769.
  const std::vector<double> c = {1, 2, 2, 3}, d = {1, 2, 3, 4};
  EXPECT_NEAR(spearman(c, d), 0.9486832980505138, 1e-12);
  EXPECT_NEAR(kendall_tau_b(c, d), 0.9128709291752769, 1e-12);
}

TEST(Metrics, PercentageErrors) {
  const FitMetrics m = compare({1.1, 1.8, 3.0}, {1.0, 2.0, 3.0});
  EXPECT_NEAR(m.mape_pct, (10.0 + 10.0 + 0.0) / 3, 1e-9);
  EXPECT_NEAR(m.max_ape_pct, 10.0, 1e-9);
  EXPECT_NEAR(m.median_ape_pct, 10.0, 1e-9);
  EXPECT_NEAR(compare({1.1, 1.8, 3.0, 4.0}, {1.0, 2.0, 3.0, 4.0}).median_ape_pct, 5.0, 1e-9);
  EXPECT_EQ(m.n, 3u);
}

TEST(Metrics, KfoldPartitionsAndRepeats) {
  const auto folds = kfold(103, 5, 7);
  ASSERT_EQ(folds.size(), 5u);
  std::vector<int> seen(103, 0);
  for (const auto& f : folds) {
    EXPECT_GE(f.size(), 20u);
    for (auto i : f) ++seen[i];
  }
  for (int s : seen) EXPECT_EQ(s, 1);
  EXPECT_EQ(kfold(103, 5, 7), folds);
  EXPECT_NE(kfold(103, 5, 8), folds);
}

}  // namespace hao::predict
