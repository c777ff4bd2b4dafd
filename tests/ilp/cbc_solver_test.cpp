#include "ilp/cbc_solver.hpp"

#include <gtest/gtest.h>

#include <random>

namespace hao::ilp {

TEST(CbcSolver, KnapsackMatchesEnumeration) {
  std::mt19937 rng(21);
  for (int trial = 0; trial < 30; ++trial) {
    const int n = 3 + static_cast<int>(rng() % 8);
    std::vector<double> value(static_cast<std::size_t>(n)), weight(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
      value[static_cast<std::size_t>(i)] = static_cast<double>(1 + rng() % 20);
      weight[static_cast<std::size_t>(i)] = static_cast<double>(1 + rng() % 10);
    }
    const double capacity = static_cast<double>(5 + rng() % 20);
    Model m;
    m.set_maximize(true);
    std::vector<std::pair<int, double>> row;
    for (int i = 0; i < n; ++i)
      row.push_back({m.add_var(0, 1, value[static_cast<std::size_t>(i)], VarType::kBinary),
                     weight[static_cast<std::size_t>(i)]});
    m.add_row(row, -kInf, capacity);
    const SolveResult r = solve_with_cbc(m, {});
    ASSERT_EQ(r.stats.status, SolveStatus::kOptimal) << "seed 21 trial " << trial;
    double best = 0;
    for (int mask = 0; mask < (1 << n); ++mask) {
      double v = 0, w = 0;
      for (int i = 0; i < n; ++i)
        if (mask & (1 << i))
          v += value[static_cast<std::size_t>(i)], w += weight[static_cast<std::size_t>(i)];
      if (w <= capacity) best = std::max(best, v);
    }
    EXPECT_NEAR(r.objective, best, 1e-6) << "seed 21 trial " << trial;
    EXPECT_TRUE(m.is_feasible(r.values));
    EXPECT_NEAR(r.stats.gap, 0, 1e-9);
  }
}

TEST(CbcSolver, InfeasibleIsReported) {
  Model m;
  const int x = m.add_var(0, 1, 1, VarType::kBinary);
  const int y = m.add_var(0, 1, 1, VarType::kBinary);
  m.add_row({{x, 1}, {y, 1}}, 3, kInf);
  const SolveResult r = solve_with_cbc(m, {});
  EXPECT_EQ(r.stats.status, SolveStatus::kInfeasible);
  EXPECT_FALSE(r.has_solution());
}

TEST(CbcSolver, IntegerAndContinuousVariables) {
  // minimize -x - y with x integer <= 2.5, y continuous <= 0.7, x + y <= 3.2
  Model m;
  const int x = m.add_var(0, 2.5, -1, VarType::kInteger);
  const int y = m.add_var(0, 0.7, -1, VarType::kContinuous);
  m.add_row({{x, 1}, {y, 1}}, -kInf, 3.2);
  const SolveResult r = solve_with_cbc(m, {});
  ASSERT_EQ(r.stats.status, SolveStatus::kOptimal);
  EXPECT_NEAR(r.values[static_cast<std::size_t>(x)], 2, 1e-9);
  EXPECT_NEAR(r.values[static_cast<std::size_t>(y)], 0.7, 1e-9);
}

}  // namespace hao::ilp
