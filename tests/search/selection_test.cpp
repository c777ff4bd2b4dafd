// Program 4 on the generative space: the parts the domain builds are exactly the layers of
// every network, and the MILP's optimum equals enumeration of the networks priced by
// program 1.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <map>
#include <numeric>
#include <random>
#include <set>

#include "ilp/folding_program.hpp"
#include "search/hao_strategy.hpp"
#include "search/mbv2_domain.hpp"
#include "search/space_spec.hpp"

namespace hao::search {
namespace {

std::string layer_of(const ilp::SelectionPart& part) {
  return part.name.substr(0, part.name.find(' '));
}

bool same_candidates(const std::vector<hw::Candidate>& a, const std::vector<hw::Candidate>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t k = 0; k < a.size(); ++k) {
    const hw::LayerCost &x = a[k].cost, &y = b[k].cost;
    if (x.cycles != y.cycles || x.res.dsp != y.res.dsp || x.res.lut != y.res.lut ||
        x.res.bram36 != y.res.bram36 || x.res.uram != y.res.uram)
      return false;
  }
  return true;
}

// For random genotypes of the default space, the present hardware parts are the network's
// layers, one part per layer, with that layer's configurations: a slot the domain forgot in a
// layer's context would show here as a missing, doubled or different layer.
void expect_parts_are_the_layers(const Mbv2Domain& d) {
  const SelectionSpace* sel = d.selection();
  ASSERT_NE(sel, nullptr);
  EXPECT_GT(sel->terms.size(), 0u);
  Rng rng(11);
  for (int i = 0; i < 300; ++i) {
    const Genotype g = d.random(rng);
    ASSERT_TRUE(ilp::selection_valid(sel->problem, g));
    const ir::Network net = d.network(g);
    std::map<std::string, int> seen;
    for (const auto& part : sel->problem.parts) {
      if (part.layers.empty() || !ilp::part_present(part, g)) continue;
      const std::string name = layer_of(part);
      ++seen[name];
      const auto it = std::find_if(net.layers.begin(), net.layers.end(),
                                   [&](const ir::Layer& l) { return l.name == name; });
      ASSERT_NE(it, net.layers.end()) << part.name << " present in " << d.label(g);
      EXPECT_TRUE(same_candidates(part.layers[0], hw::layer_candidates(*it, d.device(), {})))
          << part.name << " in " << d.label(g);
    }
    for (const auto& l : net.layers) EXPECT_EQ(seen[l.name], 1) << l.name << " in " << d.label(g);
    // The groups' rows hold: exactly one part of a group while its condition holds.
    for (const auto& group : sel->problem.groups) {
      int present = 0;
      for (std::size_t q : group.parts) present += ilp::part_present(sel->problem.parts[q], g);
      const bool when = group.when.empty() ||
                        std::count(group.when[0].choices.begin(), group.when[0].choices.end(),
                                   g[static_cast<std::size_t>(group.when[0].slot)]) > 0;
      EXPECT_EQ(present, when ? 1 : 0) << sel->problem.parts[group.parts[0]].name;
    }
    EXPECT_EQ(seen.size(), net.layers.size()) << d.label(g);
  }
}

// The small space of Program4EqualsEnumerationWithProgram1 (a stride-1 stage whose blocks add
// back the stem's output, so the stem's and blocks' outputs fork).
const char* kSmallSpace =
    "name: small\nkind: mbv2\nstem: {channels: 8, kernel: 3, stride: 1, bits: 8}\n"
    "input: {channels: 1, height: 12, width: 12, bits: 8}\n"
    "stages: [{channels: 8, stride: 1}, {channels: 16, stride: 2}]\nhead: {channels: 32}\n"
    "choices: {depth: [1, 2], width: [0.5, 1.0], kernel: [3], expansion: [1, 3], "
    "bits: [4, 8]}\n";

TEST(Mbv2Selection, PartsAreExactlyTheLayersOfEveryNetwork) {
  const SpaceSpec spec = load_space("fmnist-mbv2", HAO_SHARED_DATA);
  const Mbv2Domain d(spec.mbv2, hw::load_device("zu3eg"));
  expect_parts_are_the_layers(d);
  const Mbv2Domain small(parse_space(kSmallSpace, "small.yaml", HAO_SHARED_DATA).mbv2,
                         hw::load_device("zu3eg"));
  expect_parts_are_the_layers(small);
  const SelectionSpace* sel = d.selection();
  Rng rng(11);
  // Genotypes the space cannot hold break an implication (a removed block's slot moved).
  Genotype g = d.random(rng);
  g[0] = 0;          // stage 0 depth 1
  g[2 + 3 + 0] = 1;  // block 1's kernel
  EXPECT_FALSE(ilp::selection_valid(sel->problem, g));
}

// Necessary for a design within `target` cycles to fit: every layer has a configuration that
// fast, and the least of each resource over those configurations, summed, fits.
bool may_fit(const ilp::FoldingProblem& p, std::int64_t target) {
  hw::Resources least;
  for (const auto& layer : p.candidates) {
    hw::Resources lo{1e300, 1e300, 1e300, 1e300};
    bool any = false;
    for (const auto& c : layer)
      if (c.cost.cycles <= target) {
        any = true;
        lo.dsp = std::min(lo.dsp, c.cost.res.dsp);
        lo.lut = std::min(lo.lut, c.cost.res.lut);
        lo.bram36 = std::min(lo.bram36, c.cost.res.bram36);
        lo.uram = std::min(lo.uram, c.cost.res.uram);
      }
    if (!any) return false;
    least += lo;
  }
  return target >= p.min_ii_cycles && ilp::fits(least, p.capacity);
}

// A space small enough to list (3,200 networks, a stride-1 stage whose blocks add back the
// stem's output) on a device small enough that the hardware binds. With random gains on the
// surrogate's terms, the best network enumeration finds whose program-1 design reaches the II
// target (checked in order of gain) has the MILP's gain, at every target of a sweep.
TEST(Mbv2Selection, Program4EqualsEnumerationWithProgram1) {
  const SpaceSpec spec = parse_space(kSmallSpace, "small.yaml", HAO_SHARED_DATA);
  hw::Device device = hw::load_device("zu3eg");
  device.dsp = 24;
  device.lut = 9000;
  device.bram36 = 12;
  const Mbv2Domain d(spec.mbv2, device);
  SelectionSpace sel = *d.selection();

  std::vector<Genotype> all;
  Genotype g(d.slots().size(), 0);
  for (;;) {
    if (d.valid(g)) all.push_back(g);
    std::size_t s = 0;
    while (s < g.size() && ++g[s] == static_cast<int>(d.slots()[s].choices.size())) g[s++] = 0;
    if (s == g.size()) break;
  }
  ASSERT_EQ(all.size(), 3200u);

  const auto [lower, upper] = ilp::selection_ii_range(sel.problem);
  std::mt19937 rng(5);
  std::normal_distribution<double> normal(0, 1);
  int compared = 0, infeasible = 0;
  std::map<std::size_t, ilp::FoldingProblem> folding;  // by network
  for (int round = 0; round < 3; ++round) {
    for (std::size_t t : sel.terms) sel.problem.parts[t].gain = normal(rng);
    std::vector<double> gain;
    for (const auto& x : all) gain.push_back(ilp::selection_gain(sel.problem, x));
    std::vector<std::size_t> order(all.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](auto a, auto b) { return gain[a] > gain[b]; });
    for (int step = 0; step < 4; ++step) {
      const auto target = static_cast<std::int64_t>(
          static_cast<double>(lower) *
          std::pow(static_cast<double>(upper) / static_cast<double>(lower), step / 3.0));
      const ilp::SelectionSolution milp = ilp::solve_selection(sel.problem, target, {});
      // Enumeration: the first network, by gain, whose leanest design at the target fits.
      double best = -1e300;
      for (std::size_t i : order) {
        auto it = folding.find(i);
        if (it == folding.end())
          it = folding.emplace(i, ilp::make_folding_problem(d.network(all[i]), device, {})).first;
        if (!may_fit(it->second, target)) continue;
        if (ilp::minimize_resources(it->second, target, {}).has_solution()) {
          best = gain[i];
          break;
        }
      }
      ASSERT_EQ(milp.has_solution(), best > -1e300) << "target " << target;
      if (!milp.has_solution()) {
        ++infeasible;
        continue;
      }
      ++compared;
      EXPECT_NEAR(milp.gain, best, 1e-6) << "target " << target;
      EXPECT_TRUE(d.valid(milp.choice));
      EXPECT_LE(milp.ii_cycles, target);
      const auto fp = ilp::make_folding_problem(d.network(milp.choice), device, {});
      EXPECT_TRUE(ilp::minimize_resources(fp, target, {}).has_solution());
    }
  }
  EXPECT_GE(compared, 8);
}

