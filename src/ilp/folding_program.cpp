#include "ilp/folding_program.hpp"

#include <algorithm>
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
  for (const auto& layer : net.layers) p.candidates.push_back(hw::layer_candidates(layer, device, options));
  p.capacity = device.usable();
  p.min_ii_cycles = hw::input_transfer_cycles(net, device);
  return p;
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

bool build_assignment(const FoldingProblem& p, std::int64_t max_cycles, Assignment& a,
                      bool resource_objective_terms) {
  const std::size_t layers = p.candidates.size();
  a.var.assign(layers, {});
  std::vector<std::pair<int, double>> dsp, lut, bram, uram;
  for (std::size_t l = 0; l < layers; ++l) {
    std::vector<std::pair<int, double>> one;
    for (std::size_t k = 0; k < p.candidates[l].size(); ++k) {
      const hw::Candidate& c = p.candidates[l][k];
      const hw::Resources& r = c.cost.res;
      // A candidate that alone exceeds a resource can never be chosen.
      if (c.cost.cycles > max_cycles || !fits(r, p.capacity)) {
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
  a.model.add_row(std::move(dsp), -kInf, p.capacity.dsp, "dsp");
  a.model.add_row(std::move(lut), -kInf, p.capacity.lut, "lut");
  a.model.add_row(std::move(bram), -kInf, p.capacity.bram36, "bram36");
  a.model.add_row(std::move(uram), -kInf, p.capacity.uram, "uram");
  return true;
}

std::vector<int> read_choice(const Assignment& a, const std::vector<double>& x) {
  std::vector<int> choice;
  for (const auto& layer : a.var) {
    int best = -1;
    double best_v = -1;
    for (std::size_t k = 0; k < layer.size(); ++k) {
      if (layer[k] < 0) continue;
      const double v = x[static_cast<std::size_t>(layer[k])];
      if (v > best_v) best_v = v, best = static_cast<int>(k);
    }
    choice.push_back(best);
  }
  return choice;
}

void fill_solution(const FoldingProblem& p, FoldingSolution& s) {
  s.ii_cycles = choice_ii(p, s.choice);
  s.used = choice_resources(p, s.choice);
}

}  // namespace

FoldingSolution minimize_resources(const FoldingProblem& p, std::int64_t target_ii,
                                   const SolveOptions& options) {
  FoldingSolution s;
  Assignment a;
  if (target_ii < p.min_ii_cycles || !build_assignment(p, target_ii, a, true)) {
    s.status = SolveStatus::kInfeasible;
    s.message = "some layer has no configuration within " + std::to_string(target_ii) +
                " cycles that fits the device";
    return s;
  }
  const SolveResult r = solve_with_cbc(a.model, options);
  s.status = r.status;
  s.seconds = r.seconds;
  s.nodes = r.nodes;
  s.gap = r.gap;
  s.best_bound = r.best_bound;
  s.message = r.message;
  if (r.has_solution()) {
    s.choice = read_choice(a, r.values);
    fill_solution(p, s);
  }
  return s;
}

FoldingSolution minimize_ii(const FoldingProblem& p, const SolveOptions& options,
                            const std::vector<int>* start) {
  FoldingSolution s;
  std::int64_t upper = std::numeric_limits<std::int64_t>::max();
  if (start) upper = choice_ii(p, *start);
  // Lower bound: every layer's fastest configuration that fits the device on its own.
  std::int64_t lower = p.min_ii_cycles;
  for (const auto& layer : p.candidates) {
    std::int64_t fastest = std::numeric_limits<std::int64_t>::max();
    for (const auto& c : layer)
      if (fits(c.cost.res, p.capacity)) fastest = std::min(fastest, c.cost.cycles);
    lower = std::max(lower, fastest);
  }
  Assignment a;
  if (lower == std::numeric_limits<std::int64_t>::max() || !build_assignment(p, upper, a, false)) {
    s.status = SolveStatus::kInfeasible;
    s.message = "some layer has no configuration that fits the device";
    return s;
  }
  // II >= sum_k cycles[l][k] x[l][k] for every layer; minimize II.
  const double ii_ub = upper == std::numeric_limits<std::int64_t>::max() ? kInf : static_cast<double>(upper);
  const int ii = a.model.add_var(static_cast<double>(lower), ii_ub, 1.0, VarType::kContinuous, "II");
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
  s.status = r.status;
  s.seconds = r.seconds;
  s.nodes = r.nodes;
  s.message = r.message;
  if (!r.has_solution()) return s;
  s.choice = read_choice(a, r.values);
  fill_solution(p, s);
  // The II variable may sit above the max of the chosen cycles when the solver stopped early;
  // the bound and gap refer to the integral II of the choice.
  s.best_bound = std::max(static_cast<double>(lower), std::ceil(r.best_bound - 1e-6));
  s.gap = std::max(0.0, (static_cast<double>(s.ii_cycles) - s.best_bound) / static_cast<double>(s.ii_cycles));
  if (s.status == SolveStatus::kOptimal) s.gap = 0, s.best_bound = static_cast<double>(s.ii_cycles);

  // Second pass: among designs at this II, the one with the least resources.
  SolveOptions second = options;
  second.time_limit_s = std::max(0.1, options.time_limit_s - r.seconds);
  FoldingSolution lean = minimize_resources(p, s.ii_cycles, second);
  s.seconds += lean.seconds;
  s.nodes += lean.nodes;
  if (lean.has_solution() &&
      resource_objective(lean.used, p.capacity) <= resource_objective(s.used, p.capacity)) {
    s.choice = lean.choice;
    fill_solution(p, s);
  }
  return s;
}

std::vector<int> dominating_choice(const FoldingProblem& p, const std::vector<hw::LayerCost>& costs) {
  std::vector<int> choice;
  for (std::size_t l = 0; l < costs.size(); ++l) {
    const hw::LayerCost& g = costs[l];
    int found = -1;
    for (std::size_t k = 0; k < p.candidates[l].size() && found < 0; ++k) {
      const hw::LayerCost& c = p.candidates[l][k].cost;
      if (c.cycles <= g.cycles && c.res.dsp <= g.res.dsp && c.res.lut <= g.res.lut &&
          c.res.bram36 <= g.res.bram36 && c.res.uram <= g.res.uram)
        found = static_cast<int>(k);
    }
    HAO_CHECK(found >= 0, "the candidate list must dominate every legal configuration");
    choice.push_back(found);
  }
  return choice;
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
    best.status = SolveStatus::kInfeasible;
    return best;
  }
  best.status = SolveStatus::kOptimal;
  fill_solution(p, best);
  best.best_bound = static_cast<double>(best.ii_cycles);
  return best;
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
  // A layer none of whose configurations fits on its own.
  for (std::size_t l = 0; l < p.candidates.size(); ++l) {
    bool any = false;
    for (const auto& c : p.candidates[l]) any = any || fits(c.cost.res, p.capacity);
    if (any) continue;
    std::string detail;
    for (const auto& n : needs) {
      double least = kInf;
      for (const auto& c : p.candidates[l]) least = std::min(least, c.cost.res.*n.field);
      if (least > p.capacity.*n.field)
        detail += std::string(detail.empty() ? "" : "; ") + n.name + " " + core::fixed(least, 0) +
                  " > " + core::fixed(p.capacity.*n.field, 0) + " usable";
    }
    return "layer '" + net.layers[l].name + "' alone does not fit on " + device.name + " in any " +
           "configuration: " + detail;
  }
  // The sum of per-layer minima of some resource exceeds the device.
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
    std::sort(per_layer.rbegin(), per_layer.rend());
    std::string top;
    for (std::size_t i = 0; i < std::min<std::size_t>(3, per_layer.size()); ++i)
      top += std::string(i ? ", " : "") + "'" + net.layers[per_layer[i].second].name + "' " +
             core::fixed(per_layer[i].first, 0);
    std::string what = std::string(n.name) + " " + core::fixed(total, 0) + " needed at the least > " +
                       core::fixed(p.capacity.*n.field, 0) + " usable on " + device.name;
    if (n.field == &hw::Resources::bram36 || n.field == &hw::Resources::uram)
      what += ": the weights and line buffers (" +
              core::fixed(static_cast<double>(net.total_weight_bits()) / 8e6, 2) +
              " MB of weights) do not fit on chip";
    return what + "; largest: " + top;
  }
  return "no combination of layer configurations fits all resources of " + device.name +
         " at once, although each resource alone could be met";
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
    ParetoPoint pt{s.ii_cycles, clock_mhz * 1e6 / static_cast<double>(s.ii_cycles), s.used, s.choice, s.gap};
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
