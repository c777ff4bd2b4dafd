#include "ilp/folding_program.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <limits>

#include "core/error.hpp"
#include "core/text.hpp"
#include "ilp/cbc_solver.hpp"

namespace hao::ilp {

FoldingProblem make_folding_problem(const ir::Network& net, const hw::Device& device,
                                    const hw::DataflowOptions& options) {
  FoldingProblem p;
  for (const auto& layer : net.layers)
    p.candidates.push_back(hw::layer_candidates(layer, device, options));
  p.capacity = device.usable();
  p.min_ii_cycles = hw::input_transfer_cycles(net, device);
  if (!options.split_threshold_choice) return p;
  std::vector<bool> linked(net.layers.size(), false);
  for (std::size_t a = 0; a < net.layers.size(); ++a) {
    const ir::Layer& act = net.layers[a];
    if (act.op != ir::OpKind::kAct || act.fused_into < 0) continue;
    const auto e = static_cast<std::size_t>(act.fused_into);
    if (hw::threshold_placement_choice(act, options) &&
        hw::threshold_placement_choice(net.layers[e], options)) {
      p.links.push_back({e, a});
      linked[e] = linked[a] = true;
    }
  }
  for (std::size_t l = 0; l < net.layers.size(); ++l)
    if (!linked[l]) {
      auto& list = p.candidates[l];
      list.erase(std::remove_if(list.begin(), list.end(),
                                [](const hw::Candidate& c) { return c.config.split_thresholds; }),
                 list.end());
    }
  return p;
}

bool links_agree(const FoldingProblem& p, const std::vector<int>& choice) {
  for (const auto& [e, a] : p.links)
    if (p.candidates[e][static_cast<std::size_t>(choice[e])].config.split_thresholds !=
        p.candidates[a][static_cast<std::size_t>(choice[a])].config.split_thresholds)
      return false;
  return true;
}

std::int64_t choice_ii(const FoldingProblem& p, const std::vector<int>& choice) {
  std::int64_t ii = p.min_ii_cycles;
  for (std::size_t l = 0; l < choice.size(); ++l)
    ii = std::max(ii, p.candidates[l][static_cast<std::size_t>(choice[l])].cost.cycles);
  return ii;
}

hw::Resources choice_resources(const FoldingProblem& p, const std::vector<int>& choice) {
  hw::Resources r;
  for (std::size_t l = 0; l < choice.size(); ++l)
    r += p.candidates[l][static_cast<std::size_t>(choice[l])].cost.res;
  return r;
}

bool fits(const hw::Resources& u, const hw::Resources& c) {
  constexpr double kTol = 1e-6;
  return u.dsp <= c.dsp + kTol && u.lut <= c.lut + kTol && u.bram36 <= c.bram36 + kTol &&
         u.uram <= c.uram + kTol;
}

bool cheaper_or_equal(const hw::Resources& a, const hw::Resources& b) {
  return a.dsp <= b.dsp && a.lut <= b.lut && a.bram36 <= b.bram36 && a.uram <= b.uram;
}

std::vector<int> cheapest_within(const std::vector<hw::Candidate>& all, std::int64_t target_ii) {
  std::vector<int> in;
  for (std::size_t k = 0; k < all.size(); ++k)
    if (all[k].cost.cycles <= target_ii) in.push_back(static_cast<int>(k));
  std::vector<int> out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const hw::Resources& r = all[static_cast<std::size_t>(in[i])].cost.res;
    bool dominated = false;
    for (std::size_t j = 0; j < in.size() && !dominated; ++j) {
      const hw::Resources& o = all[static_cast<std::size_t>(in[j])].cost.res;
      if (i == j || !cheaper_or_equal(o, r)) continue;
      dominated = !cheaper_or_equal(r, o) || j < i;  // equals: keep the first
    }
    if (!dominated) out.push_back(in[i]);
  }
  return out;
}

