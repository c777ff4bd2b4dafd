#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <set>

#include "core/error.hpp"
#include "hw/device.hpp"
#include "search/hurricane_strategy.hpp"
#include "search/made_up_accuracy.hpp"
#include "search/mbv2_domain.hpp"
#include "search/tabular.hpp"
#include "search/three_stage_space.hpp"

namespace hao::search {
namespace {

// Three small stages on a zu9eg (program 1 is quick on them): stages 0 and 1 are the early
// layers, stage 2 and the head the later ones.
const Mbv2Domain& three_stages() {
  static const Mbv2Domain d(three_stage_space(), hw::load_device("zu9eg"));
  return d;
}

HurricaneOptions options(int keep, int population, int budget, double limit = 0) {
  HurricaneOptions o;
  o.operators = keep;
  o.population = population;
  o.budget = budget;
  o.latency_limit_ms = limit;
  return o;
}

// Whether every present block of g takes an operator its position keeps.
bool in_pools(const Domain& d, const std::vector<OperatorPool>& pools, const Genotype& g) {
  for (std::size_t p = 0; p < pools.size(); ++p) {
    if (!d.operator_present(g, p)) continue;
    bool found = false;
    for (const PooledOperator& op : pools[p].operators) {
      bool same = true;
      for (std::size_t k = 0; k < op.choices.size(); ++k)
        same = same && g[pools[p].position.slots[k]] == op.choices[k];
      found = found || (same && op.kept);
    }
    if (!found) return false;
  }
  return true;
}

TEST(Hurricane, SelectionPricesEachOperatorAloneAndKeepsTheBestScoring) {
  const Mbv2Domain& d = three_stages();
  const std::vector<OperatorPool> pools = select_operators(d, 2);
  ASSERT_EQ(pools.size(), 6u);  // 3 stages x 2 blocks
  for (std::size_t p = 0; p < pools.size(); ++p) {
    const OperatorPool& pool = pools[p];
    ASSERT_EQ(pool.operators.size(), 6u) << pool.position.name;  // kernel x expansion
    int kept = 0;
    for (std::size_t i = 0; i < pool.operators.size(); ++i) {
      const PooledOperator& op = pool.operators[i];
      if (i > 0) {
        EXPECT_GE(pool.operators[i - 1].score, op.score);
      }
      EXPECT_EQ(op.kept, i < 2) << pool.position.name << " " << i;
      kept += op.kept;
      EXPECT_GT(op.score, 0);  // every block fits some share of a zu9eg
      EXPECT_EQ(op.cost.share, pool.operators.front().cost.share);  // one share per position
      // Its MACs are the block's layers' in the largest network with this operator.
      Genotype g = d.largest();
      for (std::size_t k = 0; k < op.choices.size(); ++k) g[pool.position.slots[k]] = op.choices[k];
      const std::string prefix = "s" + pool.position.name.substr(1, 1) + "b" +
                                 pool.position.name.substr(pool.position.name.size() - 1) + "_";
      double macs = 0;
      for (const ir::Layer& l : d.network(g).layers)
        if (l.name.rfind(prefix, 0) == 0) macs += static_cast<double>(l.macs());
      EXPECT_EQ(op.cost.macs, macs) << prefix;
      EXPECT_DOUBLE_EQ(op.score, op.cost.macs / (op.cost.latency_ms * op.cost.share));
    }
    EXPECT_EQ(kept, 2);
  }
  EXPECT_EQ(operator_label(d, pools[0].position, {1, 2}), "kernel=5 expansion=6");
}

TEST(Hurricane, SearchesTheLaterLayersThenTheEarlyOnesWithinTheLimit) {
  const Mbv2Domain& d = three_stages();
  const HurricaneOptions o = options(2, 10, 40);  // parents 2, mutations 5, crossovers 5
  const std::vector<OperatorPool> pools = select_operators(d, 2);
  auto s = make_hurricane_strategy(d, 3, o);
  const std::vector<Genotype> asked = run_made_up(*s, d, 100);
  EXPECT_EQ(asked.size(), 40u);  // the budget, then finished
  EXPECT_TRUE(s->finished());
  const HurricaneTrajectory t = hurricane_trajectory(d, o, 3, pools, s->history());
  ASSERT_TRUE(t.complete);
  ASSERT_TRUE(t.best);
  // The asks are the generations' members in order, each within the limit and the pools.
  std::vector<Genotype> members;
  int per_stage[2] = {0, 0};
  for (const HurricaneGeneration& g : t.generations) {
    per_stage[g.stage] += static_cast<int>(g.members.size());
    for (std::size_t i = 0; i < g.members.size(); ++i) {
      members.push_back(g.members[i]);
      EXPECT_EQ(g.origins[i], g.index == 0 ? "random" : i < 5 ? "mutation" : "crossover");
    }
  }
  EXPECT_EQ(members, asked);
  EXPECT_EQ(per_stage[0], 20);
  EXPECT_EQ(per_stage[1], 20);
  EXPECT_EQ(std::set<Genotype>(asked.begin(), asked.end()).size(), asked.size());
  for (const Genotype& g : asked) {
    EXPECT_LE(d.latency_ms(g), t.limit_ms);
    EXPECT_TRUE(in_pools(d, pools, g)) << d.label(g);
  }
  // Later layers first (stage 2's slots and the head's), the early ones fixed at the cheapest
  // network; then the early ones (stages 0 and 1), the later ones at the first stage's best.
  const auto groups = d.stage_slots();
  ASSERT_EQ(groups.size(), 4u);
  const Genotype cheap = t.bases[0];
  EXPECT_LE(d.latency_ms(cheap), d.latency_ms(d.largest()));
  double best0 = -1;
  Genotype best0_g;
  for (const HurricaneGeneration& g : t.generations)
    for (const Genotype& m : g.members) {
      for (std::size_t group = 0; group < groups.size(); ++group)
        for (std::size_t slot : groups[group]) {
          const bool early = group < 2;
          const int fixed = g.stage == 0 ? cheap[slot] : t.bases[1][slot];
          if ((g.stage == 0) == early) {
            EXPECT_EQ(m[slot], fixed) << d.label(m);
          }
        }
      if (g.stage == 0 && made_up_accuracy(d, m) > best0) {
        best0 = made_up_accuracy(d, m);
        best0_g = m;
      }
    }
  EXPECT_EQ(t.bases[1], best0_g);  // stage 1 starts from stage 0's most accurate network
  double best = 0;
  for (const Genotype& g : asked) best = std::max(best, made_up_accuracy(d, g));
  EXPECT_DOUBLE_EQ(t.best_accuracy, best);
}

TEST(Hurricane, AnExplicitLimitHoldsAndOneNothingMeetsIsRefused) {
  const Mbv2Domain& d = three_stages();
  const std::vector<OperatorPool> pools = select_operators(d, 3);
  const HurricaneTrajectory automatic = hurricane_trajectory(d, options(3, 5, 20), 1, pools, {});
  // Just above the cheapest network: a limit that rejects most of the space.
  const double limit = d.latency_ms(automatic.bases[0]) * 1.2;
  auto s = make_hurricane_strategy(d, 1, options(3, 5, 20, limit));
  const std::vector<Genotype> asked = run_made_up(*s, d, 20);
  EXPECT_FALSE(asked.empty());
  int rejected = 0;
  for (const Genotype& g : asked) EXPECT_LE(d.latency_ms(g), limit) << d.label(g);
  Rng rng(7);
  for (int i = 0; i < 50; ++i) rejected += d.latency_ms(d.random(rng)) > limit;
  EXPECT_GT(rejected, 10);  // the limit binds
  try {
    make_hurricane_strategy(d, 1, options(3, 5, 20, 1e-6));
    ADD_FAILURE() << "a limit below every network was accepted";
  } catch (const core::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("--latency-limit"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("ms per frame"), std::string::npos) << e.what();
  }
}

TEST(Hurricane, ResumesExactlyFromReplayedTellsAndAsksApartFromPendingOnes) {
  const Mbv2Domain& d = three_stages();
  auto full = make_hurricane_strategy(d, 5, options(2, 5, 24));
  const std::vector<Genotype> whole = run_made_up(*full, d, 24);
  auto resumed = make_hurricane_strategy(d, 5, options(2, 5, 24));
  for (std::size_t i = 0; i < 11; ++i) resumed->tell(full->history()[i]);
  EXPECT_EQ(std::vector<Genotype>(whole.begin() + 11, whole.end()), run_made_up(*resumed, d, 13));
  auto other = make_hurricane_strategy(d, 6, options(2, 5, 24));
  EXPECT_NE(run_made_up(*other, d, 24), whole);
  auto a = make_hurricane_strategy(d, 5, options(2, 5, 24));
  for (std::size_t i = 0; i < 2; ++i) a->tell(full->history()[i]);
  a->set_pending({whole[2]});
  EXPECT_EQ(a->ask(), whole[3]);
}

TEST(Hurricane, RefusesSpacesWithoutOperatorsAndBadOptions) {
  const TabularDomain nb201(default_source("nb201", HAO_SHARED_DATA));
  try {
    make_hurricane_strategy(nb201, 1, HurricaneOptions{});
    ADD_FAILURE() << "nb201 accepted";
  } catch (const core::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("selects operators per layer position"), std::string::npos)
        << e.what();
  }
  const Mbv2Domain& d = three_stages();
  EXPECT_THROW(make_hurricane_strategy(d, 1, options(0, 5, 10)), core::InputError);
  EXPECT_THROW(make_hurricane_strategy(d, 1, options(2, 0, 10)), core::InputError);
  EXPECT_THROW(make_hurricane_strategy(d, 1, options(2, 5, 10, -1)), core::InputError);
  EXPECT_NO_THROW(make_strategy("hurricane", d, 1, StrategyOptions{}.for_budget(20)));
}

}  // namespace
}  // namespace hao::search