// A three-stage cousin of the default space (its program 4 is quick), built once.
const Mbv2Domain& three_stages() {
  static const Mbv2Domain domain(
      parse_space("name: three\nkind: mbv2\n"
                  "stages: [{channels: 16, stride: 1}, {channels: 24, stride: 2}, "
                  "{channels: 32, stride: 2}]\n"
                  "choices: {depth: [1, 2, 3], width: [0.5, 1.0], kernel: [3, 5], "
                  "expansion: [1, 3, 6], bits: [4, 8]}\n",
                  "three.yaml", HAO_SHARED_DATA)
          .mbv2,
      hw::load_device("zu3eg"));
  return domain;
}

// The hao strategy's proposals on a three-stage cousin of the default space (the default
// space's sweep takes 10-20 s, measured by hao search), from observations whose accuracy is an
// additive function of the slots: valid networks that fit the zu3eg, distinct, and a looser II
// target never lowers the surrogate's best.
TEST(Mbv2Selection, ProposalsTraceTheSurrogatesFrontier) {
  const Mbv2Domain& d = three_stages();
  Rng rng(4);
  std::vector<Observation> history;
  for (int i = 0; i < 12; ++i) {
    const Genotype g = d.random(rng);
    double acc = 0.6;
    for (std::size_t s = 0; s < 3; ++s) acc += 0.02 * g[s * 11] + 0.01 * g[s * 11 + 1];
    history.push_back({g, acc, d.latency_ms(g), {}});
  }
  const auto start = std::chrono::steady_clock::now();
  const std::vector<Proposal> proposals = program4_proposals(d, history, 5);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cerr << proposals.size() << " proposals in " << seconds << " s\n";
  ASSERT_GE(proposals.size(), 3u);
  std::set<Genotype> distinct;
  for (std::size_t i = 0; i < proposals.size(); ++i) {
    const Proposal& p = proposals[i];
    EXPECT_TRUE(d.valid(p.genotype));
    distinct.insert(p.genotype);
    const Hardware h = d.hardware(p.genotype);
    EXPECT_TRUE(h.feasible) << d.label(p.genotype);
    const double ii = d.device().clock_mhz * 1e6 / h.fps;
    EXPECT_LE(ii, static_cast<double>(p.target_ii_cycles) * 1.0001) << d.label(p.genotype);
    if (i > 0) {
      EXPECT_GT(p.target_ii_cycles, proposals[i - 1].target_ii_cycles);
      EXPECT_GE(p.predicted, proposals[i - 1].predicted - 1e-9);
    }
  }
  EXPECT_EQ(distinct.size(), proposals.size());
}