namespace {

double resource_weight(double capacity) { return capacity > 0 ? 1.0 / capacity : 0.0; }

double resource_objective(const hw::Resources& used, const hw::Resources& cap) {
  return used.dsp * resource_weight(cap.dsp) + used.lut * resource_weight(cap.lut) +
         used.bram36 * resource_weight(cap.bram36) + used.uram * resource_weight(cap.uram);
}

// Binary x[l][k] for the candidates each layer may use (cycles <= max_cycles), with the
// assignment rows and the four resource rows. Returns false when a layer has no candidate.
struct Assignment {
  Model model;
  std::vector<std::vector<int>> var;  // var[l][k], -1 when excluded
};

// Elastic mode: every candidate is allowed, the capacity rows get an excess variable each, and
// the objective is the summed relative excess (see least_excess).
bool build_assignment(const FoldingProblem& p, std::int64_t max_cycles, Assignment& a,
                      bool resource_objective_terms, bool elastic = false) {
  const std::size_t layers = p.candidates.size();
  a.var.assign(layers, {});
  std::vector<std::pair<int, double>> dsp, lut, bram, uram;
  for (std::size_t l = 0; l < layers; ++l) {
    std::vector<std::pair<int, double>> one;
    for (std::size_t k = 0; k < p.candidates[l].size(); ++k) {
      const hw::Candidate& c = p.candidates[l][k];
      const hw::Resources& r = c.cost.res;
      // A candidate that alone exceeds a resource can never be chosen.
      if (c.cost.cycles > max_cycles || (!elastic && !fits(r, p.capacity))) {
        a.var[l].push_back(-1);
        continue;
      }
      const double obj = resource_objective_terms ? resource_objective(r, p.capacity) : 0.0;
      const int v = a.model.add_var(0, 1, obj, VarType::kBinary);
      a.var[l].push_back(v);
      one.push_back({v, 1.0});
      if (r.dsp > 0) dsp.push_back({v, r.dsp});
      if (r.lut > 0) lut.push_back({v, r.lut});
      if (r.bram36 > 0) bram.push_back({v, r.bram36});
      if (r.uram > 0) uram.push_back({v, r.uram});
    }
    if (one.empty()) return false;
    a.model.add_row(std::move(one), 1, 1, "assign_" + std::to_string(l));
  }
  // Linked layers place their thresholds alike: split(engine) - split(activation) = 0.
  for (const auto& [e, act] : p.links) {
    std::vector<std::pair<int, double>> terms;
    for (std::size_t k = 0; k < p.candidates[e].size(); ++k)
      if (a.var[e][k] >= 0 && p.candidates[e][k].config.split_thresholds)
        terms.push_back({a.var[e][k], 1.0});
    for (std::size_t k = 0; k < p.candidates[act].size(); ++k)
      if (a.var[act][k] >= 0 && p.candidates[act][k].config.split_thresholds)
        terms.push_back({a.var[act][k], -1.0});
    if (!terms.empty())
      a.model.add_row(std::move(terms), 0, 0,
                      "link_" + std::to_string(e) + "_" + std::to_string(act));
  }
  auto capacity_row = [&](std::vector<std::pair<int, double>> terms, double cap, const char* name) {
    if (elastic) {
      // A resource the device lacks entirely weighs as much as its first unit would on a
      // device that has one.
      const int excess = a.model.add_var(0, kInf, 1.0 / std::max(cap, 1.0), VarType::kContinuous);
      terms.push_back({excess, -1.0});
    }
    a.model.add_row(std::move(terms), -kInf, cap, name);
  };
  capacity_row(std::move(dsp), p.capacity.dsp, "dsp");
  capacity_row(std::move(lut), p.capacity.lut, "lut");
  capacity_row(std::move(bram), p.capacity.bram36, "bram36");
  capacity_row(std::move(uram), p.capacity.uram, "uram");
  return true;
}

void fill_solution(const FoldingProblem& p, FoldingSolution& s) {
  s.ii_cycles = choice_ii(p, s.choice);
  s.used = choice_resources(p, s.choice);
}

// The II can be no lower than the input transfer nor than any layer's fastest configuration
// that fits the device on its own; max() when some layer has none.
std::int64_t trivial_lower_bound(const FoldingProblem& p) {
  std::int64_t lower = p.min_ii_cycles;
  for (const auto& layer : p.candidates) {
    std::int64_t fastest = std::numeric_limits<std::int64_t>::max();
    for (const auto& c : layer)
      if (fits(c.cost.res, p.capacity)) fastest = std::min(fastest, c.cost.cycles);
    lower = std::max(lower, fastest);
  }
  return lower;
}

// Per layer, the layer its one link ties it to, or -1 (a layer in several links is left
// unlinked: still a relaxation).
std::vector<int> relaxation_partners(const FoldingProblem& p) {
  const std::size_t n = p.candidates.size();
  std::vector<int> partner(n, -1);
  std::vector<int> links_of(n, 0);
  for (const auto& [e, a] : p.links) ++links_of[e], ++links_of[a];
  for (const auto& [e, a] : p.links)
    if (links_of[e] == 1 && links_of[a] == 1)
      partner[e] = static_cast<int>(a), partner[a] = static_cast<int>(e);
  return partner;
}

// Whether the layers' cheapest configurations within `ii` cycles fit, in each of the weighted
// sums of resources that any fitting choice keeps within the capacity: each resource alone
// (a layer may then take a different configuration for each), and every sum of two or more
// resources as fractions of their capacity (where a layer trades DSPs for LUTs, or block RAM
// for LUT RAM, single resources bound loosely). A linked pair (an MVAU/VVAU and its
// activation) takes its cheapest pair that agrees on where the thresholds are: apart, each
// would count the thresholds in neither.
// `partner`: per layer, the layer it is linked to (relaxation_partners), or -1.
bool relaxation_fits(const FoldingProblem& p, const std::vector<int>& partner, std::int64_t ii) {
  constexpr double kTol = 1e-6;
  constexpr double kNone = std::numeric_limits<double>::infinity();
  const std::size_t n = p.candidates.size();
  const double capacity[4] = {p.capacity.dsp, p.capacity.lut, p.capacity.bram36, p.capacity.uram};
  // The weights: bit t of the mask selects resource t (weight 1 / capacity).
  for (unsigned mask = 1; mask < 16; ++mask) {
    double weight[4];
    double limit = 0;
    for (int t = 0; t < 4; ++t) {
      const bool on = (mask >> t) & 1U;
      if (on && capacity[t] <= 0) {
        weight[t] = 1;  // none of it: any use is over (the single-resource mask says so)
        continue;
      }
      weight[t] = on ? 1 / capacity[t] : 0;
      limit += on ? 1 : 0;
    }
    // Per layer, its cheapest configuration within `ii` with the thresholds inside / split.
    auto cheapest = [&](std::size_t l, bool split) {
      double least = kNone;
      for (const auto& c : p.candidates[l])
        if (c.cost.cycles <= ii && c.config.split_thresholds == split)
          least = std::min(least, weight[0] * c.cost.res.dsp + weight[1] * c.cost.res.lut +
                                      weight[2] * c.cost.res.bram36 + weight[3] * c.cost.res.uram);
      return least;
    };
    double least = 0;
    for (std::size_t l = 0; l < n; ++l) {
      if (partner[l] < 0) {
        least += std::min(cheapest(l, false), cheapest(l, true));
      } else if (static_cast<std::size_t>(partner[l]) > l) {
        const auto m = static_cast<std::size_t>(partner[l]);
        least += std::min(cheapest(l, false) + cheapest(m, false),
                          cheapest(l, true) + cheapest(m, true));
      }
    }
    if (least > limit + kTol) return false;
  }
  return true;
}

FoldingSolution from_result(const FoldingProblem& p, const Assignment& a, const SolveResult& r) {
  FoldingSolution s;
  s.stats = r.stats;
  if (r.has_solution()) {
    s.choice = chosen_options(a.var, r.values);
    fill_solution(p, s);
  }
  return s;
}

}  // namespace

