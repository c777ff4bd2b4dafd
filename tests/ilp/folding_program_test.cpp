#include "ilp/folding_program.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <limits>
#include <random>

#include "support.hpp"

namespace hao::ilp {
namespace {
std::vector<std::size_t> sizes_of(const FoldingProblem& p) {
  std::vector<std::size_t> sizes;
  for (const auto& c : p.candidates) sizes.push_back(c.size());
  return sizes;
}
}  // namespace

// The backbone: on random small networks and devices, every formulation finds the II that
// exhaustive enumeration finds, and reports infeasibility exactly when enumeration does.
TEST(FoldingProgram, MinIiEqualsBruteForceOnRandomInstances) {
  constexpr unsigned kSeed = 2021;
  std::mt19937 rng(kSeed);
  int compared = 0, infeasible = 0;
  for (int trial = 0; compared + infeasible < 60; ++trial) {
    const ir::Network net = test::random_network(rng);
    const hw::Device device = test::random_device(rng);
    const FoldingProblem p = make_folding_problem(net, device, {});
    std::size_t combos = 1;
    for (const auto& c : p.candidates) combos *= c.size();
    if (combos > 2000000) continue;  // keep enumeration fast
    const FoldingSolution brute = brute_force_min_ii(p);
    const FoldingSolution bisect = minimize_ii_bisect(p, {});
    const FoldingSolution direct = minimize_ii(p, {});
    const std::string ctx = "seed " + std::to_string(kSeed) + " trial " + std::to_string(trial) +
                            " combos " + std::to_string(combos);
    if (!brute.has_solution()) {
      ++infeasible;
      EXPECT_EQ(bisect.stats.status, SolveStatus::kInfeasible) << ctx;
      EXPECT_EQ(direct.stats.status, SolveStatus::kInfeasible) << ctx;
      continue;
    }
    ++compared;
    ASSERT_EQ(bisect.stats.status, SolveStatus::kOptimal) << ctx;
    ASSERT_EQ(direct.stats.status, SolveStatus::kOptimal) << ctx;
    EXPECT_EQ(bisect.ii_cycles, brute.ii_cycles) << ctx;
    EXPECT_EQ(direct.ii_cycles, brute.ii_cycles) << ctx;
    EXPECT_TRUE(fits(bisect.used, p.capacity)) << ctx;
    EXPECT_TRUE(fits(direct.used, p.capacity)) << ctx;
    EXPECT_EQ(bisect.stats.gap, 0) << ctx;
  }
  EXPECT_GE(compared, 50);
}

namespace {

// On `make(pick)`'s networks (pick(lo, hi) draws an integer) and random devices, 25 instances
// that enumeration solves: both formulations find its II. `check` sees each problem too.
void expect_enumeration_ii(
    unsigned seed, const std::function<ir::Network(const std::function<int(int, int)>&)>& make,
    const std::function<void(const FoldingProblem&)>& check = {}) {
  std::mt19937 rng(seed);
  const std::function<int(int, int)> pick = [&](int lo, int hi) {
    return std::uniform_int_distribution<int>(lo, hi)(rng);
  };
  int compared = 0;
  for (int trial = 0; compared < 25 && trial < 400; ++trial) {
    ir::Network net = make(pick);
    for (auto& l : net.layers) l.weight_bits = l.act_bits = pick(0, 1) ? 4 : 8;
    ir::infer_shapes(net, net.name);
    const hw::Device device = test::random_device(rng);
    const FoldingProblem p = make_folding_problem(net, device, {});
    std::size_t combos = 1;
    for (const auto& c : p.candidates) combos *= c.size();
    if (combos > 2000000) continue;
    const FoldingSolution brute = brute_force_min_ii(p);
    if (!brute.has_solution()) continue;
    SCOPED_TRACE("seed " + std::to_string(seed) + " trial " + std::to_string(trial));
    const FoldingSolution bisect = minimize_ii_bisect(p, {});
    const FoldingSolution direct = minimize_ii(p, {});
    ASSERT_EQ(bisect.stats.status, SolveStatus::kOptimal);
    ASSERT_EQ(direct.stats.status, SolveStatus::kOptimal);
    EXPECT_EQ(bisect.ii_cycles, brute.ii_cycles);
    EXPECT_EQ(direct.ii_cycles, brute.ii_cycles);
    if (check) check(p);
    ++compared;
  }
  EXPECT_EQ(compared, 25);
}

}  // namespace

// Transposed convs (a pixel padding, FINN's FMPadding_Pixel, then a stride-1 conv of random
// kernel and padding): every formulation finds enumeration's II, pixel padding lanes included.
TEST(FoldingProgram, TransposedConvEqualsBruteForce) {
  expect_enumeration_ii(
      2026,
      [](const std::function<int(int, int)>& pick) {
        ir::Network net;
        net.name = "deconv";
        net.input = {pick(1, 3), pick(2, 5), pick(2, 5)};
        net.layers.push_back(test::conv("c0", ir::kNetworkInput, pick(1, 3) * 2, 1));
        ir::Layer pad = test::simple("pad", ir::OpKind::kPixelPad, {0});
        pad.stride_h = pick(1, 3), pad.stride_w = pick(1, 3);
        net.layers.push_back(pad);
        ir::Layer up = test::conv("up", 1, pick(1, 3) * 2, pick(2, 3));
        up.pad_top = up.pad_left = up.kernel_h - 1;
        up.pad_bottom = up.kernel_h - 1 + pick(0, 1), up.pad_right = pick(0, 1);
        net.layers.push_back(up);
        if (pick(0, 1)) net.layers.push_back(test::simple("act", ir::OpKind::kAct, {2}));
        return net;
      },
      [](const FoldingProblem& p) {
        EXPECT_GT(p.candidates[1].size(), 1u);  // the pixel padding's lanes are chosen too
      });
}

// Dilated convs (random kernels, dilations, strides and padding; plain and depthwise): every
// formulation finds enumeration's II, the window unit's dilated buffer included.
TEST(FoldingProgram, DilatedConvEqualsBruteForce) {
  expect_enumeration_ii(2027, [](const std::function<int(int, int)>& pick) {
    ir::Network net;
    net.name = "dilated";
    net.input = {pick(1, 3) * 2, pick(5, 9), pick(5, 9)};
    const bool depthwise = pick(0, 1) == 1;
    ir::Layer d = test::conv("d", ir::kNetworkInput, depthwise ? net.input.c : pick(1, 3) * 2,
                             pick(2, 3), pick(1, 2), depthwise ? net.input.c : 1);
    d.dilation_h = pick(1, 3), d.dilation_w = pick(1, 2);
    d.pad_top = d.pad_bottom = pick(0, 2), d.pad_left = d.pad_right = pick(0, 2);
    net.layers.push_back(d);
    if (pick(0, 1)) net.layers.push_back(test::simple("act", ir::OpKind::kAct, {0}));
    return net;
  });
}

// The solver-free bound never exceeds the optimum enumeration finds, says "nothing fits" only
// when nothing does, and is not vacuous: on some instances it is the optimum itself.
TEST(FoldingProgram, RelaxedBoundIsBelowTheOptimumAndOftenTight) {
  constexpr unsigned kSeed = 77;
  std::mt19937 rng(kSeed);
  hw::DataflowOptions options;
  int compared = 0, tight = 0, infeasible = 0;
  for (int trial = 0; compared < 60 && trial < 3000; ++trial) {
    options.split_threshold_choice = trial % 2 == 1;
    const ir::Network net = test::random_network(rng);
    const hw::Device device = test::random_device(rng);
    const FoldingProblem p = make_folding_problem(net, device, options);
    std::size_t combos = 1;
    for (const auto& c : p.candidates) combos *= c.size();
    if (combos > 2000000) continue;
    const FoldingSolution brute = brute_force_min_ii(p);
    const std::int64_t bound = relaxed_ii_bound(p);
    const std::string ctx = "seed " + std::to_string(kSeed) + " trial " + std::to_string(trial);
    if (bound == std::numeric_limits<std::int64_t>::max()) {
      EXPECT_FALSE(brute.has_solution()) << ctx;
      ++infeasible;
      continue;
    }
    EXPECT_GE(bound, p.min_ii_cycles) << ctx;
    if (!brute.has_solution()) continue;
    ++compared;
    EXPECT_LE(bound, brute.ii_cycles) << ctx;
    tight += bound == brute.ii_cycles;
  }
  EXPECT_GE(compared, 60);
  EXPECT_GT(tight, compared / 4) << tight << " of " << compared << " tight";
  EXPECT_GT(infeasible, 0);
}

// With the thresholds' placement a choice (inside the MVAU/VVAU or split off into a
// Thresholding node), tied across each MVAU/VVAU and its activation by a link row: the same
// optima as enumeration over the choices that agree on every link.
TEST(FoldingProgram, LinkedThresholdPlacementEqualsBruteForce) {
  constexpr unsigned kSeed = 4242;
  std::mt19937 rng(kSeed);
  hw::DataflowOptions options;
  options.split_threshold_choice = true;
  int compared = 0, linked = 0;
  for (int trial = 0; compared < 40 && trial < 3000; ++trial) {
    const ir::Network net = test::random_network(rng);
    const hw::Device device = test::random_device(rng);
    const FoldingProblem p = make_folding_problem(net, device, options);
    std::size_t combos = 1;
    for (const auto& c : p.candidates) combos *= c.size();
    if (combos > 2000000 || p.links.empty()) continue;
    ++linked;
    const FoldingSolution brute = brute_force_min_ii(p);
    const FoldingSolution bisect = minimize_ii_bisect(p, {});
    const FoldingSolution direct = minimize_ii(p, {});
    const std::string ctx = "seed " + std::to_string(kSeed) + " trial " + std::to_string(trial);
    if (!brute.has_solution()) {
      EXPECT_EQ(bisect.stats.status, SolveStatus::kInfeasible) << ctx;
      continue;
    }
    ++compared;
    ASSERT_TRUE(bisect.has_solution()) << ctx;
    ASSERT_TRUE(direct.has_solution()) << ctx;
    EXPECT_EQ(bisect.ii_cycles, brute.ii_cycles) << ctx;
    EXPECT_EQ(direct.ii_cycles, brute.ii_cycles) << ctx;
    EXPECT_TRUE(links_agree(p, bisect.choice)) << ctx;
    EXPECT_TRUE(links_agree(p, direct.choice)) << ctx;
    EXPECT_TRUE(fits(bisect.used, p.capacity)) << ctx;
  }
  EXPECT_EQ(compared, 40);
  EXPECT_GE(linked, compared);
}

// Every configuration of a gated activation (hard-swish: fork, gate thresholds, multiply,
// requantizer) is matched by one of a ReLU in its place at least as fast and cheap (its
// thresholds split off at the same PE), so program 1 never maps a network faster with
// hard-swish than with ReLU: the model cannot make hard-swish look cheaper.
TEST(FoldingProgram, HardSwishNeverMapsFasterThanRelu) {
  constexpr unsigned kSeed = 31;
  std::mt19937 rng(kSeed);
  int compared = 0;
  for (int trial = 0; trial < 40; ++trial) {
    const ir::Network relu = test::random_block_network(rng);
    const hw::Device device = test::random_device(rng);
    ir::Network hswish = relu;
    bool gated = false;
    for (auto& l : hswish.layers)
      if (l.op == ir::OpKind::kAct) l.act = ir::ActKind::kHardSwish, gated = true;
    if (!gated) continue;
    ir::infer_shapes(hswish, "t");
    const FoldingSolution a = minimize_ii_bisect(make_folding_problem(relu, device, {}), {});
    const FoldingSolution b = minimize_ii_bisect(make_folding_problem(hswish, device, {}), {});
    const std::string ctx = "seed " + std::to_string(kSeed) + " trial " + std::to_string(trial);
    if (!a.has_solution()) {
      EXPECT_FALSE(b.has_solution()) << ctx;
      continue;
    }
    if (b.has_solution()) {  // (hard-swish may not fit where ReLU does)
      EXPECT_GE(b.ii_cycles, a.ii_cycles) << ctx;
    }
    ++compared;
  }
  EXPECT_GE(compared, 10);
}

TEST(FoldingProgram, MinResourcesForTargetEqualsBruteForce) {
  constexpr unsigned kSeed = 77;
  std::mt19937 rng(kSeed);
  int compared = 0;
  for (int trial = 0; compared < 40 && trial < 400; ++trial) {
    const ir::Network net = test::random_network(rng);
    const hw::Device device = test::random_device(rng);
    const FoldingProblem p = make_folding_problem(net, device, {});
    const FoldingSolution fastest = brute_force_min_ii(p);
    if (!fastest.has_solution()) continue;
    const std::int64_t target = fastest.ii_cycles * (1 + static_cast<std::int64_t>(rng() % 4));
    // Enumerate: least sum of used/capacity over choices within the target.
    FoldingProblem limited = p;
    for (auto& layer : limited.candidates) {
      std::vector<hw::Candidate> keep;
      for (const auto& c : layer)
        if (c.cost.cycles <= target) keep.push_back(c);
      layer = keep;
    }
    std::size_t combos = 1;
    for (const auto& c : limited.candidates) combos *= c.size();
    if (combos > 500000) continue;
    auto objective = [&](const hw::Resources& u) {
      auto w = [](double used, double cap) { return cap > 0 ? used / cap : 0.0; };
      return w(u.dsp, p.capacity.dsp) + w(u.lut, p.capacity.lut) + w(u.bram36, p.capacity.bram36) +
             w(u.uram, p.capacity.uram);
    };
    double best = 1e300;
    test::for_each_choice(sizes_of(limited), [&](const std::vector<int>& choice) {
      const hw::Resources u = choice_resources(limited, choice);
      if (fits(u, p.capacity)) best = std::min(best, objective(u));
    });
    const FoldingSolution s = minimize_resources(p, target, {});
    ASSERT_TRUE(s.has_solution()) << "seed " << kSeed << " trial " << trial;
    EXPECT_LE(s.ii_cycles, target);
    EXPECT_NEAR(objective(s.used), best, 1e-7) << "seed " << kSeed << " trial " << trial;
    ++compared;
  }
  EXPECT_GE(compared, 40);
}

TEST(FoldingProgram, LeastExcessEqualsBruteForce) {
  constexpr unsigned kSeed = 404;
  std::mt19937 rng(kSeed);
  int compared = 0;
  for (int trial = 0; compared < 30 && trial < 2000; ++trial) {
    const ir::Network net = test::random_network(rng);
    hw::Device device = test::random_device(rng);
    device.lut /= 4;  // make most instances infeasible
    const FoldingProblem p = make_folding_problem(net, device, {});
    std::size_t combos = 1;
    for (const auto& c : p.candidates) combos *= c.size();
    if (combos > 300000 || brute_force_min_ii(p).has_solution()) continue;
    auto excess = [&](const hw::Resources& u) {
      auto e = [](double used, double cap) {
        return std::max(0.0, used - cap) / std::max(cap, 1.0);
      };
      return e(u.dsp, p.capacity.dsp) + e(u.lut, p.capacity.lut) + e(u.bram36, p.capacity.bram36) +
             e(u.uram, p.capacity.uram);
    };
    double best = 1e300;
    test::for_each_choice(sizes_of(p), [&](const std::vector<int>& choice) {
      best = std::min(best, excess(choice_resources(p, choice)));
    });
    const FoldingSolution s = least_excess(p, {});
    ASSERT_EQ(s.stats.status, SolveStatus::kOptimal) << "seed " << kSeed << " trial " << trial;
    EXPECT_NEAR(excess(s.used), best, 1e-7) << "seed " << kSeed << " trial " << trial;
    ++compared;
  }
  EXPECT_GE(compared, 30);
}

TEST(FoldingProgram, ExplainsWhyNothingFits) {
  ir::Network net;
  net.name = "n";
  net.input = {64, 8, 8};
  net.layers.push_back(test::conv("big", ir::kNetworkInput, 512, 3));
  ir::infer_shapes(net, "t");
  hw::Device d;
  d.name = "tiny";
  d.dsp = 4;
  d.lut = 300;
  d.bram36 = 2;
  d.usable_fraction = 1.0;
  const FoldingProblem p = make_folding_problem(net, d, {});
  EXPECT_EQ(minimize_ii_bisect(p, {}).stats.status, SolveStatus::kInfeasible);
  const std::string why = explain_infeasible(p, net, d);
  EXPECT_NE(why.find("layer 'big' alone does not fit on tiny"), std::string::npos) << why;
  EXPECT_NE(why.find("its weights need"), std::string::npos) << why;

  // Weights that fit on chip in all, but in no one kind of memory: BRAM 73,728 bits, LUTRAM
  // 128,000 bits, the layer 147,456.
  ir::Network one;
  one.name = "m";
  one.input = {64, 4, 4};
  one.layers.push_back(test::conv("mid", ir::kNetworkInput, 32, 3));
  ir::infer_shapes(one, "t");
  d.dsp = 1000;
  d.lut = 2000;
  const FoldingProblem r = make_folding_problem(one, d, {});
  EXPECT_EQ(minimize_ii_bisect(r, {}).stats.status, SolveStatus::kInfeasible);
  const std::string why_one = explain_infeasible(r, one, d);
  EXPECT_NE(why_one.find("layer 'mid' alone does not fit on tiny: its weights (0.15 Mbit) fit in "
                         "no one kind of on-chip memory"),
            std::string::npos)
      << why_one;
  EXPECT_NE(why_one.find("0.07 Mbit of BRAM (2 BRAM36), 0.13 Mbit of LUTRAM"), std::string::npos)
      << why_one;  // no URAM on this device: not named
  EXPECT_NE(why_one.find("0.13 Mbit of LUTRAM (2000 LUTs)"), std::string::npos) << why_one;

  // With a second layer as large the network's weights do not fit together either: that
  // comes first (what to fix first), naming the largest layers.
  one.layers.push_back(test::conv("next", 0, 64, 3));
  ir::infer_shapes(one, "t");
  const FoldingProblem q = make_folding_problem(one, d, {});
  const std::string why_two = explain_infeasible(q, one, d);
  EXPECT_NE(why_two.find("the weights do not fit on chip: they need 0.29 Mbit > 0.20 Mbit"),
            std::string::npos)
      << why_two;
  EXPECT_NE(why_two.find("largest: 'next' 0.15 Mbit, 'mid' 0.15 Mbit"), std::string::npos)
      << why_two;
}

TEST(FoldingProgram, ParetoFrontTradesSpeedForResources) {
  std::mt19937 rng(9);
  ir::Network net = test::random_network(rng);
  hw::Device d;
  d.name = "roomy";
  d.dsp = 1000;
  d.lut = 100000;
  d.bram36 = 100;
  d.usable_fraction = 1.0;
  const FoldingProblem p = make_folding_problem(net, d, {});
  const FoldingSolution fastest = minimize_ii_bisect(p, {});
  ASSERT_TRUE(fastest.has_solution());
  const auto front = pareto_sweep(p, 100, fastest.ii_cycles, 8, {});
  ASSERT_FALSE(front.empty());
  EXPECT_EQ(front.front().ii_cycles, fastest.ii_cycles);
  for (std::size_t i = 1; i < front.size(); ++i)
    EXPECT_GT(front[i].ii_cycles, front[i - 1].ii_cycles);
}

}  // namespace hao::ilp
