#include "ilp/selection_program.hpp"

#include <algorithm>
#include <chrono>
#include <functional>
#include <limits>

#include "core/error.hpp"
#include "ilp/cbc_solver.hpp"
#include "ilp/folding_program.hpp"

namespace hao::ilp {
namespace {

constexpr double kTol = 1e-6;

bool holds(const SlotCondition& c, const std::vector<int>& choice) {
  return std::find(c.choices.begin(), c.choices.end(), choice[static_cast<std::size_t>(c.slot)]) !=
         c.choices.end();
}

void check_condition(const SelectionProblem& p, const SlotCondition& c, const std::string& where) {
  if (c.slot < 0 || c.slot >= static_cast<int>(p.slot_sizes.size()))
    throw core::InputError("network selection: " + where + " names slot " + std::to_string(c.slot) +
                           " of " + std::to_string(p.slot_sizes.size()));
  for (int k : c.choices)
    if (k < 0 || k >= p.slot_sizes[static_cast<std::size_t>(c.slot)])
      throw core::InputError("network selection: " + where + " names choice " + std::to_string(k) +
                             " of slot " + std::to_string(c.slot) + ", which has " +
                             std::to_string(p.slot_sizes[static_cast<std::size_t>(c.slot)]));
}

void check_problem(const SelectionProblem& p) {
  for (int n : p.slot_sizes)
    if (n < 1) throw core::InputError("network selection: a slot without choices");
  if (!p.gain.empty() && p.gain.size() != p.slot_sizes.size())
    throw core::InputError("network selection: gains for " + std::to_string(p.gain.size()) +
                           " slots, expected " + std::to_string(p.slot_sizes.size()));
  for (std::size_t s = 0; s < p.gain.size(); ++s)
    if (p.gain[s].size() != static_cast<std::size_t>(p.slot_sizes[s]))
      throw core::InputError("network selection: slot " + std::to_string(s) + " has " +
                             std::to_string(p.gain[s].size()) + " gains for " +
                             std::to_string(p.slot_sizes[s]) + " choices");
  for (const auto& part : p.parts)
    for (const auto& c : part.when) check_condition(p, c, "part '" + part.name + "'");
  for (const auto& [a, b] : p.implications) {
    check_condition(p, a, "an implication");
    check_condition(p, b, "an implication");
  }
}

bool dominates(const hw::Resources& a, const hw::Resources& b) {
  return a.dsp <= b.dsp && a.lut <= b.lut && a.bram36 <= b.bram36 && a.uram <= b.uram;
}

// The configurations of a layer within `target` cycles that fit alone, less those another
// one is no cheaper than in every resource (the first of equals kept).
std::vector<int> usable_candidates(const std::vector<hw::Candidate>& layer, std::int64_t target,
                                   const hw::Resources& capacity) {
  std::vector<int> in;
  for (std::size_t k = 0; k < layer.size(); ++k)
    if (layer[k].cost.cycles <= target && fits(layer[k].cost.res, capacity))
      in.push_back(static_cast<int>(k));
  std::vector<int> out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const hw::Resources& r = layer[static_cast<std::size_t>(in[i])].cost.res;
    bool dominated = false;
    for (std::size_t j = 0; j < in.size() && !dominated; ++j) {
      if (i == j) continue;
      const hw::Resources& o = layer[static_cast<std::size_t>(in[j])].cost.res;
      dominated = dominates(o, r) && (!dominates(r, o) || j < i);
    }
    if (!dominated) out.push_back(in[i]);
  }
  return out;
}

void fill(const SelectionProblem& p, SelectionSolution& s) {
  s.gain = selection_gain(p, s.choice);
  s.ii_cycles = p.min_ii_cycles;
  s.used = {};
  for (std::size_t q = 0; q < p.parts.size(); ++q)
    for (std::size_t l = 0; l < s.configs[q].size(); ++l) {
      const int k = s.configs[q][l];
      if (k < 0) continue;
      const hw::LayerCost& c = p.parts[q].layers[l][static_cast<std::size_t>(k)].cost;
      s.ii_cycles = std::max(s.ii_cycles, c.cycles);
      s.used += c.res;
    }
}

}  // namespace

bool part_present(const SelectionPart& part, const std::vector<int>& choice) {
  for (const auto& c : part.when)
    if (!holds(c, choice)) return false;
  return true;
}

bool selection_valid(const SelectionProblem& p, const std::vector<int>& choice) {
  if (choice.size() != p.slot_sizes.size()) return false;
  for (std::size_t s = 0; s < choice.size(); ++s)
    if (choice[s] < 0 || choice[s] >= p.slot_sizes[s]) return false;
  for (const auto& [a, b] : p.implications)
    if (holds(a, choice) && !holds(b, choice)) return false;
  return true;
}

