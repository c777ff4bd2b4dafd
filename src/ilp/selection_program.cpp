#include "ilp/selection_program.hpp"

#include <algorithm>
#include <chrono>
#include <functional>
#include <limits>
#include <map>

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
  for (const auto& g : p.groups) {
    if (g.when.size() > 1)
      throw core::InputError("network selection: a part group with more than one condition");
    for (const auto& c : g.when) check_condition(p, c, "a part group");
    for (std::size_t q : g.parts)
      if (q >= p.parts.size())
        throw core::InputError("network selection: a part group names part " + std::to_string(q) +
                               " of " + std::to_string(p.parts.size()));
  }
}

// The configurations of a layer within `target` cycles that no other one beats on every
// resource (cheapest_within) and that fit alone. (One that does not fit beats only others that
// do not either, so dropping those after the dominance test is the same as before it.)
std::vector<int> usable_candidates(const std::vector<hw::Candidate>& layer, std::int64_t target,
                                   const hw::Resources& capacity) {
  std::vector<int> out;
  for (int k : cheapest_within(layer, target))
    if (fits(layer[static_cast<std::size_t>(k)].cost.res, capacity)) out.push_back(k);
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

FoldingProblem selection_folding(const SelectionProblem& p, const std::vector<int>& choice) {
  FoldingProblem f;
  f.capacity = p.capacity;
  f.min_ii_cycles = p.min_ii_cycles;
  for (const auto& part : p.parts)
    if (part_present(part, choice))
      for (const auto& layer : part.layers) f.candidates.push_back(layer);
  return f;
}

SelectionSolution selection_design(const SelectionProblem& p, const std::vector<int>& choice,
                                   std::int64_t target, const SolveOptions& options) {
  check_problem(p);
  SelectionSolution s;
  if (!selection_valid(p, choice)) {
    s.stats.status = SolveStatus::kInfeasible;
    s.stats.message = "the choice breaks an implication of the space";
    return s;
  }
  const FoldingSolution f = minimize_resources(selection_folding(p, choice), target, options);
  s.stats = f.stats;
  if (!f.has_solution()) return s;
  s.choice = choice;
  s.configs.assign(p.parts.size(), {});
  std::size_t next = 0;  // selection_folding's layer order: present parts, then their layers
  for (std::size_t q = 0; q < p.parts.size(); ++q) {
    const bool present = part_present(p.parts[q], choice);
    for (std::size_t l = 0; l < p.parts[q].layers.size(); ++l)
      s.configs[q].push_back(present ? f.choice[next++] : -1);
  }
  fill(p, s);
  return s;
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
                                  const SolveOptions& options, const SelectionSolution* start) {
  check_problem(p);
  SelectionSolution s;
  if (target < p.min_ii_cycles) {
    s.stats.status = SolveStatus::kInfeasible;
    s.stats.message = "the target II is below the input transfer (" +
                      std::to_string(p.min_ii_cycles) + " cycles)";
    return s;
  }
  // Posed as minimizing the negated gain: CBC 2.10 mishandles a MIP start on a maximization
  // (it returned the start as optimal; the differential test with starts caught it).
  Model m;
  std::vector<std::vector<int>> y(p.slot_sizes.size());
  for (std::size_t sl = 0; sl < p.slot_sizes.size(); ++sl) {
    std::vector<std::pair<int, double>> one;
    for (int c = 0; c < p.slot_sizes[sl]; ++c) {
      const double g = p.gain.empty() ? 0.0 : p.gain[sl][static_cast<std::size_t>(c)];
      y[sl].push_back(m.add_var(0, 1, -g, VarType::kBinary));
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
  std::vector<int> present_var(p.parts.size(), -1);  // -1: always present
  std::vector<std::vector<std::vector<int>>> usable(p.parts.size());
  std::vector<bool> configurable(p.parts.size(), true);
  for (std::size_t q = 0; q < p.parts.size(); ++q) {
    const SelectionPart& part = p.parts[q];
    for (const auto& layer : part.layers) {
      usable[q].push_back(usable_candidates(layer, target, p.capacity));
      configurable[q] = configurable[q] && !usable[q].back().empty();
    }
    if (part.when.empty() && !configurable[q]) {
      s.stats.status = SolveStatus::kInfeasible;
      s.stats.message = "part '" + part.name + "' has a layer with no configuration within " +
                        std::to_string(target) + " cycles that fits the device";
      return s;
    }
    // Presence: a constant 1 for an unconditional part, else a binary tied to the conditions.
    if (part.when.empty()) continue;
    const int present = m.add_var(0, configurable[q] ? 1 : 0, -part.gain, VarType::kBinary);
    std::vector<std::pair<int, double>> lower{{present, -1.0}};
    for (const auto& c : part.when) {
      auto t = indicator(c);
      lower.insert(lower.end(), t.begin(), t.end());
      t.push_back({present, -1.0});
      m.add_row(std::move(t), 0, kInf);  // p <= condition
    }
    m.add_row(std::move(lower), -kInf, static_cast<double>(part.when.size()) - 1);
    present_var[q] = present;
  }
  std::vector<std::vector<std::vector<int>>> x(p.parts.size());  // x[q][l][k], -1 when left out
  for (std::size_t r = 0; r < p.parts.size(); ++r) {
    const SelectionPart& part = p.parts[r];
    x[r].assign(part.layers.size(), {});
    if (!configurable[r]) continue;
    for (std::size_t l = 0; l < part.layers.size(); ++l) {
      x[r][l].assign(part.layers[l].size(), -1);
      std::vector<std::pair<int, double>> one;
      for (int k : usable[r][l]) {
        const hw::Resources& res = part.layers[l][static_cast<std::size_t>(k)].cost.res;
        const int v = m.add_var(0, 1, 0, VarType::kBinary);
        x[r][l][static_cast<std::size_t>(k)] = v;
        one.push_back({v, 1.0});
        if (res.dsp > 0) dsp.push_back({v, res.dsp});
        if (res.lut > 0) lut.push_back({v, res.lut});
        if (res.bram36 > 0) bram.push_back({v, res.bram36});
        if (res.uram > 0) uram.push_back({v, res.uram});
      }
      if (present_var[r] < 0) {
        m.add_row(std::move(one), 1, 1);
      } else {
        one.push_back({present_var[r], -1.0});
        m.add_row(std::move(one), 0, 0);
      }
    }
  }
  for (const auto& group : p.groups) {
    std::vector<std::pair<int, double>> sum;
    double constant = 0;
    for (std::size_t q : group.parts) {
      if (present_var[q] < 0) {
        constant += 1;
      } else {
        sum.push_back({present_var[q], 1.0});
      }
    }
    std::vector<std::pair<int, double>> when;
    if (!group.when.empty()) when = indicator(group.when[0]);
    if (group.when.empty()) {
      if (!sum.empty()) m.add_row(std::move(sum), 1 - constant, 1 - constant);
    } else {
      for (auto [v, coef] : when) sum.push_back({v, -coef});
      m.add_row(std::move(sum), -constant, -constant);
    }
    // A slot every part of the group fixes to one choice: the present part carries the
    // slot's choice, so per choice c the parts requiring it sum to y[s,c] (times [when]).
    std::map<int, std::vector<std::vector<std::pair<int, double>>>> by_slot;
    for (std::size_t i = 0; i < group.parts.size(); ++i) {
      const std::size_t q = group.parts[i];
      std::map<int, std::vector<std::vector<std::pair<int, double>>>> next;
      for (const auto& c : p.parts[q].when) {
        if (c.choices.size() != 1 || present_var[q] < 0) continue;
        if (i > 0 && !by_slot.count(c.slot)) continue;
        auto& rows = i > 0 ? by_slot[c.slot] : next[c.slot];
        rows.resize(static_cast<std::size_t>(p.slot_sizes[static_cast<std::size_t>(c.slot)]));
        rows[static_cast<std::size_t>(c.choices[0])].push_back({present_var[q], 1.0});
        if (i > 0) next[c.slot] = std::move(rows);
      }
      by_slot = std::move(next);
    }
    for (auto& [slot, rows] : by_slot)
      for (std::size_t c = 0; c < rows.size(); ++c) {
        auto t = rows[c];
        t.push_back({y[static_cast<std::size_t>(slot)][c], -1.0});
        if (group.when.empty()) {
          m.add_row(std::move(t), 0, 0);
        } else {
          auto lower = t;
          m.add_row(std::move(t), -kInf, 0);
          for (auto [v, coef] : when) lower.push_back({v, -coef});
          m.add_row(std::move(lower), -1, kInf);
        }
      }
  }
  m.add_row(std::move(dsp), -kInf, p.capacity.dsp, "dsp");
  m.add_row(std::move(lut), -kInf, p.capacity.lut, "lut");
  m.add_row(std::move(bram), -kInf, p.capacity.bram36, "bram36");
  m.add_row(std::move(uram), -kInf, p.capacity.uram, "uram");

  SolveOptions o = options;
  if (start && start->has_solution() && start->ii_cycles <= target &&
      selection_valid(p, start->choice) && start->configs.size() == p.parts.size()) {
    // The start's design, each configuration replaced by a kept one no dearer in any resource
    // (one exists: a configuration within a tighter target is within this one).
    o.start.assign(static_cast<std::size_t>(m.num_vars()), 0.0);
    for (std::size_t sl = 0; sl < y.size(); ++sl)
      o.start[static_cast<std::size_t>(y[sl][static_cast<std::size_t>(start->choice[sl])])] = 1;
    bool complete = true;
    for (std::size_t q = 0; q < p.parts.size(); ++q) {
      if (!part_present(p.parts[q], start->choice)) continue;
      if (present_var[q] >= 0) o.start[static_cast<std::size_t>(present_var[q])] = 1;
      for (std::size_t l = 0; l < x[q].size(); ++l) {
        const int old = l < start->configs[q].size() ? start->configs[q][l] : -1;
        int v = -1;
        for (std::size_t k = 0; k < x[q][l].size() && old >= 0 && v < 0; ++k)
          if (x[q][l][k] >= 0 &&
              cheaper_or_equal(p.parts[q].layers[l][k].cost.res,
                               p.parts[q].layers[l][static_cast<std::size_t>(old)].cost.res))
            v = x[q][l][k];
        if (v < 0)
          complete = false;
        else
          o.start[static_cast<std::size_t>(v)] = 1;
      }
    }
    if (!complete) o.start.clear();
  }
  const SolveResult r = solve_with_cbc(m, o);
  s.stats = r.stats;
  s.stats.best_bound = -r.stats.best_bound;  // the program minimizes the negated gain
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
  best.stats.status = SolveStatus::kInfeasible;
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
        best.stats.status = SolveStatus::kOptimal;
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
  best.stats.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return best;
}

}  // namespace hao::ilp
