#include "ilp/bit_program.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>

#include "core/error.hpp"
#include "ilp/cbc_solver.hpp"
#include "ilp/folding_program.hpp"

namespace hao::ilp {

namespace {

constexpr double kTol = 1e-6;

void check_problem(const BitProblem& p) {
  const std::size_t n = p.options.size();
  if (p.items.size() != n)
    throw core::InputError("bit allocation: " + std::to_string(p.items.size()) + " names for " +
                           std::to_string(n) + " items");
  if (p.budget_names.size() != p.budgets.size())
    throw core::InputError("bit allocation: budget names and budgets differ in number");
  for (std::size_t i = 0; i < n; ++i)
    for (const auto& o : p.options[i]) {
      if (o.use.size() != p.budgets.size())
        throw core::InputError("bit allocation: an option of '" + p.items[i] + "' has " +
                               std::to_string(o.use.size()) + " budget uses, expected " +
                               std::to_string(p.budgets.size()));
      if (o.bits < 0 || o.bits >= static_cast<int>(p.bit_names.size()))
        throw core::InputError("bit allocation: an option of '" + p.items[i] +
                               "' has no bit-width name");
    }
  for (std::size_t i = 0; i < n; ++i)
    for (const auto& o : p.options[i])
      for (const auto& [item, bits] : o.requires_bits)
        if (item < 0 || item >= static_cast<int>(n) || bits < 0 ||
            bits >= static_cast<int>(p.bit_names.size()))
          throw core::InputError("bit allocation: an option of '" + p.items[i] +
                                 "' requires bits of an unknown item");
  for (const auto& tie : p.ties)
    for (int i : tie)
      if (i < 0 || i >= static_cast<int>(n))
        throw core::InputError("bit allocation: a tie names item " + std::to_string(i) + " of " +
                               std::to_string(n));
  for (const auto& [e, a] : p.links)
    if (e < 0 || a < 0 || e >= static_cast<int>(n) || a >= static_cast<int>(n))
      throw core::InputError("bit allocation: a link names an item out of " + std::to_string(n));
}

double lean_weight(double capacity) { return capacity > 0 ? 1.0 / capacity : 0.0; }

double lean_objective(const BitProblem& p, const hw::Resources& r) {
  if (!p.limit_resources) return 0;
  return r.dsp * lean_weight(p.capacity.dsp) + r.lut * lean_weight(p.capacity.lut) +
         r.bram36 * lean_weight(p.capacity.bram36) + r.uram * lean_weight(p.capacity.uram);
}

bool option_alone_fits(const BitProblem& p, const BitOption& o) {
  if (p.limit_resources && !fits(o.res, p.capacity)) return false;
  for (std::size_t k = 0; k < p.budgets.size(); ++k)
    if (o.use[k] > p.budgets[k] + kTol * std::max(1.0, std::abs(p.budgets[k]))) return false;
  return true;
}

struct BitModel {
  Model model;
  std::vector<std::vector<int>> var;  // var[i][o], -1 when the option cannot be chosen
};

// Builds the assignment, tie, capacity and budget rows. With `omega_cap` >= 0 the objective is
// the lean resource use under sum Omega <= omega_cap; otherwise the (scaled) summed Omega.
// Returns false, naming the item in `why`, when an item has no option left.
bool build(const BitProblem& p, double omega_scale, double omega_cap, BitModel& m,
           std::string& why) {
  const bool lean = omega_cap >= 0;
  m.var.assign(p.options.size(), {});
  std::vector<std::pair<int, double>> dsp, lut, bram, uram, omega_row;
  std::vector<std::vector<std::pair<int, double>>> budget(p.budgets.size());
  for (std::size_t i = 0; i < p.options.size(); ++i) {
    std::vector<std::pair<int, double>> one;
    for (const auto& o : p.options[i]) {
      if (!option_alone_fits(p, o)) {
        m.var[i].push_back(-1);
        continue;
      }
      const double obj = lean ? lean_objective(p, o.res) : o.omega * omega_scale;
      const int v = m.model.add_var(0, 1, obj, VarType::kBinary);
      m.var[i].push_back(v);
      one.push_back({v, 1.0});
      if (lean && o.omega != 0) omega_row.push_back({v, o.omega * omega_scale});
      if (o.res.dsp > 0) dsp.push_back({v, o.res.dsp});
      if (o.res.lut > 0) lut.push_back({v, o.res.lut});
      if (o.res.bram36 > 0) bram.push_back({v, o.res.bram36});
      if (o.res.uram > 0) uram.push_back({v, o.res.uram});
      for (std::size_t k = 0; k < p.budgets.size(); ++k)
        if (o.use[k] != 0) budget[k].push_back({v, o.use[k]});
    }
    if (one.empty()) {
      why = "layer '" + p.items[i] + "' has no option that meets the target on its own";
      return false;
    }
    m.model.add_row(std::move(one), 1, 1, "assign_" + std::to_string(i));
  }
  for (const auto& tie : p.ties)
    for (std::size_t t = 1; t < tie.size(); ++t)
      for (std::size_t b = 0; b < p.bit_names.size(); ++b) {
        std::vector<std::pair<int, double>> terms;
        const auto add = [&](int item, double sign) {
          const auto& opts = p.options[static_cast<std::size_t>(item)];
          for (std::size_t o = 0; o < opts.size(); ++o) {
            const int v = m.var[static_cast<std::size_t>(item)][o];
            if (v >= 0 && opts[o].bits == static_cast<int>(b)) terms.push_back({v, sign});
          }
        };
        add(tie[0], 1.0);
        add(tie[t], -1.0);
        if (!terms.empty()) m.model.add_row(std::move(terms), 0, 0, "tie");
      }
  // Linked precisions: per (item, required item, bits), the options needing it take no more
  // than the required item's options at those bits.
  for (std::size_t i = 0; i < p.options.size(); ++i) {
    std::map<std::pair<int, int>, std::vector<std::pair<int, double>>> links;
    for (std::size_t o = 0; o < p.options[i].size(); ++o)
      if (m.var[i][o] >= 0)
        for (const auto& need : p.options[i][o].requires_bits)
          links[need].push_back({m.var[i][o], 1.0});
    for (auto& [need, terms] : links) {
      const auto j = static_cast<std::size_t>(need.first);
      for (std::size_t o = 0; o < p.options[j].size(); ++o)
        if (m.var[j][o] >= 0 && p.options[j][o].bits == need.second)
          terms.push_back({m.var[j][o], -1.0});
      m.model.add_row(std::move(terms), -kInf, 0, "link");
    }
  }
  // Linked thresholds: split(e) - split(a) = 0.
  for (const auto& [e, a] : p.links) {
    std::vector<std::pair<int, double>> terms;
    const auto add = [&](int item, double sign) {
      const auto i = static_cast<std::size_t>(item);
      for (std::size_t o = 0; o < p.options[i].size(); ++o)
        if (m.var[i][o] >= 0 && p.options[i][o].split) terms.push_back({m.var[i][o], sign});
    };
    add(e, 1.0);
    add(a, -1.0);
    if (!terms.empty()) m.model.add_row(std::move(terms), 0, 0, "split_link");
  }
  if (p.limit_resources) {
    m.model.add_row(std::move(dsp), -kInf, p.capacity.dsp, "dsp");
    m.model.add_row(std::move(lut), -kInf, p.capacity.lut, "lut");
    m.model.add_row(std::move(bram), -kInf, p.capacity.bram36, "bram36");
    m.model.add_row(std::move(uram), -kInf, p.capacity.uram, "uram");
  }
  for (std::size_t k = 0; k < p.budgets.size(); ++k)
    m.model.add_row(std::move(budget[k]), -kInf, p.budgets[k], p.budget_names[k]);
  if (lean) m.model.add_row(std::move(omega_row), -kInf, omega_cap, "omega");
  return true;
}

}  // namespace

void fill_bit_solution(const BitProblem& p, BitSolution& s) {
  s.omega = 0;
  s.used = {};
  s.budget_use.assign(p.budgets.size(), 0.0);
  for (std::size_t i = 0; i < s.choice.size(); ++i) {
    const BitOption& o = p.options[i][static_cast<std::size_t>(s.choice[i])];
    s.omega += o.omega;
    s.used += o.res;
    for (std::size_t k = 0; k < p.budgets.size(); ++k) s.budget_use[k] += o.use[k];
  }
}

bool bit_choice_feasible(const BitProblem& p, const std::vector<int>& choice) {
  BitSolution s;
  s.choice = choice;
  fill_bit_solution(p, s);
  if (p.limit_resources && !fits(s.used, p.capacity)) return false;
  for (std::size_t k = 0; k < p.budgets.size(); ++k)
    if (s.budget_use[k] > p.budgets[k] + kTol * std::max(1.0, std::abs(p.budgets[k]))) return false;
  const auto bits = [&](int item) {
    const auto i = static_cast<std::size_t>(item);
    return p.options[i][static_cast<std::size_t>(choice[i])].bits;
  };
  for (const auto& tie : p.ties)
    for (int item : tie)
      if (bits(item) != bits(tie[0])) return false;
  for (std::size_t i = 0; i < choice.size(); ++i)
    for (const auto& [item, b] : p.options[i][static_cast<std::size_t>(choice[i])].requires_bits)
      if (bits(item) != b) return false;
  const auto split = [&](int item) {
    const auto i = static_cast<std::size_t>(item);
    return p.options[i][static_cast<std::size_t>(choice[i])].split;
  };
  for (const auto& [e, a] : p.links)
    if (split(e) != split(a)) return false;
  return true;
}

BitSolution solve_bits(const BitProblem& p, const SolveOptions& options) {
  check_problem(p);
  BitSolution s;
  double largest = 0;
  for (const auto& item : p.options)
    for (const auto& o : item) largest = std::max(largest, std::abs(o.omega));
  // Sensitivities are often 1e-6..1e-2: scale them so that CBC's absolute tolerances are
  // small against the objective.
  const double scale = largest > 0 ? 1.0 / largest : 1.0;
  BitModel m;
  std::string why;
  if (!build(p, scale, -1, m, why)) {
    s.stats.status = SolveStatus::kInfeasible;
    s.stats.message = why;
    return s;
  }
  const SolveResult r = solve_with_cbc(m.model, options);
  s.stats = r.stats;
  if (!r.has_solution()) return s;
  s.choice = chosen_options(m.var, r.values);
  fill_bit_solution(p, s);
  s.stats.best_bound = r.stats.best_bound / scale;
  if (!p.limit_resources) return s;

  // Second pass: the leanest design whose summed Omega is the optimum's (within a hair).
  SolveOptions second = options;
  second.time_limit_s = std::max(0.1, options.time_limit_s - r.stats.seconds);
  second.relative_gap = options.lean_relative_gap;
  second.max_nodes = options.lean_max_nodes;
  second.start.clear();
  BitModel lean;
  const double cap = s.omega * scale * (1 + 1e-9) + 1e-12;
  if (!build(p, scale, cap, lean, why)) return s;
  second.start.assign(static_cast<std::size_t>(lean.model.num_vars()), 0.0);
  for (std::size_t i = 0; i < s.choice.size(); ++i)
    second.start[static_cast<std::size_t>(lean.var[i][static_cast<std::size_t>(s.choice[i])])] =
        1.0;
  const SolveResult l = solve_with_cbc(lean.model, second);
  s.stats.add_effort(l.stats);
  if (l.has_solution()) {
    BitSolution t = s;
    t.choice = chosen_options(lean.var, l.values);
    fill_bit_solution(p, t);
    if (bit_choice_feasible(p, t.choice) && t.omega <= s.omega * (1 + 1e-9) + 1e-15 &&
        lean_objective(p, t.used) <= lean_objective(p, s.used)) {
      s.choice = t.choice;
      fill_bit_solution(p, s);
    }
  }
  return s;
}

BitSolution brute_force_bits(const BitProblem& p) {
  check_problem(p);
  const auto start = std::chrono::steady_clock::now();
  BitSolution best;
  best.stats.status = SolveStatus::kInfeasible;
  const std::size_t n = p.options.size();
  double combos = 1;
  for (const auto& item : p.options) combos *= static_cast<double>(item.size());
  HAO_CHECK(combos <= 5e7, "brute force over more than 5e7 combinations");
  std::vector<int> choice(n, 0);
  bool done = n == 0 || combos == 0;
  double best_lean = 0;
  while (!done) {
    if (bit_choice_feasible(p, choice)) {
      BitSolution s;
      s.choice = choice;
      fill_bit_solution(p, s);
      const double lean = lean_objective(p, s.used);
      if (!best.has_solution() || s.omega < best.omega - 1e-12 * std::max(1.0, best.omega) ||
          (s.omega <= best.omega + 1e-12 * std::max(1.0, best.omega) && lean < best_lean)) {
        best = s;
        best_lean = lean;
      }
    }
    std::size_t i = 0;
    while (i < n && ++choice[i] == static_cast<int>(p.options[i].size())) choice[i++] = 0;
    done = i == n;
  }
  if (best.has_solution())
    best.stats.status = SolveStatus::kOptimal, best.stats.best_bound = best.omega;
  best.stats.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return best;
}

std::string bits_name(const ir::BitWidths& b) {
  return "w" + std::to_string(b.weight_bits) + "a" + std::to_string(b.act_bits);
}

double weight_bytes(const ir::Layer& l, const ir::BitWidths& b) {
  return static_cast<double>(l.weights()) * b.weight_bits / 8.0;
}

double bit_operations(const ir::Layer& l, const ir::BitWidths& b) {
  return static_cast<double>(l.macs()) * b.weight_bits * b.act_bits;
}

ir::Network with_bits(const ir::Network& net, const std::vector<ir::BitWidths>& choices,
                      const std::vector<int>& bits) {
  ir::Network out = net;
  for (std::size_t l = 0; l < bits.size() && l < out.layers.size(); ++l)
    if (bits[l] >= 0) {
      out.layers[l].weight_bits = choices[static_cast<std::size_t>(bits[l])].weight_bits;
      out.layers[l].act_bits = choices[static_cast<std::size_t>(bits[l])].act_bits;
    }
  ir::derive_elementwise_bits(out);
  return out;
}

ir::Network at_narrowest(const ir::Network& net, const QuantizeSpec& spec) {
  std::size_t narrowest = 0;
  for (std::size_t c = 1; c < spec.choices.size(); ++c)
    if (spec.choices[c].weight_bits + spec.choices[c].act_bits <
        spec.choices[narrowest].weight_bits + spec.choices[narrowest].act_bits)
      narrowest = c;
  std::vector<int> bits(net.layers.size(), -1);
  for (std::size_t l = 0; l < net.layers.size(); ++l)
    if (choosable(spec, l)) bits[l] = static_cast<int>(narrowest);
  return with_bits(net, spec.choices, bits);
}

std::vector<std::size_t> fed_layers(const ir::Network& net, std::size_t layer) {
  std::vector<std::size_t> out;
  std::vector<bool> seen(net.layers.size(), false);
  std::vector<std::size_t> todo{layer};
  while (!todo.empty()) {
    const std::size_t at = todo.back();
    todo.pop_back();
    for (int r : net.consumers(static_cast<int>(at))) {
      const auto ri = static_cast<std::size_t>(r);
      if (seen[ri]) continue;
      seen[ri] = true;
      if (net.layers[ri].has_weights())
        out.push_back(ri);
      else
        todo.push_back(ri);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool choosable(const QuantizeSpec& spec, std::size_t layer) {
  return layer < spec.omega.size() && !spec.omega[layer].empty();
}

void check_quantize_spec(const ir::Network& net, const QuantizeSpec& spec) {
  if (spec.choices.empty()) throw core::InputError("no bit-width choices");
  for (std::size_t l = 0; l < spec.omega.size(); ++l)
    if (!spec.omega[l].empty() && spec.omega[l].size() != spec.choices.size())
      throw core::InputError("layer '" + net.layers[l].name +
                             "': " + std::to_string(spec.omega[l].size()) + " sensitivities for " +
                             std::to_string(spec.choices.size()) + " bit choices");
  for (const auto& tie : spec.ties)
    for (int l : tie) {
      if (l < 0 || l >= static_cast<int>(net.layers.size()))
        throw core::InputError("a tie names layer " + std::to_string(l) + ", out of range");
      if (!choosable(spec, static_cast<std::size_t>(l)))
        throw core::InputError("a tie names layer '" +
                               net.layers[static_cast<std::size_t>(l)].name +
                               "', whose bits are not chosen (not weighted, or kept fixed)");
    }
}

// Every combination of choices for `layers` that keeps tied layers equal.
std::vector<std::vector<int>> tie_consistent_contexts(const std::vector<std::size_t>& layers,
                                                      std::size_t choices,
                                                      const std::vector<std::vector<int>>& ties) {
  std::vector<std::vector<int>> out;
  std::vector<int> ctx(layers.size(), 0);
  while (true) {
    bool consistent = true;
    for (const auto& tie : ties)
      for (std::size_t a = 0; a < layers.size() && consistent; ++a)
        for (std::size_t b = a + 1; b < layers.size() && consistent; ++b) {
          const auto in = [&](std::size_t l) {
            return std::find(tie.begin(), tie.end(), static_cast<int>(l)) != tie.end();
          };
          if (in(layers[a]) && in(layers[b]) && ctx[a] != ctx[b]) consistent = false;
        }
    if (consistent) out.push_back(ctx);
    std::size_t i = 0;
    while (i < ctx.size() && static_cast<std::size_t>(++ctx[i]) == choices) ctx[i++] = 0;
    if (i == ctx.size()) break;
  }
  return out;
}

}  // namespace hao::ilp
