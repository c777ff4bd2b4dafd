#include "search/strategy.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "core/error.hpp"
#include "search/bench.hpp"
#include "search/hao_strategy.hpp"
#include "search/nsga2.hpp"
#include "search/tabular.hpp"

namespace hao::search {
namespace {

const TabularDomain& nb201() {
  static const TabularDomain domain(default_source("nb201", HAO_SHARED_DATA));
  return domain;
}

TEST(Tabular, ReadsNasBench201WithItsLatencyJoinedOnArchIndex) {
  const TabularDomain& d = nb201();
  EXPECT_EQ(d.size(), 15625u);
  EXPECT_EQ(d.slots().size(), 6u);
  const std::string arch =
      "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|"
      "skip_connect~2|";  // arch_index 1 of both files
  const Genotype g = d.parse(arch, "test");
  EXPECT_EQ(g, (Genotype{3, 3, 4, 1, 3, 1}));
  EXPECT_DOUBLE_EQ(d.accuracy(g), 93.66);
  EXPECT_DOUBLE_EQ(d.latency_ms(g), 5.31536);
  EXPECT_EQ(d.label(g), arch);
}

TEST(Tabular, ReadsTheAccelNasBenchSampleFromOneFile) {
  const TabularDomain d(default_source("anb", HAO_SHARED_DATA));
  EXPECT_EQ(d.size(), 512u);  // 513 rows, one genotype trained twice (averaged)
  EXPECT_EQ(d.merged(), 1u);
  EXPECT_EQ(d.slots().size(), 28u);
  Rng rng(1);
  const Genotype g = d.random(rng);
  EXPECT_TRUE(d.valid(g));
  Genotype far = g;
  far[0] = (far[0] + 1) % 3;  // most such neighbours are not in the 513-row sample
  EXPECT_TRUE(d.valid(d.snap(far, rng)));
}

std::string write_temp(const std::string& name, const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() / ("hao_search_" + name);
  std::ofstream(path) << text;
  return path.string();
}

TEST(Tabular, BadRowsNameFileLineAndValue) {
  const std::string acc =
      write_temp("acc.csv",
                 "arch_index,arch_str,acc\n"
                 "0,|none~0|+|none~0|none~1|+|none~0|none~1|none~2|,10\n"
                 "1,|none~0|+|none~0|none~1|+|none~0|none~1|conv~2|,20\n"
                 "2,|skip_connect~0|+|none~0|none~1|+|none~0|none~1|none~2|,abc\n"
                 "3,|skip_connect~0|+|skip_connect~0|none~1|+|none~0|none~1|none~2|,30\n");
  const std::string lat = write_temp("lat.csv", "arch_index,dev\n0,1.5\n1,2\n2,3\n3,-4\n");
  try {
    TabularDomain d({"nb201", acc, "acc", lat, "dev"});
    FAIL() << "no error";
  } catch (const core::InputError& e) {
    const std::string all =
        e.problems().at(0) + "|" + e.problems().at(1) + "|" + e.problems().at(2);
    EXPECT_NE(all.find("line 3: arch_str = '|none~0|+|none~0|none~1|+|none~0|none~1|conv~2|'"),
              std::string::npos)
        << all;
    EXPECT_NE(all.find("line 4: acc = 'abc'"), std::string::npos) << all;
    EXPECT_NE(all.find("lat.csv line 5: dev = '-4'"), std::string::npos) << all;
  }
  EXPECT_THROW(TabularDomain({"nb201", acc, "acc", lat, "nope"}), core::InputError);
  EXPECT_THROW(TabularDomain({"nb999", acc, "acc", lat, "dev"}), core::InputError);
}

TEST(Tabular, RowsWithoutLatencyAreSkippedAndCounted) {
  const std::string acc =
      write_temp("acc2.csv",
                 "arch_index,arch_str,acc\n"
                 "0,|none~0|+|none~0|none~1|+|none~0|none~1|none~2|,10\n"
                 "1,|skip_connect~0|+|none~0|none~1|+|none~0|none~1|none~2|,20\n"
                 "2,|skip_connect~0|+|skip_connect~0|none~1|+|none~0|none~1|none~2|,30\n");
  const std::string lat = write_temp("lat2.csv", "arch_index,dev\n0,1.5\n1,nan\n2,3\n");
  const TabularDomain d({"nb201", acc, "acc", lat, "dev"});
  EXPECT_EQ(d.size(), 2u);
  EXPECT_EQ(d.skipped(), 1u);
}

/// Asks until `strategy` has `budget` observations, telling each its table values.
std::vector<Observation> run_tabular(Strategy& strategy, const TabularDomain& domain, int budget) {
  for (int i = static_cast<int>(strategy.history().size()); i < budget; ++i) {
    const Genotype g = strategy.ask();
    strategy.tell({g, domain.accuracy(g), domain.latency_ms(g), {}});
  }
  return strategy.history();
}

/// Asks `n` genotypes, telling each its table values.
std::vector<Genotype> run(Strategy& s, const TabularDomain& d, int n) {
  std::vector<Genotype> out;
  for (const auto& o : run_tabular(s, d, n)) out.push_back(o.genotype);
  return out;
}

TEST(Strategies, AskValidUntoldGenotypesAndResumeExactlyFromReplayedTells) {
  const TabularDomain& d = nb201();
  for (const auto& name : strategy_names()) {
    // cell spaces only (autoshrink_test.cpp); numeric choices only (netadapt_test.cpp);
    // operator positions only (hurricane_test.cpp)
    if (name == "autoshrink" || name == "netadapt" || name == "hurricane") continue;
    SCOPED_TRACE(name);
    auto full = make_strategy(name, d, 7);
    const std::vector<Genotype> whole = run(*full, d, 24);
    std::set<Genotype> distinct(whole.begin(), whole.end());
    EXPECT_EQ(distinct.size(), whole.size());
    for (const auto& g : whole) EXPECT_TRUE(d.valid(g));
    // A "killed" run: a fresh strategy told the first 13 observations continues identically.
    auto resumed = make_strategy(name, d, 7);
    for (std::size_t i = 0; i < 13; ++i) resumed->tell(full->history()[i]);
    EXPECT_EQ(run(*resumed, d, 24), whole);
    // Another seed, another run.
    auto other = make_strategy(name, d, 8);
    EXPECT_NE(run(*other, d, 24), whole);
  }
  EXPECT_THROW(make_strategy("tpe", d, 1), core::InputError);
}

TEST(Strategies, ExhaustTheSpaceWithoutRepeating) {
  const std::string acc =
      write_temp("acc3.csv",
                 "arch_index,arch_str,acc\n"
                 "0,|none~0|+|none~0|none~1|+|none~0|none~1|none~2|,10\n"
                 "1,|skip_connect~0|+|none~0|none~1|+|none~0|none~1|none~2|,20\n"
                 "2,|skip_connect~0|+|skip_connect~0|none~1|+|none~0|none~1|none~2|,30\n"
                 "3,|skip_connect~0|+|skip_connect~0|skip_connect~1|+|none~0|none~1|none~2|,40\n"
                 "4,|nor_conv_3x3~0|+|skip_connect~0|skip_connect~1|+|none~0|none~1|none~2|,80\n");
  const std::string lat = write_temp("lat3.csv", "arch_index,dev\n0,1\n1,2\n2,3\n3,4\n4,9\n");
  const TabularDomain d({"nb201", acc, "acc", lat, "dev"});
  for (const auto& name : strategy_names()) {
    // cell spaces only (autoshrink_test.cpp); numeric choices only (netadapt_test.cpp);
    // operator positions only (hurricane_test.cpp)
    if (name == "autoshrink" || name == "netadapt" || name == "hurricane") continue;
    auto s = make_strategy(name, d, 3, StrategyOptions{2, 2, 2});
    const auto all = run(*s, d, 5);
    EXPECT_EQ(std::set<Genotype>(all.begin(), all.end()).size(), 5u) << name;
  }
}

TEST(Nsga2, RanksMatchTheDefinitionOfDominance) {
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> v(0, 6);
  for (int trial = 0; trial < 30; ++trial) {
    std::vector<Observation> pop;
    for (int i = 0; i < 12; ++i) pop.push_back({{}, double(v(rng)), double(v(rng)), {}});
    const RankedPopulation r = rank_population(pop);
    auto dominates = [&](const Observation& a, const Observation& b) {
      return a.latency_ms <= b.latency_ms && a.accuracy >= b.accuracy &&
             (a.latency_ms < b.latency_ms || a.accuracy > b.accuracy);
    };
    for (std::size_t a = 0; a < pop.size(); ++a) {
      // Rank 0 iff nothing dominates it; otherwise one above the best rank that dominates it.
      int expected = 0;
      for (std::size_t b = 0; b < pop.size(); ++b)
        if (dominates(pop[b], pop[a])) expected = std::max(expected, r.rank[b] + 1);
      EXPECT_EQ(r.rank[a], expected);
    }
  }
}

TEST(Bench, RatiosAreDeterministicAndTheWholeSpaceScoresOne) {
  const TabularDomain& d = nb201();
  BenchOptions o;
  o.strategies = {"random", "nsga2"};
  o.budget = 20;
  o.seeds = 2;
  const BenchResult a = run_bench(d, o), b = run_bench(d, o);
  ASSERT_EQ(a.strategies.size(), 2u);
  for (std::size_t s = 0; s < 2; ++s) {
    EXPECT_EQ(a.strategies[s].ratios, b.strategies[s].ratios);
    for (double r : a.strategies[s].ratios) {
      EXPECT_GT(r, 0);
      EXPECT_LE(r, 1);
    }
  }
  // Every architecture's front is the exact front.
  std::vector<Objectives> all = d.all_objectives();
  const Normalizer n = Normalizer::of(all);
  EXPECT_NEAR(hypervolume(all, n), a.exact_hypervolume, 1e-12);
  EXPECT_EQ(a.exact_front_size, pareto_front(all).size());
  o.budget = 0;
  EXPECT_THROW(run_bench(d, o), core::InputError);
}

// Screening by bounds picks what computing every exact gain picks (the first of the largest
// positive gain), on random gains, bounds, ties and infeasible candidates, and computes fewer.
TEST(HaoStrategy, BestByBoundsEqualsFullEnumeration) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> u(0, 1);
  long computed = 0, candidates_total = 0;
  for (int trial = 0; trial < 500; ++trial) {
    const std::size_t n = 1 + rng() % 30;
    std::vector<double> exact(n), upper(n);
    std::vector<std::size_t> candidates;
    for (std::size_t i = 0; i < n; ++i) {
      exact[i] = u(rng) < 0.3 ? 0 : std::round(u(rng) * 8) / 8;  // ties and zeros
      if (u(rng) < 0.1) exact[i] = -std::numeric_limits<double>::infinity();
      upper[i] = std::max(exact[i], 0.0) + (u(rng) < 0.3 ? 0 : u(rng) * 0.5);
      if (u(rng) < 0.8) candidates.push_back(i);
    }
    std::size_t want = std::numeric_limits<std::size_t>::max();
    double best = 0;
    for (std::size_t i : candidates)
      if (exact[i] > best) best = exact[i], want = i;
    int calls = 0;
    const std::size_t got = best_by_bounds(candidates, upper, [&](std::size_t i) {
      ++calls;
      return exact[i];
    });
    EXPECT_EQ(got, want) << "trial " << trial;
    computed += calls;
    candidates_total += static_cast<long>(candidates.size());
  }
  EXPECT_LT(computed, candidates_total / 2);
}

TEST(HaoStrategy, PredictorsRankHeldOutArchitectures) {
  const TabularDomain& d = nb201();
  auto s = make_strategy("random", d, 5);
  const auto history = run_tabular(*s, d, 60);
  const auto tau = predictor_kendall(d, history, 1, false);
  EXPECT_GT(tau.at("gp"), 0.4);
  EXPECT_GT(tau.at("ridge"), 0.3);
  EXPECT_TRUE(predictor_kendall(d, {history.begin(), history.begin() + 5}, 1, false).empty());
}

TEST(HaoStrategy, OptimismWeighsUncertaintyWhereNoPredictedMeanBeatsTheFront) {
  // Ten observations, one of them told at the space's fastest latency with its best accuracy:
  // that point dominates every candidate, and no predicted mean beats it, so rating means falls
  // back to the most uncertain candidate; rated optimistically (mean + 3 sd), a candidate whose
  // promise and uncertainty together reach past it is asked for by its gain.
  const TabularDomain& d = nb201();
  const std::vector<Genotype> all = *d.enumerate();
  std::size_t best = 0;
  double fastest = 1e300;
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (d.accuracy(all[i]) > d.accuracy(all[best])) best = i;
    fastest = std::min(fastest, d.latency_ms(all[i]));
  }
  auto ask_after = [&](double optimism) {
    StrategyOptions o;
    o.optimism = optimism;
    auto s = make_strategy("hao", d, 3, o);
    s->tell({all[best], d.accuracy(all[best]), fastest, {}});
    for (std::size_t i = 0; i < 9; ++i) {
      const Genotype& g = all[(i + 1) * 1000];
      s->tell({g, d.accuracy(g), d.latency_ms(g), {}});
    }
    s->ask();
    return s->why();
  };
  EXPECT_NE(ask_after(0).find("most uncertain"), std::string::npos) << ask_after(0);
  EXPECT_NE(ask_after(3).find("largest predicted hypervolume gain"), std::string::npos)
      << ask_after(3);
}

}  // namespace
}  // namespace hao::search
