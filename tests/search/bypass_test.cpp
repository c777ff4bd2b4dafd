// Channel-level bypass (NetAdaptV2's CBC) in the mbv2 space: expansion 0 passes a block's
// input through, so that the block's width and its stage's depth are one dimension.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "core/error.hpp"
#include "hw/device.hpp"
#include "search/hurricane_strategy.hpp"
#include "search/made_up_accuracy.hpp"
#include "search/mbv2_domain.hpp"
#include "search/netadapt_strategy.hpp"
#include "search/slot_named.hpp"
#include "search/space_spec.hpp"

namespace hao::search {
namespace {

// Stage 0 keeps the stem's shape (stride 1, 8 channels at either width: its first block may
// be bypassed); stages 1 and 2 halve the map (their first blocks may not).
const char* kSpace =
    "name: cbc\nkind: mbv2\n"
    "input: {channels: 1, height: 12, width: 12, bits: 8}\n"
    "stem: {channels: 8, kernel: 3, stride: 1, bits: 8}\n"
    "stages: [{channels: 8, stride: 1}, {channels: 12, stride: 2}, {channels: 16, stride: 2}]\n"
    "head: {channels: 32}\n"
    "choices: {depth: [1, 2, 3], width: [0.5, 1.0], kernel: [3, 5], expansion: [0, 1, 3], "
    "bits: [4, 8]}\n";

const Mbv2Domain& bypass_space() {
  static const Mbv2Domain d(parse_space(kSpace, "cbc.yaml", HAO_SHARED_DATA).mbv2,
                            hw::load_device("zu9eg"));
  return d;
}

bool has_layer(const ir::Network& net, const std::string& name) { return net.find(name) >= 0; }

TEST(Bypass, ABypassedBlockIsTheStageWithoutIt) {
  const Mbv2Domain& d = bypass_space();
  Genotype g = d.largest();  // depth 3, expansion 3 everywhere
  g[slot_named(d, "s1.b1.expansion")] = 0;
  Rng rng(1);
  g = d.snap(g, rng);
  EXPECT_TRUE(d.valid(g));
  // Its kernel and bits say nothing: first choices, as a removed block's.
  EXPECT_EQ(g[slot_named(d, "s1.b1.kernel")], 0);
  EXPECT_EQ(g[slot_named(d, "s1.b1.bits")], 0);
  const ir::Network net = d.network(g);
  EXPECT_FALSE(has_layer(net, "s1b1_dw"));
  EXPECT_FALSE(has_layer(net, "s1b1_add"));
  EXPECT_TRUE(has_layer(net, "s1b2_add"));  // the next block reads the previous one's output
  EXPECT_EQ(net.layers[static_cast<std::size_t>(net.find("s1b2_expand"))].inputs,
            std::vector<int>{net.find("s1b0_project")});
  // The network has one block fewer than the largest, and the MACs of those that remain.
  const ir::Network largest = d.network(d.largest());
  std::int64_t bypassed = 0;
  for (const auto& l : largest.layers)
    if (l.name.rfind("s1b1_", 0) == 0) bypassed += l.macs();
  EXPECT_EQ(net.total_macs(), largest.total_macs() - bypassed);
  EXPECT_LT(d.latency_ms(g), kInfeasibleMs);
  EXPECT_EQ(d.parse(d.label(g), "test"), g);
  EXPECT_NE(d.label(g).find("|k3e0b4|"), std::string::npos) << d.label(g);
  // Where the block cannot pass its input through (stage 1's first: stride 2), 0 reads as the
  // smallest expansion.
  Genotype first = d.largest();
  first[slot_named(d, "s1.b0.expansion")] = 0;
  first = d.snap(first, rng);
  EXPECT_EQ(first[slot_named(d, "s1.b0.expansion")], 1);
  EXPECT_TRUE(has_layer(d.network(first), "s1b0_dw"));
  // Stage 0's first block keeps the stem's shape: it may go.
  Genotype stem_only = d.largest();
  stem_only[slot_named(d, "s0.b0.expansion")] = 0;
  stem_only = d.snap(stem_only, rng);
  EXPECT_EQ(stem_only[slot_named(d, "s0.b0.expansion")], 0);
  EXPECT_FALSE(has_layer(d.network(stem_only), "s0b0_dw"));
}

TEST(Bypass, TheSmallestNetworkBypassesEveryBlockThatCanBe) {
  const Mbv2Domain& d = bypass_space();
  const Genotype g = d.smallest();
  EXPECT_TRUE(d.valid(g));
  const ir::Network net = d.network(g);
  EXPECT_FALSE(has_layer(net, "s0b0_dw"));  // keeps the stem's shape
  EXPECT_TRUE(has_layer(net, "s1b0_dw"));   // stride 2: at the smallest expansion, 1
  EXPECT_TRUE(has_layer(net, "s2b0_dw"));
  EXPECT_FALSE(has_layer(net, "s1b0_expand"));
  // Random genotypes: valid when snapped, their networks built, their labels read back.
  Rng rng = rng_for(5, 0);
  std::set<std::string> labels;
  for (int i = 0; i < 40; ++i) {
    const Genotype r = d.random(rng);
    ASSERT_TRUE(d.valid(r)) << d.label(r);
    EXPECT_EQ(d.parse(d.label(r), "test"), r);
    const ir::Network n = d.network(r);
    EXPECT_GT(n.total_macs(), 0);
    labels.insert(d.label(r));
  }
  EXPECT_GT(labels.size(), 30u);
  // Program 4's contexts do not follow a bypass: the hao strategy works without it here.
  EXPECT_EQ(d.selection(), nullptr);
}

TEST(Bypass, NetAdaptsDescentRemovesBlocksByNarrowingThem) {
  const Mbv2Domain& d = bypass_space();
  AdaptOptions o;
  o.layers = 2;
  o.samples = 4;
  o.budget = 40;
  auto s = make_netadapt_strategy(d, 3, o);
  const std::vector<Genotype> asked = run_made_up(*s, d, o.budget);
  ASSERT_FALSE(asked.empty());
  // Depth and width are one dimension: some sample drops a block by its expansion (1 -> 0).
  std::size_t bypassing = 0;
  for (const Genotype& g : asked) {
    EXPECT_TRUE(d.valid(g)) << d.label(g);
    bypassing += d.label(g).find("e0b") != std::string::npos;
  }
  EXPECT_GT(bypassing, 0u);
  // The descent ends at the smallest network, whose blocks are bypassed where they can be.
  const AdaptTrajectory t = adapt_trajectory(d, o, 3, s->history());
  EXPECT_TRUE(t.complete);
  EXPECT_NEAR(t.steps.back().latency_ms, d.latency_ms(d.smallest()),
              1e-9 * d.latency_ms(d.smallest()));
}

TEST(Bypass, HurricaneNeverKeepsABypassAsAnOperator) {
  const Mbv2Domain& d = bypass_space();
  for (const OperatorPool& pool : select_operators(d, 3)) {
    SCOPED_TRACE(pool.position.name);
    std::size_t kept = 0, bypasses = 0;
    for (const PooledOperator& op : pool.operators) {
      const bool bypass =
          d.slots()[pool.position.slots[1]].choices[static_cast<std::size_t>(op.choices[1])] == "0";
      if (bypass) {
        EXPECT_EQ(op.choices[0], 0);  // a bypass has no kernel: one such operator
        EXPECT_EQ(op.score, 0);       // no MACs, no latency
        EXPECT_FALSE(op.kept);
      }
      bypasses += bypass;
      kept += op.kept;
    }
    // Blocks that can pass their input through have the bypass among their operators (2
    // kernels x 2 expansions + 1); the first blocks of stages 1 and 2 (stride 2) have not.
    const bool halves = pool.position.name == "s1.b0" || pool.position.name == "s2.b0";
    EXPECT_EQ(bypasses, halves ? 0u : 1u);
    EXPECT_EQ(pool.operators.size(), halves ? 4u : 5u);
    EXPECT_EQ(kept, 3u);
  }
}

TEST(Bypass, ASpaceWhoseOnlyExpansionIsABypassIsRefused) {
  std::string text = kSpace;
  text.replace(text.find("expansion: [0, 1, 3]"), 20, "expansion: [0]");
  try {
    parse_space(text, "cbc.yaml", HAO_SHARED_DATA);
    FAIL() << "expansion [0] accepted";
  } catch (const core::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("cbc.yaml"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("choices.expansion"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace hao::search
