#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <numeric>
#include <set>

#include "core/error.hpp"
#include "hw/device.hpp"
#include "search/made_up_accuracy.hpp"
#include "search/mbv2_domain.hpp"
#include "search/netadapt_strategy.hpp"
#include "search/space_spec.hpp"
#include "search/tabular.hpp"

namespace hao::search {
namespace {

constexpr double kTightFraction = 0.15;

// A small two-stage space (program 1 is quick on it), built once per device: "roomy" (a
// zu9eg: everything fits) or "tight" (an xc7z020 of which a design may use 15%: the largest
// network fits nowhere, the smallest does).
const Mbv2Domain& two_stages(const std::string& which) {
  static std::map<std::string, std::unique_ptr<Mbv2Domain>> domains;
  auto& d = domains[which];
  if (!d)
    d = std::make_unique<Mbv2Domain>(
        parse_space("name: two\nkind: mbv2\n"
                    "input: {channels: 1, height: 12, width: 12, bits: 8}\n"
                    "stem: {channels: 8, kernel: 3, stride: 1, bits: 8}\n"
                    "stages: [{channels: 8, stride: 1}, {channels: 16, stride: 2}]\n"
                    "head: {channels: 32}\n"
                    "choices: {depth: [1, 2, 3], width: [0.5, 1.0], kernel: [3, 5], "
                    "expansion: [1, 3, 6], bits: [4, 8]}\n",
                    "two.yaml", HAO_SHARED_DATA)
            .mbv2,
        which == "roomy" ? hw::load_device("zu9eg")
                         : hw::load_device("xc7z020", {0, 0, kTightFraction}));
  return *d;
}

AdaptOptions options(int layers, int samples, int budget) {
  AdaptOptions o;
  o.layers = layers;
  o.samples = samples;
  o.budget = budget;
  return o;
}

// Slot values as numbers (every choice of these spaces is one).
double value(const Domain& d, const Genotype& g, std::size_t s) {
  return std::stod(d.slots()[s].choices[static_cast<std::size_t>(g[s])]);
}

// The slots where `to` is smaller than `from` (those a shrink moved; a removed block's slots
// are reset to their first choice, which is no move of the descent).
std::vector<std::size_t> shrunk(const Domain& d, const Genotype& from, const Genotype& to) {
  std::vector<std::size_t> out;
  for (std::size_t s = 0; s < from.size(); ++s)
    if (value(d, to, s) < value(d, from, s)) out.push_back(s);
  return out;
}

// Whether slot `s` of `g` belongs to a block its stage has (the default space's layout: per
// stage depth, width, then kernel, expansion and bits per block; the head's bits last).
bool slot_present(const Mbv2Domain& d, const Genotype& g, std::size_t s) {
  const auto& depths = d.spec().depth;
  const std::size_t per_stage =
      2 + 3 * static_cast<std::size_t>(*std::max_element(depths.begin(), depths.end()));
  if (s + 1 == g.size() || s % per_stage < 2) return true;
  const std::size_t stage = s / per_stage, block = (s % per_stage - 2) / 3;
  return block < static_cast<std::size_t>(value(d, g, stage * per_stage));
}

}  // namespace

TEST(NetAdapt, StepsDecayAndAddUpToTheSpan) {
  const std::vector<double> s = adapt_steps(2.0, 5, 0.9);
  ASSERT_EQ(s.size(), 5u);
  EXPECT_NEAR(std::accumulate(s.begin(), s.end(), 0.0), 2.0, 1e-12);
  for (std::size_t i = 1; i < s.size(); ++i) EXPECT_NEAR(s[i] / s[i - 1], 0.9, 1e-12);
  EXPECT_NEAR(adapt_steps(1.5, 1, 0.9)[0], 1.5, 1e-12);
}

TEST(NetAdapt, DescendsFromTheLargestNetworkAndEverySampleMeetsItsTarget) {
  const Mbv2Domain& d = two_stages("roomy");
  ASSERT_LT(d.latency_ms(d.largest()), kInfeasibleMs);  // the largest fits: it is judged first
  const int budget = 60;
  auto s = make_netadapt_strategy(d, 1, options(3, 5, budget));
  const std::vector<Genotype> asked = run_made_up(*s, d, budget);
  ASSERT_FALSE(asked.empty());
  EXPECT_EQ(asked.front(), d.largest());
  EXPECT_EQ(std::set<Genotype>(asked.begin(), asked.end()).size(), asked.size());
  for (const Genotype& g : asked) EXPECT_TRUE(d.valid(g)) << d.label(g);

  const AdaptTrajectory t = adapt_trajectory(d, options(3, 5, budget), 1, s->history());
  ASSERT_GE(t.steps.size(), 4u);
  std::size_t fallbacks = 0;
  for (std::size_t i = 1; i < t.steps.size(); ++i) {
    const AdaptStep& step = t.steps[i];
    SCOPED_TRACE("iteration " + std::to_string(i));
    EXPECT_LT(step.target_ms, t.steps[i - 1].latency_ms);  // the target moves down
    EXPECT_LE(step.latency_ms, step.target_ms);
    double best = -1;
    ASSERT_EQ(step.sets.size(), step.samples.size());
    for (std::size_t k = 0; k < step.samples.size(); ++k) {
      const Genotype& g = step.samples[k];
      EXPECT_LE(d.latency_ms(g), step.target_ms) << d.label(g);
      // Each sample shrinks the slots of its set (L of them, or 2L, ... where no L reached the
      // target), and only those of the blocks that remain.
      EXPECT_EQ(step.sets[k].size(), static_cast<std::size_t>(step.layers));
      for (std::size_t slot : shrunk(d, t.steps[i - 1].kept, g))
        if (slot_present(d, g, slot)) {
          EXPECT_TRUE(std::count(step.sets[k].begin(), step.sets[k].end(), slot)) << slot;
        }
      best = std::max(best, made_up_accuracy(d, g));
    }
    fallbacks += step.layers > 3;
    EXPECT_EQ(step.accuracy, best);  // the most accurate sample is kept
    EXPECT_EQ(step.accuracy, made_up_accuracy(d, step.kept));
  }
  EXPECT_LE(fallbacks, t.steps.size() / 2);
  // Every evaluation is the start or a sample of an iteration, asked in the trajectory's order.
  std::size_t k = 1;
  for (std::size_t i = 1; i < t.steps.size(); ++i)
    for (const Genotype& g : t.steps[i].samples) {
      ASSERT_LT(k, asked.size());
      EXPECT_EQ(asked[k++], g);
    }
  // The planned steps end at the smallest network within about the budget.
  EXPECT_TRUE(t.complete);
  EXPECT_TRUE(s->finished());
  EXPECT_NEAR(t.steps.back().latency_ms, d.latency_ms(d.smallest()),
              1e-9 * d.latency_ms(d.smallest()));
  EXPECT_LE(asked.size(), static_cast<std::size_t>(budget) + 5);
}

TEST(NetAdapt, SingleLayerDescentTriesEverySlotThatReachesTheTargetAlone) {
  // Brute force: from the largest network, each slot alone taken down choice by choice; the
  // first iteration's samples are exactly the slots that reach its target that way.
  const Mbv2Domain& d = two_stages("roomy");
  const AdaptOptions o = options(1, 5, 200);
  auto s = make_netadapt_strategy(d, 3, o);
  AdaptTrajectory t;
  for (int i = 0; i < 200; ++i) {  // until the first iteration's samples are all told
    t = adapt_trajectory(d, o, 3, s->history());
    if (t.steps.size() >= 2) break;
    const Genotype g = s->ask();
    s->tell({g, made_up_accuracy(d, g), d.latency_ms(g), {}});
  }
  ASSERT_GE(t.steps.size(), 2u);
  const Genotype start = t.steps[0].kept;
  EXPECT_EQ(start, d.largest());
  const double target = t.steps[1].target_ms;
  std::set<Genotype> expected;
  std::size_t shrinkable = 0, faster = 0;  // slots that can shrink; that lower the latency alone
  Rng rng(0);
  for (std::size_t slot = 0; slot < start.size(); ++slot) {
    Genotype g = start;
    double lowest = d.latency_ms(start);
    for (bool first = true;; first = false) {
      int next = -1;  // the slot's next smaller value
      for (std::size_t c = 0; c < d.slots()[slot].choices.size(); ++c) {
        const double v = std::stod(d.slots()[slot].choices[c]);
        if (v < value(d, g, slot) &&
            (next < 0 || v > std::stod(d.slots()[slot].choices[static_cast<std::size_t>(next)])))
          next = static_cast<int>(c);
      }
      if (next < 0) break;
      Genotype c = g;
      c[slot] = next;
      c = d.snap(c, rng);
      if (c == g) break;
      shrinkable += first;
      g = c;
      lowest = std::min(lowest, d.latency_ms(g));
      if (d.latency_ms(g) <= target) {
        expected.insert(g);
        break;
      }
    }
    faster += lowest < d.latency_ms(start);
  }
  EXPECT_EQ(std::set<Genotype>(t.steps[1].samples.begin(), t.steps[1].samples.end()), expected);
  EXPECT_EQ(t.steps[1].layers, 1);
  EXPECT_EQ(t.steps[1].samples.size(), expected.size());
  EXPECT_GT(shrinkable, expected.size());  // some slots cannot reach the target alone
  // Where fewer than J = 5 slots reach the planned target, it rises until 5 do (or every slot
  // that lowers the latency at all).
  EXPECT_GE(expected.size(), std::min<std::size_t>(5, faster));
  EXPECT_GE(expected.size(), 1u);
}

TEST(NetAdapt, ResumesExactlyFromReplayedTellsAndAsksApartFromPendingOnes) {
  const Mbv2Domain& d = two_stages("roomy");
  auto full = make_netadapt_strategy(d, 5, options(2, 4, 40));
  const std::vector<Genotype> whole = run_made_up(*full, d, 30);
  auto resumed = make_netadapt_strategy(d, 5, options(2, 4, 40));
  for (std::size_t i = 0; i < 13; ++i) resumed->tell(full->history()[i]);
  std::vector<Genotype> rest = run_made_up(*resumed, d, static_cast<int>(whole.size()) - 13);
  EXPECT_EQ(std::vector<Genotype>(whole.begin() + 13, whole.end()), rest);
  // Another seed draws other sets.
  auto other = make_netadapt_strategy(d, 6, options(2, 4, 40));
  EXPECT_NE(run_made_up(*other, d, 30), whole);
  // A worker asking while another judges the next sample asks the one after it.
  auto a = make_netadapt_strategy(d, 5, options(2, 4, 40));
  for (std::size_t i = 0; i < 3; ++i) a->tell(full->history()[i]);
  a->set_pending({whole[3]});
  EXPECT_EQ(a->ask(), whole[4]);
}

TEST(NetAdapt, AStartThatFitsNowhereShrinksUntilItFits) {
  const Mbv2Domain& d = two_stages("tight");
  ASSERT_GE(d.latency_ms(d.largest()), kInfeasibleMs);
  ASSERT_LT(d.latency_ms(d.smallest()), kInfeasibleMs);
  auto s = make_netadapt_strategy(d, 1, options(3, 4, 40));
  const std::vector<Genotype> asked = run_made_up(*s, d, 40);
  ASSERT_FALSE(asked.empty());
  EXPECT_NE(asked.front(), d.largest());  // not judged: it fits nowhere
  EXPECT_LT(d.latency_ms(asked.front()), kInfeasibleMs);
  const AdaptTrajectory t = adapt_trajectory(d, options(3, 4, 40), 1, s->history());
  ASSERT_GE(t.steps.size(), 2u);
  EXPECT_GE(t.steps[0].latency_ms, kInfeasibleMs);
  EXPECT_GE(t.steps[1].target_ms, kFitTargetMs);  // the first target: fit the device
  for (std::size_t i = 1; i < t.steps.size(); ++i)
    for (const Genotype& g : t.steps[i].samples) EXPECT_LE(d.latency_ms(g), t.steps[i].target_ms);
}

TEST(NetAdapt, RefusesSpacesWithoutNumericChoicesAndBadOptions) {
  const TabularDomain nb201(default_source("nb201", HAO_SHARED_DATA));
  EXPECT_THROW(make_netadapt_strategy(nb201, 1, AdaptOptions{}), core::InputError);
  // anb's 512 sampled networks: numbers, but no network one choice below the largest in one
  // slot (the descent would judge its start and stop).
  const TabularDomain anb(default_source("anb", HAO_SHARED_DATA));
  try {
    make_netadapt_strategy(anb, 1, AdaptOptions{});
    ADD_FAILURE() << "anb's table was taken";
  } catch (const core::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("a table of sampled networks cannot be descended"),
              std::string::npos)
        << e.what();
  }
  const Mbv2Domain& d = two_stages("roomy");
  EXPECT_THROW(make_netadapt_strategy(d, 1, options(0, 5, 10)), core::InputError);
  EXPECT_THROW(make_netadapt_strategy(d, 1, options(2, 0, 10)), core::InputError);
  EXPECT_THROW(make_netadapt_strategy(d, 1, options(1000, 5, 10)), core::InputError);
  EXPECT_NO_THROW(make_strategy("netadapt", d, 1, StrategyOptions{}.for_budget(20)));
}

}  // namespace hao::search