// The sensitivity features: Omega measured on trained networks, carried by layer name (else
// by role) to networks never trained, summed at each network's own bits.
TEST(Mbv2Sensitivity, OmegaTableCarriesMeasuredLayersToUntrainedNetworks) {
  const Mbv2Domain& d = three_stages();
  Rng rng(9);
  // Two measured networks: every layer's Omega is its name's length (times 3 in the second)
  // at 4 bits, a hundredth of that at 8.
  std::vector<Observation> history;
  for (double scale : {1.0, 3.0}) {
    Observation o{d.random(rng), 80, 1, {}};
    const auto layers = d.layer_bits(o.genotype);
    const ir::Network net = d.network(o.genotype);
    std::size_t weighted = 0;
    for (const auto& l : net.layers) weighted += l.has_weights() ? 1 : 0;
    ASSERT_EQ(layers.size(), weighted);
    for (const auto& [name, bits] : layers) {
      EXPECT_TRUE(bits == 4 || bits == 8) << name;
      o.omega[name] = {{4, scale * static_cast<double>(name.size())},
                       {8, scale * static_cast<double>(name.size()) / 100}};
    }
    history.push_back(o);
  }
  const OmegaTable table(d, history);
  ASSERT_FALSE(table.empty());
  EXPECT_TRUE(OmegaTable(d, {}).empty());
  // Both networks have a stem and a classifier: their mean.
  EXPECT_DOUBLE_EQ(table.layer("stem", 4), 2.0 * 4);
  EXPECT_DOUBLE_EQ(table.layer("classifier", 8), 2.0 * 10 / 100);
  // A layer neither has, by role: the mean over every measured "dw" (7-letter names).
  double dw_sum = 0, dw_count = 0;
  for (const auto& o : history)
    for (const auto& [name, per_bits] : o.omega)
      if (name.size() > 3 && name.substr(name.size() - 3) == "_dw")
        dw_sum += per_bits.at(4), dw_count += 1;
  ASSERT_GT(dw_count, 0);
  EXPECT_DOUBLE_EQ(table.layer("s9b9_dw", 4), dw_sum / dw_count);
  EXPECT_DOUBLE_EQ(table.layer("nothing", 4), 0);
  // A network's Omega is the sum over its layers at their bits; the median measured network
  // (the larger of two) has feature 0, the other less.
  for (int i = 0; i < 5; ++i) {
    const Genotype g = d.random(rng);
    double sum = 0;
    for (const auto& [name, bits] : d.layer_bits(g)) sum += table.layer(name, bits);
    EXPECT_DOUBLE_EQ(table.network(d, g), sum);
  }
  const double a = table.network(d, history[0].genotype);
  const double b = table.network(d, history[1].genotype);
  const Genotype& upper = a > b ? history[0].genotype : history[1].genotype;
  const Genotype& lower = a > b ? history[1].genotype : history[0].genotype;
  EXPECT_NEAR(table.feature(d, upper), 0, 1e-12);
  EXPECT_LT(table.feature(d, lower), 0);
}

