#include "ilp/engine_program.hpp"

#include <gtest/gtest.h>

#include <random>
#include <set>

#include "core/error.hpp"
#include "ir/model_io.hpp"
#include "support.hpp"

namespace hao::ilp {
namespace {

hw::Device engine_device(std::mt19937& rng) {
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  hw::Device d;
  d.name = "tiny";
  d.dsp = pick(8, 200);
  d.lut = pick(7000, 9000);
  d.bram36 = pick(3, 24);
  d.usable_fraction = 1.0;
  d.clock_mhz = 100;
  const double gbps[] = {0.02, 0.1, 0.5, 4};
  d.offchip_gbps = gbps[pick(0, 3)];
  return d;
}

std::vector<hw::EngineConfig> random_shapes(std::mt19937& rng) {
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  const std::int64_t lanes[] = {1, 2, 4, 8};
  std::vector<hw::EngineConfig> shapes;
  const int n = pick(1, 4);
  for (int i = 0; i < n; ++i) {
    hw::EngineConfig c;
    c.shape = {lanes[pick(0, 2)], lanes[pick(0, 3)], lanes[pick(0, 3)]};
    c.dw_lanes = lanes[pick(0, 3)];
    shapes.push_back(c);
  }
  return shapes;
}

// The backbone: on random small networks (with fusable and overlapping chains), devices and
// shape menus, the program's latency equals exhaustive enumeration's, and it says infeasible
// exactly when enumeration finds nothing.
TEST(EngineProgram, EqualsBruteForceOnRandomInstances) {
  constexpr unsigned kSeed = 2021;
  std::mt19937 rng(kSeed);
  int compared = 0, infeasible = 0, fused = 0;
  for (int trial = 0; compared + infeasible < 60; ++trial) {
    const ir::Network net = test::random_block_network(rng);
    const hw::Device device = engine_device(rng);
    EngineMapOptions o;
    o.shapes = random_shapes(rng);
    o.fusion = trial % 4 != 0;
    const std::string ctx = "seed " + std::to_string(kSeed) + " trial " + std::to_string(trial);
    const EngineMapResult brute = brute_force_engine(net, device, o);
    const EngineMapResult ilp = map_engine(net, device, o);
    if (!brute.feasible) {
      ++infeasible;
      EXPECT_FALSE(ilp.feasible) << ctx << ": ilp found " << ilp.eval.cycles;
      EXPECT_FALSE(ilp.reason.empty()) << ctx;
      continue;
    }
    ++compared;
    ASSERT_TRUE(ilp.feasible) << ctx << ": " << ilp.reason;
    EXPECT_EQ(ilp.stats.status, SolveStatus::kOptimal) << ctx;
    EXPECT_NEAR(ilp.eval.cycles, brute.eval.cycles, 1e-6 * brute.eval.cycles) << ctx;
    EXPECT_TRUE(ilp.eval.fits()) << ctx;
    for (const auto& s : ilp.design.steps) fused += s.kind == hw::UnitKind::kFused;
  }
  EXPECT_GE(compared, 30);
  EXPECT_GE(infeasible, 3);
  EXPECT_GE(fused, 10);  // the comparison covers fused designs
}

// Every layer that costs time runs exactly once, alone or inside one fused chain.
TEST(EngineProgram, EveryUnitRunsOnce) {
  std::mt19937 rng(5);
  for (int trial = 0; trial < 20; ++trial) {
    const ir::Network net = test::random_block_network(rng);
    hw::Device device = engine_device(rng);
    device.bram36 = 200, device.dsp = 500;
    const EngineMapResult r = map_engine(net, device, {});
    ASSERT_TRUE(r.feasible) << r.reason;
    std::vector<int> runs(net.layers.size(), 0);
    for (const auto& s : r.design.steps)
      for (int l : s.layers) ++runs[static_cast<std::size_t>(l)];
    for (const auto& u : hw::engine_work(net).units)
      EXPECT_EQ(runs[static_cast<std::size_t>(u.layers[0])], 1) << u.name;
  }
}

TEST(EngineProgram, FusionNeverHurtsAndHelpsWhenBandwidthIsScarce) {
  ir::Network net;
  net.input = {16, 32, 32};
  net.layers.push_back(test::conv("expand", ir::kNetworkInput, 96, 1));
  net.layers.push_back(test::simple("act", ir::OpKind::kAct, {0}));
  net.layers.push_back(test::conv("dw", 1, 96, 3, 1, 96));
  net.layers.push_back(test::conv("project", 2, 16, 1));
  ir::infer_shapes(net, "test");
  hw::Device d;
  d.name = "d";
  d.dsp = 400, d.lut = 100000, d.bram36 = 100;
  d.usable_fraction = 1, d.clock_mhz = 200, d.offchip_gbps = 0.4;
  EngineMapOptions with, without;
  without.fusion = false;
  const EngineMapResult f = map_engine(net, d, with);
  const EngineMapResult n = map_engine(net, d, without);
  ASSERT_TRUE(f.feasible && n.feasible);
  EXPECT_LT(f.eval.cycles, n.eval.cycles);
  EXPECT_LT(f.eval.bytes, n.eval.bytes);
  ASSERT_EQ(f.design.steps.size(), 1u);
  EXPECT_EQ(f.design.steps[0].kind, hw::UnitKind::kFused);
}

TEST(EngineProgram, PinnedEngineIsUsedAndMustFit) {
  std::mt19937 rng(3);
  const ir::Network net = test::random_block_network(rng);
  hw::Device d;
  d.name = "pinned";
  d.dsp = 2520, d.lut = 274080, d.bram36 = 912;
  d.engine_pinned = true;
  d.engine = hw::kDpuB4096;
  const EngineMapResult r = map_engine(net, d, {});
  ASSERT_TRUE(r.feasible) << r.reason;
  EXPECT_TRUE(r.design.config.shape == hw::kDpuB4096);
  EXPECT_EQ(r.design.config.dw_lanes, 16);
  d.dsp = 500;  // B4096 needs 1,088 DSP48E2
  try {
    map_engine(net, d, {});
    FAIL() << "expected an InputError";
  } catch (const core::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("pinned engine (pp 8, pi 16, po 16) does not fit"),
              std::string::npos)
        << e.what();
  }
}

// A time limit far below what CBC needs still returns a design that fits, with its gap, and
// never a worse one than the optimum without the limit claims to be.
TEST(EngineProgram, TimeLimitReturnsTheBestDesignWithItsGap) {
  const ir::Network net = ir::load_network(std::string(HAO_FIXTURES) + "/mobilenet_v2.onnx");
  const hw::Device device = hw::load_device("zu3eg");
  EngineMapOptions rushed;
  rushed.solve.time_limit_s = 1e-4;
  const EngineMapResult r = map_engine(net, device, rushed);
  const EngineMapResult full = map_engine(net, device, {});
  ASSERT_TRUE(full.feasible) << full.reason;
  EXPECT_EQ(full.stats.status, SolveStatus::kOptimal);
  ASSERT_TRUE(r.feasible) << r.reason;
  EXPECT_TRUE(r.stats.status == SolveStatus::kOptimal || r.stats.status == SolveStatus::kFeasible)
      << to_string(r.stats.status);
  EXPECT_GE(r.eval.cycles, full.eval.cycles * (1 - 1e-9));
  EXPECT_LE(r.bound_ms, r.eval.latency_ms * (1 + 1e-9));
  if (r.stats.status != SolveStatus::kOptimal) {
    EXPECT_GT(r.stats.gap, 0);
  }
}

TEST(EngineProgram, TooLittleBramIsInfeasibleWithTheLayerNamed) {
  ir::Network net;
  net.input = {64, 56, 56};
  net.layers.push_back(test::conv("big", ir::kNetworkInput, 64, 3));
  ir::infer_shapes(net, "test");
  hw::Device d;
  d.name = "d";
  d.dsp = 100, d.lut = 100000, d.bram36 = 6;  // a shape fits, but no tile of 'big' does
  d.usable_fraction = 1;
  EngineMapResult r = map_engine(net, d, {});
  EXPECT_FALSE(r.feasible);
  // One output row: input 2 buffers x 3 rows x 56 px x 64 channels = 21,504 bytes = 5 BRAM36;
  // weights 2 x 9 x 64 x 4 channels = 1 BRAM36, but 2 to deliver 4 x 4 weights per cycle;
  // output 1.
  EXPECT_NE(r.reason.find("'big' needs at least 8 BRAM36"), std::string::npos) << r.reason;
  EXPECT_NE(r.reason.find("6 usable"), std::string::npos) << r.reason;
  d.bram36 = 3;  // not even the narrowest buffers
  r = map_engine(net, d, {});
  EXPECT_FALSE(r.feasible);
  EXPECT_NE(r.reason.find("no engine shape fits"), std::string::npos) << r.reason;
  EXPECT_NE(r.reason.find("4 BRAM36 (its buffers' minimum width); usable 100 DSP"),
            std::string::npos)
      << r.reason;
}

// Program 3 on the engine against a reference that shares none of its contexts: for every bit
// assignment (honouring a tie), enumerate engines, buffers, tilings and fused chains at those
// bits with the datapath built for the widest choice; the least Omega whose latency meets the
// target is program 3's, and the program's design evaluates within the target and the device.
TEST(QuantizeEngine, EqualsEnumerationOverBitsAndEngines) {
  std::mt19937 rng(77);
  const std::vector<ir::BitWidths> choices = {{2, 2}, {4, 4}, {8, 8}};
  int compared = 0, infeasible = 0, mixed = 0;
  for (int trial = 0; compared + infeasible < 24 && trial < 300; ++trial) {
    const ir::Network net = test::random_block_network(rng);
    const hw::Device device = engine_device(rng);
    EngineMapOptions o;
    o.shapes = random_shapes(rng);
    o.datapath_weight_bits = o.datapath_act_bits = 8;
    QuantizeSpec spec;
    spec.choices = choices;
    spec.omega.assign(net.layers.size(), {});
    std::vector<int> chosen;
    for (std::size_t l = 0; l < net.layers.size() && chosen.size() < 4; ++l)
      if (net.layers[l].has_weights()) {
        const double t = std::uniform_real_distribution<>(0.1, 1)(rng);
        spec.omega[l] = {16 * t, 4 * t, t};
        chosen.push_back(static_cast<int>(l));
      }
    if (chosen.size() < 2) continue;
    if (chosen.size() >= 3) spec.ties.push_back({chosen[0], chosen[2]});
    // A target around the fastest 2-bit design's speed (a little above it: unreachable).
    EngineMapOptions plain = o;
    const EngineMapResult fast = map_engine(with_bits(net, choices,
                                                      [&] {
                                                        std::vector<int> b(net.layers.size(), -1);
                                                        for (int l : chosen)
                                                          b[static_cast<std::size_t>(l)] = 0;
                                                        return b;
                                                      }()),
                                            device, plain);
    if (!fast.feasible) continue;
    spec.target_fps = fast.eval.fps * std::uniform_real_distribution<>(0.3, 1.15)(rng);
    const double target_cycles = device.clock_mhz * 1e6 / spec.target_fps;

    double best = -1;
    test::for_each_choice(
        std::vector<std::size_t>(chosen.size(), choices.size()), [&](const std::vector<int>& pick) {
          if (chosen.size() >= 3 && pick[0] != pick[2]) return;
          std::vector<int> bits(net.layers.size(), -1);
          double omega = 0;
          for (std::size_t i = 0; i < chosen.size(); ++i) {
            const auto l = static_cast<std::size_t>(chosen[i]);
            bits[l] = pick[i];
            omega += spec.omega[l][static_cast<std::size_t>(pick[i])];
          }
          const EngineMapResult r = brute_force_engine(with_bits(net, choices, bits), device, o);
          if (r.feasible && r.eval.cycles <= target_cycles * (1 + 1e-9) &&
              (best < 0 || omega < best))
            best = omega;
        });
    const QuantizeResult q = quantize_engine(net, device, o, spec);
    const std::string ctx = "trial " + std::to_string(trial);
    if (best < 0) {
      ++infeasible;
      EXPECT_FALSE(q.feasible) << ctx;
      continue;
    }
    ++compared;
    ASSERT_TRUE(q.feasible) << ctx << ": " << q.reason;
    EXPECT_NEAR(q.omega, best, 1e-9) << ctx;
    EXPECT_TRUE(q.engine_eval.fits()) << ctx;
    EXPECT_LE(q.engine_eval.cycles, target_cycles * (1 + 1e-9)) << ctx;
    std::set<int> kinds(q.bits.begin(), q.bits.end());
    if (kinds.size() > 2) ++mixed;  // -1 (kept) plus two or more choices
  }
  EXPECT_GE(compared, 12);
  EXPECT_GE(infeasible, 2);
  EXPECT_GE(mixed, 3);
}

}  // namespace
}  // namespace hao::ilp
