#include "search/pareto.hpp"

#include <gtest/gtest.h>

#include <random>

namespace hao::search {
namespace {

/// Hypervolume by a grid: the fraction of cells whose centre some point dominates.
double grid_hypervolume(const std::vector<std::pair<double, double>>& points, int cells) {
  int covered = 0;
  for (int i = 0; i < cells; ++i)
    for (int j = 0; j < cells; ++j) {
      const double x = (i + 0.5) / cells, y = (j + 0.5) / cells;
      for (const auto& p : points)
        if (p.first <= x && p.second <= y) {
          ++covered;
          break;
        }
    }
  return static_cast<double>(covered) / (cells * cells);
}

TEST(Pareto, FrontKeepsTheNonDominatedInLatencyOrder) {
  const std::vector<Objectives> p{{3, 90}, {1, 50}, {2, 40}, {2, 70}, {3, 80}, {4, 90}, {1, 50}};
  EXPECT_EQ(pareto_front(p), (std::vector<std::size_t>{1, 3, 0}));
}

TEST(Pareto, HypervolumeMatchesAGridCountAndGainIsTheDifference) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(0, 1);
  for (int trial = 0; trial < 50; ++trial) {
    std::vector<std::pair<double, double>> points;
    const int n = 1 + trial % 8;
    for (int i = 0; i < n; ++i) points.emplace_back(u(rng), u(rng));
    const Staircase s(points);
    EXPECT_NEAR(s.hypervolume(), grid_hypervolume(points, 400), 0.006);
    for (int k = 0; k < 10; ++k) {
      const std::pair<double, double> q{u(rng), u(rng)};
      auto more = points;
      more.push_back(q);
      EXPECT_NEAR(s.gain(q.first, q.second), Staircase(more).hypervolume() - s.hypervolume(),
                  1e-12);
    }
  }
}

TEST(Pareto, NormalizerMapsTheSpaceBoundsToTheUnitSquare) {
  const std::vector<Objectives> space{{2, 10}, {10, 90}, {6, 50}};
  const Normalizer n = Normalizer::of(space);
  EXPECT_DOUBLE_EQ(n.latency(2), 0);
  EXPECT_DOUBLE_EQ(n.latency(10), 1);
  EXPECT_DOUBLE_EQ(n.error(90), 0);
  EXPECT_DOUBLE_EQ(n.error(10), 1);
  // The whole space: the fastest point (2, 10%) adds nothing at error 1; (6, 50%) covers
  // 0.5 x 0.5 from latency 0.5; (10, 90%) sits on the reference latency.
  EXPECT_NEAR(hypervolume(space, n), 0.25, 1e-12);
}

// The pick of a latency-aware DARTS sweep, on the two sweeps of docs/benchmarks.md (search
// seeds 2 and 1; latency in ms on the Raspberry Pi 4, validation accuracy in percent).
TEST(Pareto, FirstFasterWithinPicksTheSmallestLambdaThatTradesLittleAccuracy) {
  // Seed 2, NAS-Bench-201's measured latencies: 0.01 is 25% faster but 0.78 points lower;
  // 0.015 is 40.9% faster and more accurate.
  const Objectives plain2{98.89, 84.90};
  const std::vector<Objectives> seed2 = {
      {98.89, 84.90}, {74.19, 84.12}, {58.47, 87.58}, {26.39, 82.66}};
  EXPECT_EQ(first_faster_within(plain2, seed2, 0.2, 0.5), std::optional<std::size_t>(2));
  EXPECT_EQ(first_faster_within(plain2, seed2, 0.2, 1.0), std::optional<std::size_t>(1));
  EXPECT_EQ(first_faster_within(plain2, seed2, 0.8, 0.5), std::nullopt);
  // Seed 1 (0.015, 0.0175, 0.02, 0.025): by the measured latencies 0.0175 is 18.8% faster and
  // 0.025 is picked; by the MLP's predictions 0.0175 is 29% faster and picked.
  EXPECT_EQ(first_faster_within({54.54, 85.86},
                                {{48.39, 83.58}, {44.27, 85.72}, {52.17, 86.54}, {41.51, 86.06}},
                                0.2, 0.5),
            std::optional<std::size_t>(3));
  EXPECT_EQ(first_faster_within({62.63, 85.86},
                                {{48.72, 83.58}, {44.33, 85.72}, {58.90, 86.54}, {42.67, 86.06}},
                                0.2, 0.5),
            std::optional<std::size_t>(1));
  // Exactly 20% faster and exactly half a point lower is in; unmeasured latencies are not.
  EXPECT_EQ(first_faster_within({10, 80}, {{0, 90}, {8, 79.5}}, 0.2, 0.5),
            std::optional<std::size_t>(1));
  EXPECT_EQ(first_faster_within({0, 80}, {{1, 90}}, 0.2, 0.5), std::nullopt);
}

}  // namespace
}  // namespace hao::search