double selection_gain(const SelectionProblem& p, const std::vector<int>& choice) {
  double g = 0;
  for (std::size_t s = 0; s < p.gain.size(); ++s)
    g += p.gain[s][static_cast<std::size_t>(choice[s])];
  for (const auto& part : p.parts)
    if (part_present(part, choice)) g += part.gain;
  return g;
}

std::pair<std::int64_t, std::int64_t> selection_ii_range(const SelectionProblem& p) {
  std::int64_t lower = p.min_ii_cycles, upper = p.min_ii_cycles;
  for (const auto& part : p.parts)
    for (const auto& layer : part.layers) {
      std::int64_t fastest = std::numeric_limits<std::int64_t>::max();
      for (const auto& c : layer) {
        upper = std::max(upper, c.cost.cycles);
        if (fits(c.cost.res, p.capacity)) fastest = std::min(fastest, c.cost.cycles);
      }
      if (part.when.empty() && fastest != std::numeric_limits<std::int64_t>::max())
        lower = std::max(lower, fastest);
    }
  return {lower, std::max(lower, upper)};
}

SelectionSolution solve_selection(const SelectionProblem& p, std::int64_t target,
                                  const SolveOptions& options) {
  check_problem(p);
  SelectionSolution s;
  if (target < p.min_ii_cycles) {
    s.status = SolveStatus::kInfeasible;
    s.message = "the target II is below the input transfer (" + std::to_string(p.min_ii_cycles) +
                " cycles)";
    return s;
  }
  Model m;
  m.set_maximize(true);
  std::vector<std::vector<int>> y(p.slot_sizes.size());
  for (std::size_t sl = 0; sl < p.slot_sizes.size(); ++sl) {
    std::vector<std::pair<int, double>> one;
    for (int c = 0; c < p.slot_sizes[sl]; ++c) {
      const double g = p.gain.empty() ? 0.0 : p.gain[sl][static_cast<std::size_t>(c)];
      y[sl].push_back(m.add_var(0, 1, g, VarType::kBinary));
      one.push_back({y[sl].back(), 1.0});
    }
    m.add_row(std::move(one), 1, 1);
  }
  auto indicator = [&](const SlotCondition& c) {
    std::vector<std::pair<int, double>> t;
    for (int k : c.choices) t.push_back({y[static_cast<std::size_t>(c.slot)][k], 1.0});
    return t;
  };
  for (const auto& [a, b] : p.implications) {
    auto t = indicator(a);
    for (auto [v, coef] : indicator(b)) t.push_back({v, -coef});
    m.add_row(std::move(t), -kInf, 0);
  }
  std::vector<std::pair<int, double>> dsp, lut, bram, uram;
  std::vector<std::vector<std::vector<int>>> x(p.parts.size());  // x[q][l][k], -1 when left out
  for (std::size_t q = 0; q < p.parts.size(); ++q) {
    const SelectionPart& part = p.parts[q];
    std::vector<std::vector<int>> usable;
    bool configurable = true;
    for (const auto& layer : part.layers) {
      usable.push_back(usable_candidates(layer, target, p.capacity));
      configurable = configurable && !usable.back().empty();
    }
    if (part.when.empty() && !configurable) {
      s.status = SolveStatus::kInfeasible;
      s.message = "part '" + part.name + "' has a layer with no configuration within " +
                  std::to_string(target) + " cycles that fits the device";
      return s;
    }
    // Presence: a constant 1 for an unconditional part, else a binary tied to the conditions.
    int present = -1;
    if (!part.when.empty()) {
      present = m.add_var(0, configurable ? 1 : 0, part.gain, VarType::kBinary);
      std::vector<std::pair<int, double>> lower{{present, -1.0}};
      for (const auto& c : part.when) {
        auto t = indicator(c);
        lower.insert(lower.end(), t.begin(), t.end());
        t.push_back({present, -1.0});
        m.add_row(std::move(t), 0, kInf);  // p <= condition
      }
      m.add_row(std::move(lower), -kInf, static_cast<double>(part.when.size()) - 1);
    }
    x[q].assign(part.layers.size(), {});
    if (!configurable) continue;
    for (std::size_t l = 0; l < part.layers.size(); ++l) {
      x[q][l].assign(part.layers[l].size(), -1);
      std::vector<std::pair<int, double>> one;
      for (int k : usable[l]) {
        const hw::Resources& r = part.layers[l][static_cast<std::size_t>(k)].cost.res;
        const int v = m.add_var(0, 1, 0, VarType::kBinary);
        x[q][l][static_cast<std::size_t>(k)] = v;
        one.push_back({v, 1.0});
        if (r.dsp > 0) dsp.push_back({v, r.dsp});
        if (r.lut > 0) lut.push_back({v, r.lut});
        if (r.bram36 > 0) bram.push_back({v, r.bram36});
        if (r.uram > 0) uram.push_back({v, r.uram});
      }
      if (present < 0) {
        m.add_row(std::move(one), 1, 1);
      } else {
        one.push_back({present, -1.0});
        m.add_row(std::move(one), 0, 0);
      }
    }
  }
  m.add_row(std::move(dsp), -kInf, p.capacity.dsp, "dsp");
  m.add_row(std::move(lut), -kInf, p.capacity.lut, "lut");
  m.add_row(std::move(bram), -kInf, p.capacity.bram36, "bram36");
  m.add_row(std::move(uram), -kInf, p.capacity.uram, "uram");

  const SolveResult r = solve_with_cbc(m, options);
  s.status = r.status;
  s.best_bound = r.best_bound;
  s.gap = r.gap;
  s.seconds = r.seconds;
  s.nodes = r.nodes;
  s.message = r.message;
  s.variables = static_cast<std::size_t>(m.num_vars());
  if (!r.has_solution()) return s;
  s.choice = chosen_options(y, r.values);
  s.configs.resize(p.parts.size());
  for (std::size_t q = 0; q < p.parts.size(); ++q) {
    const bool present = part_present(p.parts[q], s.choice);
    for (const auto& vars : x[q]) {
      int k = -1;
      if (present)
        for (std::size_t i = 0; i < vars.size(); ++i)
          if (vars[i] >= 0 && r.values[static_cast<std::size_t>(vars[i])] > 0.5)
            k = static_cast<int>(i);
      s.configs[q].push_back(k);
    }
  }
  fill(p, s);
  return s;
}

