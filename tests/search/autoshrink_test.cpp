#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "core/error.hpp"
#include "hw/device.hpp"
#include "search/autoshrink_domain.hpp"
#include "search/autoshrink_strategy.hpp"
#include "search/space_spec.hpp"
#include "search/tabular.hpp"

namespace hao::search {
namespace {

const AutoShrinkDomain& cells() {
  static const AutoShrinkDomain domain(load_space("fmnist-autoshrink", HAO_SHARED_DATA).autoshrink,
                                       hw::load_device("zu3eg"));
  return domain;
}

// A made-up accuracy with structure: each edge is worth its own number of points, node 3's
// inputs most; the cell input's direct edges least.
double accuracy(const Genotype& g) {
  double a = 70;
  for (std::size_t s = 0; s < g.size(); ++s)
    if (g[s] == 1) a += 0.3 + 0.17 * static_cast<double>((s * 7) % 10);
  return a;
}

Observation observe(const Genotype& g) { return {g, accuracy(g), 1.0, {}}; }

double score(const Genotype& g) {
  return accuracy(g) - 10 * (std::log10(cells().topology(g)->macs) - 6);
}

// Runs the strategy until its trajectory is complete; returns the asks in order.
std::vector<Genotype> run(Strategy& s, int budget) {
  std::vector<Genotype> asked;
  for (int i = 0; i < budget; ++i) {
    const Genotype g = s.ask();
    asked.push_back(g);
    s.tell(observe(g));
  }
  return asked;
}

StrategyOptions with_k(int k) {
  StrategyOptions o;
  o.shrink_candidates = k;
  return o;
}

}  // namespace

TEST(AutoShrinkDomain, EdgeSlotsLabelsAndTheCanonicalForm) {
  const AutoShrinkDomain& d = cells();
  ASSERT_EQ(d.slots().size(), 10u);
  EXPECT_EQ(d.slots()[0].name, "e0-1");
  EXPECT_EQ(d.slots()[9].name, "e3-4");
  const Genotype full = d.full();
  EXPECT_TRUE(d.valid(full));
  EXPECT_EQ(d.label(full), "sep3:0;conv1:0,1;sep3:0,1,2;conv1:0,1,2,3");
  EXPECT_EQ(d.parse(d.label(full), "test"), full);

  // Without 0 -> 1, node 1 is unreached: its edges 1 -> 2, 1 -> 3, 1 -> 4 are dropped.
  Genotype g = full;
  g[0] = 0;
  EXPECT_FALSE(d.valid(g));
  Rng rng(1);
  const Genotype s = d.snap(g, rng);
  EXPECT_TRUE(d.valid(s));
  EXPECT_EQ(d.label(s), "sep3:;conv1:0;sep3:0,2;conv1:0,2,3");
  EXPECT_EQ(d.edges(s).size(), 6u);
  // Nothing reached: the edge 0 -> 1 comes back.
  EXPECT_EQ(d.label(d.snap(Genotype(10, 0), rng)), "sep3:0;conv1:;sep3:;conv1:");
  for (int i = 0; i < 50; ++i) EXPECT_TRUE(d.valid(d.random(rng)));

  // Fewer edges, fewer MACs; the network is what expand_autoshrink builds, at the space's bits.
  EXPECT_LT(d.topology(s)->macs, d.topology(full)->macs);
  const ir::Network net = d.network(s);
  EXPECT_EQ(net.input.c, 1);
  for (const ir::Layer& l : net.layers) {
    if (l.has_weights()) {
      EXPECT_EQ(l.weight_bits, 8);
    }
  }
}

TEST(AutoShrinkDomain, ParseNamesWhatIsWrong) {
  const auto message = [](const std::string& label) {
    try {
      cells().parse(label, "--genotype");
    } catch (const core::InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("sep3:0;conv1:0,1;sep5:0,1,2;conv1:0")
                .find("node 3 is sep5; this space's is "
                      "sep3"),
            std::string::npos);
  EXPECT_NE(message("sep3:0;conv1:0").find("2 nodes; this space's cells have 4"),
            std::string::npos);
  EXPECT_NE(message("sep3:;conv1:1;sep3:0;conv1:3").find("canonical"), std::string::npos);
}

TEST(AutoShrinkSpace, BadNodesAreNamed) {
  try {
    parse_space("name: x\nkind: autoshrink\nnodes: [sep3, conv7]\n", "x.yaml", ".");
    FAIL() << "no error";
  } catch (const core::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("nodes[1]: 'conv7', expected sep3, sep5, conv1 or conv3"),
              std::string::npos)
        << e.what();
  }
}

TEST(AutoShrinkStrategy, WithKAtLeastTheEdgesEachStepIsTheBestSingleRemovalByEnumeration) {
  const AutoShrinkDomain& d = cells();
  const StrategyOptions o = with_k(100);
  const auto strategy = make_strategy("autoshrink", d, 7, o);
  const int budget = shrink_budget(d, o);
  EXPECT_EQ(budget, 1 + 10 + 9 + 8 + 7 + 6 + 5);  // down to 4 edges (the node count)
  run(*strategy, budget);
  const ShrinkTrajectory t = shrink_trajectory(d, o, 7, strategy->history());
  ASSERT_TRUE(t.complete);
  // The reference, written apart: every single-edge removal of the kept cell, snapped, scored.
  Genotype current = d.full();
  for (std::size_t i = 1; i < t.steps.size(); ++i) {
    Genotype best;
    double best_score = -1e300;
    for (std::size_t e : d.edges(current)) {
      Genotype c = current;
      c[e] = 0;
      Rng rng(0);
      c = d.snap(c, rng);
      if (score(c) > best_score) best_score = score(c), best = c;
    }
    EXPECT_EQ(t.steps[i].kept.genotype, best) << "iteration " << i;
    EXPECT_NEAR(t.steps[i].score, best_score, 1e-9);
    current = best;
  }
  EXPECT_LE(d.edges(t.steps.back().kept.genotype).size(), 4u);
  std::size_t best = 0;
  for (std::size_t i = 0; i < t.steps.size(); ++i)
    if (t.steps[i].score > t.steps[best].score) best = i;
  EXPECT_EQ(t.best, best);
}

TEST(AutoShrinkStrategy, DrawsKEdgesPerIterationReplaysAndThenAsksRandomCells) {
  const AutoShrinkDomain& d = cells();
  const StrategyOptions o = with_k(3);
  const auto a = make_strategy("autoshrink", d, 11, o);
  const int budget = shrink_budget(d, o);
  EXPECT_EQ(budget, 1 + 6 * 3);
  const std::vector<Genotype> asked = run(*a, budget + 4);
  const ShrinkTrajectory t = shrink_trajectory(d, o, 11, a->history());
  ASSERT_TRUE(t.complete);
  for (std::size_t i = 1; i < t.steps.size(); ++i) {
    EXPECT_LE(t.steps[i].candidates.size(), 3u);
    // Each candidate is the kept cell without one of its edges (and what that leaves unreached).
    for (const Genotype& c : t.steps[i].candidates) {
      EXPECT_LT(d.edges(c).size(), d.edges(t.steps[i - 1].kept.genotype).size());
      for (std::size_t s = 0; s < c.size(); ++s) EXPECT_LE(c[s], t.steps[i - 1].kept.genotype[s]);
    }
  }
  // No cell asked twice, all valid: past the trajectory, random untold ones.
  std::set<Genotype> unique(asked.begin(), asked.end());
  EXPECT_EQ(unique.size(), asked.size());
  for (const Genotype& g : asked) EXPECT_TRUE(d.valid(g));
  EXPECT_EQ(a->why(), "trajectory complete: a random cell");
  EXPECT_TRUE(a->finished());  // a study stops there

  // A strategy told the first 9 observations asks the tenth.
  const auto b = make_strategy("autoshrink", d, 11, o);
  for (int i = 0; i < 9; ++i) b->tell(observe(asked[static_cast<std::size_t>(i)]));
  EXPECT_FALSE(b->finished());
  EXPECT_EQ(b->ask(), asked[9]);
  // Another seed draws other edges.
  const auto c = make_strategy("autoshrink", d, 12, o);
  EXPECT_NE(run(*c, 10), std::vector<Genotype>(asked.begin(), asked.begin() + 10));
}

TEST(AutoShrinkStrategy, NeedsAnAutoShrinkSpace) {
  const TabularDomain nb201(default_source("nb201", HAO_SHARED_DATA));
  EXPECT_THROW(make_strategy("autoshrink", nb201, 1), core::InputError);
  StrategyOptions o;
  o.shrink_cost = "flops";
  EXPECT_THROW(make_strategy("autoshrink", cells(), 1, o), core::InputError);
}

}  // namespace hao::search