namespace {

// Least resources (lean = true) or any feasible design (lean = false) with every layer at
// most `target_ii` cycles.
FoldingSolution solve_at_target(const FoldingProblem& p, std::int64_t target_ii,
                                const SolveOptions& options, bool lean) {
  FoldingSolution s;
  Assignment a;
  if (target_ii < p.min_ii_cycles || !build_assignment(p, target_ii, a, lean)) {
    s.stats.status = SolveStatus::kInfeasible;
    s.stats.message = "some layer has no configuration within " + std::to_string(target_ii) +
                      " cycles that fits the device";
    return s;
  }
  SolveOptions o = options;
  if (!options.start_choice.empty()) {
    o.start.assign(static_cast<std::size_t>(a.model.num_vars()), 0.0);
    for (std::size_t l = 0; l < options.start_choice.size(); ++l) {
      const int v = a.var[l][static_cast<std::size_t>(options.start_choice[l])];
      if (v >= 0) o.start[static_cast<std::size_t>(v)] = 1.0;
    }
  }
  return from_result(p, a, solve_with_cbc(a.model, o));
}

}  // namespace

FoldingSolution minimize_resources(const FoldingProblem& p, std::int64_t target_ii,
                                   const SolveOptions& options) {
  return solve_at_target(p, target_ii, options, true);
}