SelectionSolution brute_force_selection(const SelectionProblem& p, std::int64_t target) {
  check_problem(p);
  const auto start = std::chrono::steady_clock::now();
  SelectionSolution best;
  best.status = SolveStatus::kInfeasible;
  if (target < p.min_ii_cycles) return best;
  std::vector<std::vector<std::vector<int>>> usable(p.parts.size());
  for (std::size_t q = 0; q < p.parts.size(); ++q)
    for (const auto& layer : p.parts[q].layers)
      usable[q].push_back(usable_candidates(layer, target, p.capacity));

  std::vector<int> choice(p.slot_sizes.size(), 0);
  double best_gain = -std::numeric_limits<double>::infinity();
  for (;;) {
    const double g = selection_valid(p, choice) ? selection_gain(p, choice)
                                                : -std::numeric_limits<double>::infinity();
    if (g > best_gain + kTol) {
      // Depth-first over the present layers' configurations, pruned by the capacity.
      std::vector<std::pair<std::size_t, std::size_t>> layers;  // (part, layer)
      bool possible = true;
      for (std::size_t q = 0; q < p.parts.size(); ++q)
        if (part_present(p.parts[q], choice))
          for (std::size_t l = 0; l < p.parts[q].layers.size(); ++l) {
            layers.push_back({q, l});
            possible = possible && !usable[q][l].empty();
          }
      std::vector<int> pick(layers.size(), -1);
      std::function<bool(std::size_t, hw::Resources)> search = [&](std::size_t i,
                                                                   hw::Resources used) {
        if (i == layers.size()) return true;
        const auto [q, l] = layers[i];
        for (int k : usable[q][l]) {
          hw::Resources next = used;
          next += p.parts[q].layers[l][static_cast<std::size_t>(k)].cost.res;
          if (!fits(next, p.capacity)) continue;
          pick[i] = k;
          if (search(i + 1, next)) return true;
        }
        return false;
      };
      if (possible && search(0, {})) {
        best_gain = g;
        best.status = SolveStatus::kOptimal;
        best.choice = choice;
        best.configs.assign(p.parts.size(), {});
        for (std::size_t q = 0; q < p.parts.size(); ++q)
          best.configs[q].assign(p.parts[q].layers.size(), -1);
        for (std::size_t i = 0; i < layers.size(); ++i)
          best.configs[layers[i].first][layers[i].second] = pick[i];
      }
    }
    std::size_t s = 0;
    while (s < choice.size() && ++choice[s] == p.slot_sizes[s]) choice[s++] = 0;
    if (s == choice.size()) break;
  }
  if (best.has_solution()) fill(p, best);
  best.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return best;
}

}  // namespace hao::ilp
