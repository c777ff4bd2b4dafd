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

}  // namespace
}  // namespace hao::search