FoldingSolution minimize_ii(const FoldingProblem& p, const SolveOptions& options,
                            const std::vector<int>* start) {
  FoldingSolution s;
  std::int64_t upper = std::numeric_limits<std::int64_t>::max();
  if (start) upper = choice_ii(p, *start);
  const std::int64_t lower = trivial_lower_bound(p);
  Assignment a;
  if (lower == std::numeric_limits<std::int64_t>::max() || !build_assignment(p, upper, a, false)) {
    s.stats.status = SolveStatus::kInfeasible;
    s.stats.message = "some layer has no configuration that fits the device";
    return s;
  }
  // II >= sum_k cycles[l][k] x[l][k] for every layer; minimize II.
  const double ii_ub =
      upper == std::numeric_limits<std::int64_t>::max() ? kInf : static_cast<double>(upper);
  const int ii =
      a.model.add_var(static_cast<double>(lower), ii_ub, 1.0, VarType::kContinuous, "II");
  for (std::size_t l = 0; l < p.candidates.size(); ++l) {
    std::vector<std::pair<int, double>> terms{{ii, -1.0}};
    for (std::size_t k = 0; k < p.candidates[l].size(); ++k)
      if (a.var[l][k] >= 0)
        terms.push_back({a.var[l][k], static_cast<double>(p.candidates[l][k].cost.cycles)});
    a.model.add_row(std::move(terms), -kInf, 0, "ii_" + std::to_string(l));
  }
  SolveOptions o = options;
  if (start) {
    o.start.assign(static_cast<std::size_t>(a.model.num_vars()), 0.0);
    for (std::size_t l = 0; l < start->size(); ++l)
      o.start[static_cast<std::size_t>(a.var[l][static_cast<std::size_t>((*start)[l])])] = 1.0;
    o.start[static_cast<std::size_t>(ii)] = static_cast<double>(upper);
  }
  const SolveResult r = solve_with_cbc(a.model, o);
  s.stats = r.stats;
  if (!r.has_solution()) return s;
  s.choice = chosen_options(a.var, r.values);
  fill_solution(p, s);
  // The II variable may sit above the max of the chosen cycles when the solver stopped early;
  // the bound and gap refer to the integral II of the choice.
  s.stats.best_bound = std::max(static_cast<double>(lower), std::ceil(r.stats.best_bound - 1e-6));
  s.stats.gap = std::max(0.0, (static_cast<double>(s.ii_cycles) - s.stats.best_bound) /
                                  static_cast<double>(s.ii_cycles));
  if (s.stats.status == SolveStatus::kOptimal)
    s.stats.gap = 0, s.stats.best_bound = static_cast<double>(s.ii_cycles);

  // Second pass: among designs at this II, the one with the least resources.
  SolveOptions second = options;
  second.time_limit_s = std::max(0.1, options.time_limit_s - r.stats.seconds);
  FoldingSolution lean = minimize_resources(p, s.ii_cycles, second);
  s.stats.add_effort(lean.stats);
  if (lean.has_solution() &&
      resource_objective(lean.used, p.capacity) <= resource_objective(s.used, p.capacity)) {
    s.choice = lean.choice;
    fill_solution(p, s);
  }
  return s;
}

