#include "opt/shgo.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/error.hpp"

namespace hao::opt {
namespace {

constexpr double kPi = 3.14159265358979323846;

double six_hump_camel(const std::vector<double>& v) {
  const double x = v[0], y = v[1];
  return (4 - 2.1 * x * x + x * x * x * x / 3) * x * x + x * y + (-4 + 4 * y * y) * y * y;
}

double branin(const std::vector<double>& v) {
  const double x = v[0], y = v[1];
  const double b = 5.1 / (4 * kPi * kPi), c = 5 / kPi, t = 1 / (8 * kPi);
  return std::pow(y - b * x * x + c * x - 6, 2) + 10 * (1 - t) * std::cos(x) + 10;
}

double rastrigin(const std::vector<double>& v) {
  double s = 10.0 * static_cast<double>(v.size());
  for (double x : v) s += x * x - 10 * std::cos(2 * kPi * x);
  return s;
}

bool has_minimum_near(const ShgoResult& r, double x, double y, double tol) {
  for (const auto& m : r.minima)
    if (std::abs(m.x[0] - x) < tol && std::abs(m.x[1] - y) < tol) return true;
  return false;
}

TEST(Shgo, SixHumpCamelBothGlobalMinima) {
  const ShgoResult r = shgo(six_hump_camel, {-3, -2}, {3, 2});
  EXPECT_NEAR(r.f, -1.0316284535, 1e-6);
  EXPECT_TRUE(has_minimum_near(r, 0.0898, -0.7126, 1e-3));
  EXPECT_TRUE(has_minimum_near(r, -0.0898, 0.7126, 1e-3));
  EXPECT_GE(r.minima.size(), 2u);
}

TEST(Shgo, BraninAllThreeGlobalMinima) {
  const ShgoResult r = shgo(branin, {-5, 0}, {10, 15});
  EXPECT_NEAR(r.f, 0.397887, 1e-5);
  EXPECT_TRUE(has_minimum_near(r, -kPi, 12.275, 1e-3));
  EXPECT_TRUE(has_minimum_near(r, kPi, 2.275, 1e-3));
  EXPECT_TRUE(has_minimum_near(r, 9.42478, 2.475, 1e-3));
}

TEST(Shgo, RastriginAmongItsManyLocalMinima) {
  const ShgoResult r = shgo(rastrigin, {-5.12, -5.12}, {5.12, 5.12});
  EXPECT_NEAR(r.f, 0, 1e-6);
  EXPECT_GT(r.minima.size(), 20u);  // it sees the landscape, not one basin
}

TEST(Shgo, ConstraintsCutTheBoxAndTheLocalSearchKeepsThem) {
  // min x + y over [0, 1]^2 outside the disc of radius 0.5: (0.5, 0) or (0, 0.5), value 0.5.
  const auto sum = [](const std::vector<double>& v) { return v[0] + v[1]; };
  const Constraint outside = [](const std::vector<double>& v) {
    return 0.25 - v[0] * v[0] - v[1] * v[1];
  };
  const ShgoResult r = shgo(sum, {0, 0}, {1, 1}, {outside});
  ASSERT_TRUE(r.feasible);
  EXPECT_NEAR(r.f, 0.5, 1e-5);
  EXPECT_LE(outside(r.x), 1e-9);
  // Nothing feasible: no point, no crash.
  const Constraint never = [](const std::vector<double>&) { return 1.0; };
  EXPECT_FALSE(shgo(sum, {0, 0}, {1, 1}, {never}).feasible);
  // A fixed dimension stays fixed.
  const ShgoResult fixed = shgo(six_hump_camel, {-3, 0.7126}, {3, 0.7126});
  EXPECT_DOUBLE_EQ(fixed.x[1], 0.7126);
  EXPECT_NEAR(fixed.x[0], -0.0898, 1e-3);
}

/// The exact minimum of a lattice function by enumeration.
std::pair<double, std::size_t> exhaustive(const LatticeObjective& f, const std::vector<int>& lo,
                                          const std::vector<int>& hi,
                                          const std::function<bool(const std::vector<int>&)>& ok) {
  double best = INFINITY;
  std::size_t n = 0;
  std::vector<int> x = lo;
  for (;;) {
    ++n;
    if (!ok || ok(x)) best = std::min(best, f(x));
    std::size_t i = 0;
    while (i < x.size() && x[i] == hi[i]) x[i] = lo[i], ++i;
    if (i == x.size()) break;
    ++x[i];
  }
  return {best, n};
}

/// A smooth multimodal function on a lattice: a sum of Gaussian wells.
LatticeObjective wells(std::mt19937& rng, const std::vector<int>& lo, const std::vector<int>& hi,
                       int count) {
  std::vector<std::vector<double>> centres;
  std::vector<double> depth, width;
  std::uniform_real_distribution<double> u(0, 1);
  for (int k = 0; k < count; ++k) {
    std::vector<double> c;
    for (std::size_t i = 0; i < lo.size(); ++i) c.push_back(lo[i] + u(rng) * (hi[i] - lo[i]));
    centres.push_back(c);
    depth.push_back(0.5 + u(rng));
    width.push_back(1.5 + 2 * u(rng));
  }
  return [=](const std::vector<int>& x) {
    double v = 0;
    for (std::size_t k = 0; k < centres.size(); ++k) {
      double r2 = 0;
      for (std::size_t i = 0; i < x.size(); ++i) r2 += std::pow(x[i] - centres[k][i], 2);
      v -= depth[k] * std::exp(-r2 / (2 * width[k] * width[k]));
    }
    return v;
  };
}

TEST(ShgoLattice, RefinedToTheFullLatticeItIsExhaustiveSearch) {
  // Forced to refine until every point is a vertex, the result is the enumeration's, for any
  // function and feasible set (random values, a random third of the lattice infeasible).
  std::mt19937 rng(17);
  std::uniform_real_distribution<double> u(0, 1);
  ShgoOptions all;
  all.min_levels = all.max_levels = 12;
  for (int trial = 0; trial < 20; ++trial) {
    const std::vector<int> lo{-2, 3, 0}, hi{4, 9, trial % 4};
    std::map<std::vector<int>, double> value;
    std::map<std::vector<int>, bool> allowed;
    const LatticeObjective f = [&](const std::vector<int>& x) {
      auto it = value.find(x);
      return it != value.end() ? it->second : (value[x] = u(rng));
    };
    const auto ok = [&](const std::vector<int>& x) {
      auto it = allowed.find(x);
      return it != allowed.end() ? it->second : (allowed[x] = u(rng) > 0.33);
    };
    const LatticeResult r = shgo_lattice(f, lo, hi, ok, all);
    EXPECT_TRUE(r.exhaustive);
    EXPECT_DOUBLE_EQ(r.f, exhaustive(f, lo, hi, ok).first);
  }
}

TEST(ShgoLattice, FindsTheExhaustiveOptimumOfSmoothWellsWithFewerEvaluations) {
  std::mt19937 rng(23);
  int exact = 0, trials = 40;
  double evaluated = 0, lattice = 0;
  for (int trial = 0; trial < trials; ++trial) {
    const std::vector<int> lo{0, 0, 0}, hi{24, 18, 30};
    const LatticeObjective f = wells(rng, lo, hi, 4);
    const auto [best, size] = exhaustive(f, lo, hi, {});
    const LatticeResult r = shgo_lattice(f, lo, hi);
    EXPECT_GE(r.f, best - 1e-12);  // never better than the truth
    exact += std::abs(r.f - best) < 1e-12;
    evaluated += static_cast<double>(r.evaluations);
    lattice += static_cast<double>(size);
  }
  EXPECT_GE(exact, trials * 9 / 10);     // measured 39 of 40
  EXPECT_LT(evaluated, 0.25 * lattice);  // measured 0.17
}

TEST(Shgo, BadBoundsAndOptionsAreInputErrors) {
  const auto f = [](const std::vector<double>& v) { return v[0]; };
  try {
    shgo(f, {0, 2}, {1, 1});
    FAIL();
  } catch (const core::InputError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("dimension 1"), std::string::npos) << m;
    EXPECT_NE(m.find("exceeds"), std::string::npos) << m;
  }
  EXPECT_THROW(shgo(f, {}, {}), core::InputError);
  EXPECT_THROW(shgo(f, {0}, {1, 2}), core::InputError);
  EXPECT_THROW(shgo(f, {0}, {INFINITY}), core::InputError);
  ShgoOptions bad;
  bad.min_levels = -1;
  EXPECT_THROW(shgo(f, {0}, {1}, {}, bad), core::InputError);
  const LatticeObjective g = [](const std::vector<int>& v) { return double(v[0]); };
  EXPECT_THROW(shgo_lattice(g, {3}, {2}), core::InputError);
  ShgoOptions tiny;
  tiny.max_evaluations = 10;
  EXPECT_THROW(shgo_lattice(g, std::vector<int>(4, 0), std::vector<int>(4, 9), {}, tiny),
               core::InputError);
}

}  // namespace
}  // namespace hao::opt
