#include "ilp/quantize.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/error.hpp"
#include "ilp/quantize_mapper.hpp"
#include "support.hpp"

namespace hao::ilp {
namespace {

/// A random spec over {2, 4, 8} bits with Omega falling with the bits.
QuantizeSpec random_spec(const ir::Network& net, std::mt19937& rng) {
  QuantizeSpec spec;
  spec.choices = {{2, 2}, {4, 4}, {8, 8}};
  spec.omega.assign(net.layers.size(), {});
  for (std::size_t l = 0; l < net.layers.size(); ++l)
    if (net.layers[l].has_weights()) {
      const double trace = std::uniform_real_distribution<>(0.1, 1)(rng);
      spec.omega[l] = {trace * 16, trace * 4, trace};
    }
  return spec;
}

// The latency target's bisection over II targets against trying every integral II target: the
// least summed Omega among the designs that meet the latency.
TEST(Quantizer, LatencyBisectionEqualsEveryIiTargetTried) {
  std::mt19937 rng(17);
  int compared = 0, infeasible = 0, bisected = 0;
  for (int trial = 0; compared + infeasible < 20 && trial < 400; ++trial) {
    const ir::Network net = test::random_network(rng);
    const hw::Device device = test::random_device(rng);
    const QuantizeSpec spec = random_spec(net, rng);
    const Quantizer quantizer(device, QuantizeTemplate::kDataflow, {});
    // A latency between the fastest design's and three times it.
    QuantizeSpec fast = spec;
    fast.target_fps = quantizer.fastest(net, spec);
    if (fast.target_fps <= 0) continue;
    const QuantizeResult fastest = quantizer.at_fps(net, fast);
    if (!fastest.feasible) continue;
    const double fastest_cycles = static_cast<double>(fastest.dataflow.latency_cycles);
    const double target_cycles =
        std::floor(fastest_cycles * std::uniform_real_distribution<>(0.9, 3.0)(rng));
    if (target_cycles > 800) continue;  // every target below is one solve
    const double latency_ms = target_cycles / (device.clock_mhz * 1e3);

    double best = -1;
    for (double ii = target_cycles; ii >= 1; --ii) {
      QuantizeSpec s = spec;
      s.target_fps = device.clock_mhz * 1e6 / ii;
      const QuantizeResult q = quantizer.at_fps(net, s);
      const bool meets =
          q.feasible && static_cast<double>(q.dataflow.latency_cycles) <= target_cycles;
      if (ii == target_cycles && !meets) ++bisected;  // the first probe misses: a bisection
      if (q.feasible && static_cast<double>(q.dataflow.latency_cycles) <= target_cycles &&
          (best < 0 || q.omega < best))
        best = q.omega;
    }
    const QuantizeResult q = quantizer.at_latency(net, spec, latency_ms);
    const std::string ctx = "seed 17 trial " + std::to_string(trial) + ", target " +
                            std::to_string(target_cycles) + " cycles";
    if (best < 0) {
      ++infeasible;
      EXPECT_FALSE(q.feasible) << ctx;
      continue;
    }
    ++compared;
    ASSERT_TRUE(q.feasible) << ctx << ": " << q.reason;
    EXPECT_LE(static_cast<double>(q.dataflow.latency_cycles), target_cycles) << ctx;
    EXPECT_NEAR(q.omega, best, 1e-9) << ctx;
  }
  EXPECT_GE(compared, 12);
  EXPECT_GE(bisected, 3);  // instances where the design at the whole target is too slow
}

TEST(Quantizer, SweepRunsFromTheMostAccurateToTheFastestDesign) {
  std::mt19937 rng(3);
  for (int trial = 0; trial < 50; ++trial) {
    const ir::Network net = test::random_network(rng);
    const hw::Device device = test::random_device(rng);
    const QuantizeSpec spec = random_spec(net, rng);
    const Quantizer quantizer(device, QuantizeTemplate::kDataflow, {});
    const double fastest = quantizer.fastest(net, spec);
    const auto points = quantizer.sweep(net, spec, 4);
    if (fastest <= 0) {
      EXPECT_TRUE(points.empty());
      continue;
    }
    ASSERT_EQ(points.size(), 4u);
    EXPECT_NEAR(points.back().target_fps, fastest, 1e-6 * fastest);
    // Faster targets cost at least as much Omega.
    for (std::size_t k = 1; k < points.size(); ++k) {
      EXPECT_GE(points[k].target_fps, points[k - 1].target_fps * (1 - 1e-12));
      if (points[k].result.feasible && points[k - 1].result.feasible) {
        EXPECT_GE(points[k].result.omega, points[k - 1].result.omega - 1e-9);
      }
    }
    // The first target is the least-Omega allocation's fastest design: no Omega lower there.
    QuantizeSpec free = spec;
    free.target_fps = 0;
    const QuantizeResult least = quantizer.at_fps(net, free);
    ASSERT_TRUE(points.front().result.feasible);
    EXPECT_NEAR(points.front().result.omega, least.omega, 1e-9);
  }
  EXPECT_THROW(Quantizer(test::random_device(rng), QuantizeTemplate::kDataflow, {})
                   .sweep(test::random_network(rng), QuantizeSpec{}, 1),
               core::InputError);
}

TEST(Quantizer, ChoosableLayersAndTies) {
  ir::Network net;
  net.name = "n";
  net.input = {3, 8, 8};
  net.layers = {test::conv("a", -1, 4, 3), test::simple("r", ir::OpKind::kAct, {0}),
                test::conv("b", 1, 4, 3), test::conv("c", 2, 4, 1)};
  ir::infer_shapes(net, "test");
  EXPECT_EQ(choosable_layers(net, false), (std::vector<bool>{false, false, true, false}));
  EXPECT_EQ(choosable_layers(net, true), (std::vector<bool>{true, false, true, true}));
  const auto all = choosable_layers(net, true);
  EXPECT_EQ(resolve_ties({"a,c", "b"}, net, all, "--tie"), (std::vector<std::vector<int>>{{0, 3}}));
  try {
    resolve_ties({"a,zz", "a,r"}, net, all, "--tie");
    FAIL();
  } catch (const core::InputError& e) {
    ASSERT_EQ(e.problems().size(), 2u);
    EXPECT_NE(e.problems()[0].find("'zz', which 'n' lacks"), std::string::npos);
    EXPECT_NE(e.problems()[1].find("'r', whose bits are not chosen"), std::string::npos);
  }
}

}  // namespace
}  // namespace hao::ilp