std::vector<int> start_choice(FoldingProblem& p, const std::vector<hw::Candidate>& given) {
  std::vector<int> choice;
  for (std::size_t l = 0; l < given.size(); ++l) {
    const hw::LayerCost& g = given[l].cost;
    auto& list = p.candidates[l];
    int found = -1;
    for (std::size_t k = 0; k < list.size() && found < 0; ++k) {
      const hw::LayerCost& c = list[k].cost;
      if (list[k].config.split_thresholds != given[l].config.split_thresholds) continue;
      if (c.cycles <= g.cycles && cheaper_or_equal(c.res, g.res)) found = static_cast<int>(k);
    }
    if (found < 0) {  // a folding outside the candidates' rules: it joins them, by cycles
      const auto at = std::upper_bound(
          list.begin(), list.end(), g.cycles,
          [](std::int64_t cycles, const hw::Candidate& c) { return cycles < c.cost.cycles; });
      found = static_cast<int>(at - list.begin());
      list.insert(at, given[l]);
    }
    choice.push_back(found);
  }
  return choice;
}

std::int64_t relaxed_ii_bound(const FoldingProblem& p) {
  constexpr std::int64_t kNone = std::numeric_limits<std::int64_t>::max();
  const std::int64_t lower = trivial_lower_bound(p);
  if (lower == kNone) return kNone;
  std::vector<std::int64_t> values{lower};
  for (const auto& layer : p.candidates)
    for (const auto& c : layer)
      if (c.cost.cycles > lower) values.push_back(c.cost.cycles);
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  const std::vector<int> partner = relaxation_partners(p);
  if (!relaxation_fits(p, partner, values.back())) return kNone;
  // Fitting is monotone in the II (a larger II admits more configurations): bisect.
  std::size_t lo = 0, hi = values.size() - 1;
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo) / 2;
    if (relaxation_fits(p, partner, values[mid]))
      hi = mid;
    else
      lo = mid + 1;
  }
  return values[lo];
}

FoldingSolution minimize_ii_bisect(const FoldingProblem& p, const SolveOptions& options,
                                   const std::vector<int>* start) {
  const auto t0 = std::chrono::steady_clock::now();
  auto remaining = [&] {
    return options.time_limit_s -
           std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  // Candidate II values: the distinct cycle counts at or above the relaxation's bound.
  const std::int64_t lower = relaxed_ii_bound(p);
  FoldingSolution best;
  if (lower == std::numeric_limits<std::int64_t>::max()) {
    best.stats.status = SolveStatus::kInfeasible;
    best.stats.message = "some layer has no configuration that fits the device";
    return best;
  }
  std::int64_t upper = std::numeric_limits<std::int64_t>::max();
  if (start) upper = choice_ii(p, *start);
  std::vector<std::int64_t> values{lower};
  for (const auto& layer : p.candidates)
    for (const auto& c : layer)
      if (c.cost.cycles > lower && c.cost.cycles <= upper) values.push_back(c.cost.cycles);
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());

  // Invariant: the optimum lies in values[lo..hi]; values[proven] is the smallest value not
  // proven infeasible (the bound). A probe that times out is treated as infeasible for the
  // search but does not move the bound, so the reported gap stays honest.
  std::size_t lo = 0, hi = values.size() - 1, proven = 0;
  bool hi_feasible = false, unproven = false;
  long nodes = 0;
  while (true) {
    const bool probe_hi = !hi_feasible;  // first make sure the top is feasible
    const std::size_t mid = probe_hi ? hi : lo + (hi - lo) / 2;
    SolveOptions o = options;
    o.time_limit_s = std::max(0.05, remaining() / (probe_hi ? 1.0 : 3.0));
    o.first_solution = true;
    // The resource objective is not needed for feasibility, but it guides CBC's LP-based
    // heuristics to a solution far sooner than a zero objective does near the boundary.
    FoldingSolution s = solve_at_target(p, values[mid], o, true);
    nodes += s.stats.nodes;
    if (s.has_solution()) {
      hi = std::min(hi, mid);
      hi_feasible = true;
      best = s;
      // a feasible design may be faster than the probe's target
      while (hi > lo && values[hi] > s.ii_cycles) --hi;
    } else {
      const bool infeasible = s.stats.status == SolveStatus::kInfeasible;
      if (infeasible)
        proven = std::max(proven, mid + 1);
      else
        unproven = true;
      if (probe_hi) break;  // nothing fits, or nothing found in time
      lo = mid + 1;
    }
    if (hi_feasible && lo >= hi) break;
    if (remaining() <= 0) {
      unproven = true;
      break;
    }
  }
  if (!hi_feasible) {
    best = FoldingSolution{};
    best.stats.status = unproven ? SolveStatus::kNoSolution : SolveStatus::kInfeasible;
    best.stats.message = unproven ? "time limit reached before a feasible design was found"
                                  : "no combination of configurations fits the device";
    best.stats.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best.stats.nodes = nodes;
    return best;
  }
  // The leanest design at the optimal II, from the feasible one as a start.
  SolveOptions lean_options = options;
  lean_options.time_limit_s = std::max(0.05, remaining());
  lean_options.relative_gap = std::max(options.relative_gap, options.lean_relative_gap);
  lean_options.max_nodes = options.lean_max_nodes;
  lean_options.start_choice = best.choice;
  FoldingSolution lean = solve_at_target(p, best.ii_cycles, lean_options, true);
  nodes += lean.stats.nodes;
  if (lean.has_solution() && lean.ii_cycles <= best.ii_cycles &&
      resource_objective(lean.used, p.capacity) <= resource_objective(best.used, p.capacity)) {
    const std::int64_t ii = best.ii_cycles;
    best = lean;
    best.ii_cycles = ii;
    fill_solution(p, best);
    best.resource_gap = lean.stats.gap;
  }
  best.stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  best.stats.nodes = nodes;
  best.stats.best_bound = static_cast<double>(values[std::min(proven, hi)]);
  best.stats.gap = (static_cast<double>(best.ii_cycles) - best.stats.best_bound) /
                   static_cast<double>(best.ii_cycles);
  best.stats.status = best.stats.gap > 0 ? SolveStatus::kFeasible : SolveStatus::kOptimal;
  if (best.stats.status == SolveStatus::kOptimal) best.stats.gap = 0;
  return best;
}

