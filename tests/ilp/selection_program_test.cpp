#include "ilp/selection_program.hpp"

#include <gtest/gtest.h>

#include <random>

#include "core/error.hpp"
#include "ilp/folding_program.hpp"

namespace hao::ilp {
namespace {

// A random layer: configurations trading cycles for DSP and LUT, BRAM now and then.
std::vector<hw::Candidate> random_layer(std::mt19937& rng) {
  std::uniform_int_distribution<int> n(1, 4), cycles(50, 400), dsp(0, 12), lut(100, 2000),
      bram(0, 3);
  std::vector<hw::Candidate> layer;
  const int count = n(rng);
  for (int k = 0; k < count; ++k) {
    hw::Candidate c;
    c.cost.cycles = cycles(rng);
    c.cost.res.dsp = dsp(rng);
    c.cost.res.lut = lut(rng);
    c.cost.res.bram36 = bram(rng);
    layer.push_back(c);
  }
  return layer;
}

SlotCondition random_condition(const std::vector<int>& sizes, std::mt19937& rng) {
  SlotCondition c;
  c.slot = std::uniform_int_distribution<int>(0, static_cast<int>(sizes.size()) - 1)(rng);
  const int n = sizes[static_cast<std::size_t>(c.slot)];
  for (int k = 0; k < n; ++k)
    if (rng() % 2) c.choices.push_back(k);
  if (c.choices.empty()) c.choices.push_back(static_cast<int>(rng() % static_cast<unsigned>(n)));
  return c;
}

SelectionProblem random_problem(unsigned seed) {
  std::mt19937 rng(seed);
  SelectionProblem p;
  const int slots = std::uniform_int_distribution<int>(2, 5)(rng);
  std::uniform_real_distribution<double> gain(-1, 1);
  for (int s = 0; s < slots; ++s) {
    p.slot_sizes.push_back(std::uniform_int_distribution<int>(1, 3)(rng));
    p.gain.push_back({});
    for (int c = 0; c < p.slot_sizes.back(); ++c) p.gain.back().push_back(gain(rng));
  }
  SelectionPart always{"always", {}, 0, {random_layer(rng)}};
  p.parts.push_back(always);
  const int parts = std::uniform_int_distribution<int>(2, 7)(rng);
  for (int q = 0; q < parts; ++q) {
    SelectionPart part;
    part.name = "part" + std::to_string(q);
    const int conditions = std::uniform_int_distribution<int>(1, 3)(rng);
    for (int i = 0; i < conditions; ++i) part.when.push_back(random_condition(p.slot_sizes, rng));
    part.gain = rng() % 3 ? gain(rng) : 0.0;  // some parts are hardware only
    const int layers = std::uniform_int_distribution<int>(0, 2)(rng);
    for (int l = 0; l < layers; ++l) part.layers.push_back(random_layer(rng));
    p.parts.push_back(part);
  }
  if (rng() % 2)
    p.implications.push_back(
        {random_condition(p.slot_sizes, rng), random_condition(p.slot_sizes, rng)});
  p.capacity.dsp = std::uniform_int_distribution<int>(5, 40)(rng);
  p.capacity.lut = std::uniform_int_distribution<int>(1500, 9000)(rng);
  p.capacity.bram36 = std::uniform_int_distribution<int>(0, 8)(rng);
  p.min_ii_cycles = 60;
  return p;
}

void expect_consistent(const SelectionProblem& p, const SelectionSolution& s, std::int64_t target) {
  ASSERT_TRUE(s.has_solution());
  EXPECT_TRUE(selection_valid(p, s.choice));
  EXPECT_LE(s.ii_cycles, target);
  EXPECT_TRUE(fits(s.used, p.capacity));
  EXPECT_NEAR(s.gain, selection_gain(p, s.choice), 1e-9);
  for (std::size_t q = 0; q < p.parts.size(); ++q)
    for (int k : s.configs[q])
      EXPECT_EQ(k >= 0, part_present(p.parts[q], s.choice)) << "part " << q;
}

// The MILP's optimum equals enumeration over every slot assignment and every configuration of
// the present layers, at several II targets, on 300 random instances (conditions over sets of
// choices, parts without hardware, implications, tight capacities).
TEST(SelectionProgram, EqualsBruteForceOnRandomInstances) {
  int feasible = 0, infeasible = 0;
  for (unsigned seed = 1; seed <= 300; ++seed) {
    const SelectionProblem p = random_problem(seed);
    const auto [lower, upper] = selection_ii_range(p);
    for (std::int64_t target : {lower, (lower + upper) / 2, upper}) {
      const SelectionSolution milp = solve_selection(p, target, {});
      const SelectionSolution brute = brute_force_selection(p, target);
      ASSERT_EQ(milp.has_solution(), brute.has_solution()) << "seed " << seed << " T " << target;
      if (!brute.has_solution()) {
        ++infeasible;
        continue;
      }
      ++feasible;
      EXPECT_EQ(milp.stats.status, SolveStatus::kOptimal);
      EXPECT_NEAR(milp.gain, brute.gain, 1e-6) << "seed " << seed << " T " << target;
      expect_consistent(p, milp, target);
      expect_consistent(p, brute, target);
      // Started from the tighter design, the looser target has the same optimum.
      const SelectionSolution started = solve_selection(p, upper, {}, &brute);
      ASSERT_TRUE(started.has_solution());
      EXPECT_NEAR(started.gain, brute_force_selection(p, upper).gain, 1e-6) << "seed " << seed;
      // selection_design prices a given network alone.
      const SelectionSolution alone = selection_design(p, brute.choice, target, {});
      ASSERT_TRUE(alone.has_solution());
      expect_consistent(p, alone, target);
    }
  }
  // Both outcomes occur, so the comparison covers them.
  EXPECT_GT(feasible, 300);
  EXPECT_GT(infeasible, 10);
}

TEST(SelectionProgram, RangeBoundsEveryDesign) {
  for (unsigned seed = 1; seed <= 50; ++seed) {
    const SelectionProblem p = random_problem(seed);
    const auto [lower, upper] = selection_ii_range(p);
    EXPECT_FALSE(brute_force_selection(p, lower - 1).has_solution())
        << "a design faster than the lower bound, seed " << seed;
    // Anything that fits at all fits at the upper bound.
    const SelectionSolution at_upper = brute_force_selection(p, upper);
    const SelectionSolution beyond = brute_force_selection(p, upper * 10);
    EXPECT_EQ(at_upper.has_solution(), beyond.has_solution());
    if (beyond.has_solution()) {
      EXPECT_NEAR(at_upper.gain, beyond.gain, 1e-9);
    }
  }
}

TEST(SelectionProgram, MalformedInstancesAreInputErrors) {
  SelectionProblem p = random_problem(7);
  p.parts[1].when = {{static_cast<int>(p.slot_sizes.size()), {0}}};
  EXPECT_THROW(solve_selection(p, 1000, {}), core::InputError);
  p = random_problem(7);
  p.parts[1].when = {{0, {p.slot_sizes[0]}}};
  EXPECT_THROW(solve_selection(p, 1000, {}), core::InputError);
  p = random_problem(7);
  p.gain.pop_back();
  EXPECT_THROW(solve_selection(p, 1000, {}), core::InputError);
}

TEST(SelectionProgram, TargetBelowTheInputTransferIsInfeasible) {
  const SelectionProblem p = random_problem(3);
  const SelectionSolution s = solve_selection(p, p.min_ii_cycles - 1, {});
  EXPECT_EQ(s.stats.status, SolveStatus::kInfeasible);
  EXPECT_FALSE(s.stats.message.empty());
}

}  // namespace
}  // namespace hao::ilp