// When accuracy follows the summed sensitivity, the predictors with the sensitivity feature
// rank held-out networks better than without it (the feature reaches the fits).
TEST(Mbv2Sensitivity, FeatureHelpsWhenAccuracyFollowsSensitivity) {
  const Mbv2Domain& d = three_stages();
  Rng rng(5);
  std::vector<Observation> history;
  for (int i = 0; i < 30; ++i) {
    Observation o{d.random(rng), 0, 1, {}};
    double own = 0;
    for (const auto& [name, bits] : d.layer_bits(o.genotype)) {
      // Deeper layers are more sensitive; 8 bits costs a hundredth of 4.
      const double at4 = 1.0 + static_cast<double>(name[1]) * static_cast<double>(name.size());
      o.omega[name] = {{4, at4}, {8, at4 / 100}};
      own += bits == 4 ? at4 : at4 / 100;
    }
    o.accuracy = 90 - 3 * std::log10(own);
    history.push_back(o);
  }
  const auto tau = predictor_kendall(d, history, 1, /*sensitivity_trend=*/true);
  ASSERT_EQ(tau.count("gp_no_sensitivity"), 1u);
  std::cerr << "gp " << tau.at("gp") << " (without " << tau.at("gp_no_sensitivity") << "), ridge "
            << tau.at("ridge") << " (without " << tau.at("ridge_no_sensitivity") << ")\n";
  EXPECT_GT(tau.at("gp"), tau.at("gp_no_sensitivity"));
  EXPECT_GT(tau.at("ridge"), tau.at("ridge_no_sensitivity"));
  EXPECT_GT(tau.at("gp"), 0.7);
  // Without the trend the feature is one kernel input among ~50: it barely registers.
  const auto in_kernel = predictor_kendall(d, history, 1, false);
  EXPECT_LT(in_kernel.at("gp"), 0.5);
  EXPECT_DOUBLE_EQ(in_kernel.at("gp_no_sensitivity"), tau.at("gp_no_sensitivity"));
}

}  // namespace
}  // namespace hao::search