FoldingSolution brute_force_min_ii(const FoldingProblem& p) {
  FoldingSolution best;
  std::vector<int> choice(p.candidates.size(), 0);
  double best_res = kInf;
  std::int64_t best_ii = std::numeric_limits<std::int64_t>::max();
  std::function<void(std::size_t, hw::Resources, std::int64_t)> walk =
      [&](std::size_t l, hw::Resources used, std::int64_t ii) {
        if (!fits(used, p.capacity) || ii > best_ii) return;
        if (l == p.candidates.size()) {
          if (!links_agree(p, choice)) return;
          const double res = resource_objective(used, p.capacity);
          if (ii < best_ii || (ii == best_ii && res < best_res - 1e-12)) {
            best_ii = ii;
            best_res = res;
            best.choice = choice;
          }
          return;
        }
        for (std::size_t k = 0; k < p.candidates[l].size(); ++k) {
          const hw::Candidate& c = p.candidates[l][k];
          choice[l] = static_cast<int>(k);
          hw::Resources next = used;
          next += c.cost.res;
          walk(l + 1, next, std::max(ii, c.cost.cycles));
        }
      };
  walk(0, {}, p.min_ii_cycles);
  if (best.choice.empty()) {
    best.stats.status = SolveStatus::kInfeasible;
    return best;
  }
  best.stats.status = SolveStatus::kOptimal;
  fill_solution(p, best);
  best.stats.best_bound = static_cast<double>(best.ii_cycles);
  return best;
}

namespace {

// Bits of on-chip memory per kind: every BRAM36, every URAM, every LUT as LUTRAM.
double bram_bits(const hw::Resources& cap) { return cap.bram36 * 36864.0; }
double uram_bits(const hw::Resources& cap) { return cap.uram * 294912.0; }
double lutram_bits(const hw::Resources& cap) { return cap.lut * 64.0; }
// Most bits the device can hold on chip: all three kinds.
double on_chip_bits(const hw::Resources& cap) {
  return bram_bits(cap) + uram_bits(cap) + lutram_bits(cap);
}

std::string mbit(double bits) { return core::fixed(bits / 1e6, 2) + " Mbit"; }

// "'a' 5.12 Mbit, 'b' 1.64 Mbit, 'c' 1.23 Mbit": the three layers with the largest values.
std::string largest_three(std::vector<std::pair<double, std::size_t>> per_layer,
                          const ir::Network& net,
                          const std::function<std::string(double)>& format) {
  std::sort(per_layer.rbegin(), per_layer.rend());
  std::string top;
  for (std::size_t i = 0; i < std::min<std::size_t>(3, per_layer.size()); ++i)
    top += std::string(i ? ", " : "") + "'" + net.layers[per_layer[i].second].name + "' " +
           format(per_layer[i].first);
  return top;
}

std::string memory_summary(const hw::Resources& cap) {
  return core::fixed(cap.bram36, 0) + " BRAM36 + " + core::fixed(cap.uram, 0) + " URAM + " +
         core::fixed(cap.lut, 0) + " LUTs as LUTRAM";
}

}  // namespace

