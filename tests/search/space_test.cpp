#include <gtest/gtest.h>

#include <chrono>
#include <set>

#include "core/error.hpp"
#include "search/mbv2_domain.hpp"
#include "search/space_spec.hpp"

namespace hao::search {
namespace {

Mbv2Domain default_domain() {
  const SpaceSpec s = load_space("fmnist-mbv2", HAO_SHARED_DATA);
  return Mbv2Domain(s.mbv2, hw::load_device("zu3eg"));
}

TEST(SpaceSpec, BuiltInSpacesLoad) {
  const SpaceSpec m = load_space("fmnist-mbv2", "data");
  EXPECT_EQ(m.kind, "mbv2");
  EXPECT_EQ(m.mbv2.stages.size(), 4u);
  EXPECT_EQ(m.mbv2.depth, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(m.mbv2.width, (std::vector<double>{0.5, 0.75, 1.0}));
  const SpaceSpec t = load_space("nb201", "data");
  EXPECT_EQ(t.kind, "tabular");
  EXPECT_EQ(t.table.accuracy_file, "data/nb201/accuracy.csv");
  EXPECT_EQ(t.table.latency_column, "fpga");
  EXPECT_EQ(load_space("anb", "d").table.space, "anb");
}

std::string problems(const std::string& yaml) {
  try {
    parse_space(yaml, "s.yaml", "data");
  } catch (const core::InputError& e) {
    std::string all;
    for (const auto& p : e.problems()) all += p + "\n";
    return all;
  }
  return "";
}

TEST(SpaceSpec, BadFilesNameKeyAndValue) {
  const std::string ok =
      "name: x\nkind: mbv2\nstages: [{channels: 8, stride: 1}]\n"
      "choices: {depth: [1], width: [1.0], kernel: [3], expansion: [1], bits: [8]}\n";
  EXPECT_EQ(problems(ok), "");
  EXPECT_NE(problems(ok + "colour: red\n").find("s.yaml: colour: unknown key"), std::string::npos);
  std::string empty = ok;
  empty.replace(empty.find("kernel: [3]"), 11, "kernel: []");
  EXPECT_NE(problems(empty).find("choices.kernel: expected a non-empty list"), std::string::npos);
  std::string bits = ok;
  bits.replace(bits.find("bits: [8]"), 9, "bits: [8, 1]");
  EXPECT_NE(problems(bits).find("choices.bits[1]: 1 is out of range 2..8"), std::string::npos);
  EXPECT_NE(problems("name: x\nkind: dense\n").find("kind: 'dense', expected mbv2 or tabular"),
            std::string::npos);
  EXPECT_NE(problems("name: x\nkind: tabular\ngenotype: nb201\naccuracy: {file: a.csv}\n"
                     "latency: {file: b.csv, column: c, rows: 3}\n"),
            "");
  EXPECT_NE(problems("[1, 2").find("not YAML"), std::string::npos);
  EXPECT_THROW(load_space("no-such-space", "data"), core::InputError);
}

TEST(Mbv2Domain, GenotypesRoundTripAndMapOnZu3eg) {
  const Mbv2Domain d = default_domain();
  EXPECT_EQ(d.slots().size(), 4u * (2 + 3 * 3) + 1);
  Rng rng(3);
  std::set<Genotype> seen;
  int feasible = 0;
  for (int i = 0; i < 6; ++i) {
    const Genotype g = d.random(rng);
    ASSERT_TRUE(d.valid(g));
    EXPECT_EQ(d.parse(d.label(g), "test"), g) << d.label(g);
    const ir::Network net = d.network(g);
    EXPECT_EQ(net.layers.front().weight_bits, 8);
    EXPECT_EQ(net.layers.back().weight_bits, 8);
    seen.insert(g);
    const Hardware h = d.hardware(g);
    if (!h.feasible) {
      // 8-bit activations keep 255 thresholds per channel (FINN's MultiThreshold): on the
      // zu3eg a wide stage at 8 bits runs out of block RAM.
      EXPECT_NE(h.reason.find("usable on zu3eg"), std::string::npos) << h.reason;
      continue;
    }
    ++feasible;
    EXPECT_GT(h.fps, 0);
    EXPECT_DOUBLE_EQ(d.latency_ms(g), 1000.0 / h.fps);  // the frame interval, cached
    EXPECT_GE(h.latency_ms, d.latency_ms(g));           // a pipeline is at least one frame deep
  }
  EXPECT_EQ(seen.size(), 6u);
  EXPECT_GE(feasible, 3);
  // A block past its stage's depth holds choice 0: snapping clears it.
  Genotype g = d.random(rng);
  g[0] = 0;          // stage 0 depth 1
  g[2 + 3 + 0] = 1;  // block 1's kernel
  EXPECT_FALSE(d.valid(g));
  EXPECT_TRUE(d.valid(d.snap(g, rng)));
  EXPECT_THROW(d.parse("s0:d1,w1", "test"), core::InputError);
}

// The screening bound against program 1 itself on networks of the default space: never
// above the exact frame interval, infeasible only where program 1 finds nothing, and close.
TEST(Mbv2Domain, LatencyBoundIsBelowProgram1AndClose) {
  const Mbv2Domain d = default_domain();
  Rng rng(11);
  int feasible = 0, tight = 0;
  double worst = 1;
  for (int i = 0; i < 16; ++i) {
    const Genotype g = d.random(rng);
    const double bound = d.latency_bound_ms(g);
    const double exact = d.latency_ms(g);
    if (bound >= kInfeasibleMs) {
      EXPECT_GE(exact, kInfeasibleMs) << d.label(g);
      continue;
    }
    EXPECT_LE(bound, exact) << d.label(g);
    if (exact >= kInfeasibleMs) continue;
    ++feasible;
    tight += bound == exact;
    worst = std::min(worst, bound / exact);
    EXPECT_EQ(d.latency_bound_ms(g), exact);  // once known, the exact figure
  }
  EXPECT_GE(feasible, 8);
  EXPECT_GE(2 * tight, feasible) << tight << " of " << feasible << " tight";  // 9 of 11
  EXPECT_GE(worst, 0.75);                                                     // 0.80
}

}  // namespace
}  // namespace hao::search