FoldingSolution least_excess(const FoldingProblem& p, const SolveOptions& options) {
  Assignment a;
  build_assignment(p, std::numeric_limits<std::int64_t>::max(), a, false, true);
  return from_result(p, a, solve_with_cbc(a.model, options));
}

std::string explain_infeasible(const FoldingProblem& p, const ir::Network& net,
                               const hw::Device& device) {
  struct Need {
    const char* name;
    double hw::Resources::*field;
  };
  const Need needs[] = {{"DSP", &hw::Resources::dsp},
                        {"LUT", &hw::Resources::lut},
                        {"BRAM36", &hw::Resources::bram36},
                        {"URAM", &hw::Resources::uram}};
  const double capacity_bits = on_chip_bits(p.capacity);
  const double weight_bits = static_cast<double>(net.total_weight_bits());
  // 1. A layer none of whose configurations fits on its own.
  for (std::size_t l = 0; l < p.candidates.size(); ++l) {
    bool any = false;
    for (const auto& c : p.candidates[l]) any = any || fits(c.cost.res, p.capacity);
    if (any) continue;
    const ir::Layer& layer = net.layers[l];
    const std::string head =
        "layer '" + layer.name + "' alone does not fit on " + device.name + ": ";
    const double bits = static_cast<double>(layer.weights() * layer.weight_bits);
    if (bits > capacity_bits)
      return head + "its weights need " + mbit(bits) + " > " + mbit(capacity_bits) +
             " of on-chip memory (" + memory_summary(p.capacity) + ")";
    // The network's weights do not fit on chip either: that is what to fix first (2.).
    if (weight_bits > capacity_bits) break;
    const double bram = bram_bits(p.capacity), uram = uram_bits(p.capacity),
                 lutram = lutram_bits(p.capacity);
    if (bits > std::max({bram, uram, lutram}))
      return head + "its weights (" + mbit(bits) +
             ") fit in no one kind of on-chip memory, and a layer keeps its weights in one: " +
             mbit(bram) + " of BRAM (" + core::fixed(p.capacity.bram36, 0) + " BRAM36), " +
             (uram > 0 ? mbit(uram) + " of URAM (" + core::fixed(p.capacity.uram, 0) + "), "
                       : std::string()) +
             mbit(lutram) + " of LUTRAM (" + core::fixed(p.capacity.lut, 0) +
             " LUTs) usable. Use fewer weight bits or a larger device";
    std::string detail;
    for (const auto& n : needs) {
      double least = kInf;
      for (const auto& c : p.candidates[l]) least = std::min(least, c.cost.res.*n.field);
      if (least > p.capacity.*n.field)
        detail += std::string(detail.empty() ? "" : "; ") + n.name + " " + core::fixed(least, 0) +
                  " > " + core::fixed(p.capacity.*n.field, 0) + " usable";
    }
    if (detail.empty()) {
      // Each resource can be met by some configuration, never all at once (e.g. weights
      // that fit in BRAM or in LUTRAM but not in what both have left).
      const hw::Resources& r = p.candidates[l].back().cost.res;
      detail = "every configuration exceeds some resource; the most folded needs DSP " +
               core::fixed(r.dsp, 0) + ", LUT " + core::fixed(r.lut, 0) + ", BRAM36 " +
               core::fixed(r.bram36, 0) + " against " + core::fixed(p.capacity.dsp, 0) + ", " +
               core::fixed(p.capacity.lut, 0) + ", " + core::fixed(p.capacity.bram36, 0) +
               " usable";
    }
    return head + detail;
  }
  // 2. All weights together against all on-chip memory.
  if (weight_bits > capacity_bits) {
    std::vector<std::pair<double, std::size_t>> per_layer;
    for (std::size_t l = 0; l < net.layers.size(); ++l)
      per_layer.push_back(
          {static_cast<double>(net.layers[l].weights() * net.layers[l].weight_bits), l});
    const std::string top = largest_three(per_layer, net, mbit);
    return "the weights do not fit on chip: they need " + mbit(weight_bits) + " > " +
           mbit(capacity_bits) + " usable on " + device.name + " (" + memory_summary(p.capacity) +
           "); largest: " + top +
           ". Use fewer weight bits, a larger device, or a template "
           "that streams weights from DRAM (--template engine)";
  }
  // 3. The sum of per-layer minima of some resource exceeds the device.
  for (const auto& n : needs) {
    double total = 0;
    std::vector<std::pair<double, std::size_t>> per_layer;
    for (std::size_t l = 0; l < p.candidates.size(); ++l) {
      double least = kInf;
      for (const auto& c : p.candidates[l]) least = std::min(least, c.cost.res.*n.field);
      total += least;
      per_layer.push_back({least, l});
    }
    if (total <= p.capacity.*n.field + 1e-6) continue;
    const std::string top =
        largest_three(per_layer, net, [](double v) { return core::fixed(v, 0); });
    return std::string(n.name) + " " + core::fixed(total, 0) + " needed at the least > " +
           core::fixed(p.capacity.*n.field, 0) + " usable on " + device.name + "; largest: " + top;
  }
  // 4. Each resource alone can be met, not all at once: the design closest to fitting.
  SolveOptions o;
  o.time_limit_s = 10;
  o.max_nodes = 2000;
  const FoldingSolution closest = least_excess(p, o);
  std::string excess;
  if (closest.has_solution())
    for (const auto& n : needs)
      if (closest.used.*n.field > p.capacity.*n.field + 1e-6)
        excess += std::string(excess.empty() ? "" : " and ") + n.name + " " +
                  core::fixed(closest.used.*n.field, 0) + " > " +
                  core::fixed(p.capacity.*n.field, 0) + " usable";
  return "no combination of layer configurations fits all resources of " + device.name +
         " at once, although each resource alone could be met" +
         (excess.empty()
              ? std::string()
              : "; the design closest to fitting (least relative excess" +
                    std::string(
                        closest.stats.status == SolveStatus::kOptimal ? "" : ", not proven least") +
                    ") needs " + excess);
}

std::vector<ParetoPoint> pareto_sweep(const FoldingProblem& p, double clock_mhz,
                                      std::int64_t fastest_ii, int points,
                                      const SolveOptions& options) {
  std::int64_t slowest = p.min_ii_cycles;
  for (const auto& layer : p.candidates) {
    std::int64_t m = 0;
    for (const auto& c : layer) m = std::max(m, c.cost.cycles);
    slowest = std::max(slowest, m);
  }
  std::vector<std::int64_t> targets;
  for (int i = 0; i < points; ++i) {
    const double t = points == 1 ? 0.0 : static_cast<double>(i) / (points - 1);
    const double v = static_cast<double>(fastest_ii) *
                     std::pow(static_cast<double>(slowest) / static_cast<double>(fastest_ii), t);
    const auto target = static_cast<std::int64_t>(std::floor(v + 1e-9));
    if (targets.empty() || target > targets.back()) targets.push_back(target);
  }
  std::vector<ParetoPoint> front;
  for (std::int64_t target : targets) {
    const FoldingSolution s = minimize_resources(p, target, options);
    if (!s.has_solution()) continue;
    ParetoPoint pt{s.ii_cycles, clock_mhz * 1e6 / static_cast<double>(s.ii_cycles), s.used,
                   s.choice, s.stats.gap};
    bool dominated = false;
    for (const auto& q : front)
      dominated = dominated || (q.ii_cycles <= pt.ii_cycles && q.used.dsp <= pt.used.dsp &&
                                q.used.lut <= pt.used.lut && q.used.bram36 <= pt.used.bram36 &&
                                q.used.uram <= pt.used.uram);
    if (!dominated) front.push_back(pt);
  }
  return front;
}

}  // namespace hao::ilp
