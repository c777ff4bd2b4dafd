#include "ilp/engine_program.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <limits>
#include <set>

#include "core/error.hpp"
#include "core/text.hpp"
#include "hw/dataflow.hpp"
#include "ilp/cbc_solver.hpp"

namespace hao::ilp {
namespace {

using hw::BufferBanks;
using hw::EngineConfig;
using hw::TileCost;

constexpr double kNone = std::numeric_limits<double>::infinity();

std::int64_t blocks_for(double bytes) {
  return static_cast<std::int64_t>(std::ceil(bytes / hw::kBram36Bytes - 1e-9));
}

// Everything the program and the enumerations share: the work, the shapes, and per shape the
// non-dominated tilings of every unit and chain.
struct Prepared {
  hw::EngineWork work;
  std::vector<EngineConfig> shapes;  // buffer sizes at the shape's bank minimum
  std::vector<BufferBanks> banks;
  std::vector<hw::Resources> base;                                // DSP, LUT at zero buffer blocks
  std::vector<std::vector<std::vector<TileCost>>> units, chains;  // [shape][unit][candidate]
  std::vector<std::vector<int>> chains_of;                        // per unit: the chains owning it
  hw::Resources cap;
  int wb = 8, ab = 8;
};

EngineConfig with_buffers(EngineConfig c, std::int64_t in, std::int64_t w, std::int64_t out) {
  c.in_bram = in, c.weight_bram = w, c.out_bram = out;
  return c;
}

void add_shape(Prepared& p, const EngineConfig& shape, const ir::Network& net,
               const hw::Device& device, const EngineMapOptions& o) {
  p.shapes.push_back(shape);
  p.banks.push_back(hw::min_buffer_banks(shape, p.wb, p.ab));
  p.base.push_back(hw::engine_resources(with_buffers(shape, 0, 0, 0), device, p.wb, p.ab, o.cost));
  auto& units = p.units.emplace_back();
  for (const auto& u : p.work.units)
    units.push_back(hw::tile_candidates(net, u, shape, device, o.cost));
  auto& chains = p.chains.emplace_back();
  for (const auto& c : p.work.chains)
    chains.push_back(hw::tile_candidates(net, c, shape, device, o.cost));
}

void drop_shape(Prepared& p, std::size_t s) {
  p.shapes.erase(p.shapes.begin() + static_cast<long>(s));
  p.banks.erase(p.banks.begin() + static_cast<long>(s));
  p.base.erase(p.base.begin() + static_cast<long>(s));
  p.units.erase(p.units.begin() + static_cast<long>(s));
  p.chains.erase(p.chains.begin() + static_cast<long>(s));
}

bool fits_resources(const Prepared& p, std::size_t s, std::int64_t blocks,
                    const hw::EngineCostOptions& o) {
  return p.base[s].dsp <= p.cap.dsp && blocks <= static_cast<std::int64_t>(p.cap.bram36) &&
         p.base[s].lut + o.lut_per_buffer_bram * static_cast<double>(blocks) <= p.cap.lut;
}

Prepared prepare(const ir::Network& net, const hw::Device& device, const EngineMapOptions& o) {
  Prepared p;
  p.work = hw::engine_work(net);
  if (!o.fusion) p.work.chains.clear(), p.work.chain_members.clear();
  p.wb = std::max(hw::max_weight_bits(net), o.datapath_weight_bits);
  p.ab = std::max(hw::max_act_bits(net), o.datapath_act_bits);
  p.cap = device.usable();
  p.chains_of.assign(p.work.units.size(), {});
  for (std::size_t c = 0; c < p.work.chain_members.size(); ++c)
    for (int u : p.work.chain_members[c])
      p.chains_of[static_cast<std::size_t>(u)].push_back(static_cast<int>(c));

  std::vector<EngineConfig> shapes = o.shapes;
  if (shapes.empty() && device.engine_pinned) {
    EngineConfig c;
    c.shape = device.engine;
    c.dw_lanes = device.engine.pi;
    shapes.push_back(c);
    const BufferBanks b = hw::min_buffer_banks(c, p.wb, p.ab);
    const hw::Resources r =
        hw::engine_resources(with_buffers(c, b.in, b.weight, b.out), device, p.wb, p.ab, o.cost);
    const auto over = hw::over_budget(r, device);
    if (!over.empty())
      throw core::InputError(device.source + ": engine: the pinned engine (pp " +
                             std::to_string(c.shape.pp) + ", pi " + std::to_string(c.shape.pi) +
                             ", po " + std::to_string(c.shape.po) +
                             ") does not fit: " + core::join(over, "; "));
  }
  if (shapes.empty()) shapes = hw::engine_shape_candidates(device, p.wb, p.ab, o.cost);
  for (const auto& s : shapes) {
    const BufferBanks b = hw::min_buffer_banks(s, p.wb, p.ab);
    add_shape(p, s, net, device, o);
    if (!fits_resources(p, p.shapes.size() - 1, b.in + b.weight + b.out, o.cost))
      drop_shape(p, p.shapes.size() - 1);
  }
  return p;
}

// The best design for one shape and fixed buffer sizes: per unit the fastest tiling that
// fits, per chain likewise, then which chains run fused. `exact` decides the chain choice by
// enumerating disjoint sets (small cases); otherwise chains are taken greedily in order.
struct Fixed {
  double cycles = kNone;
  std::vector<int> unit_choice;   // candidate index, -1 when fused or none fits
  std::vector<int> chain_choice;  // candidate index, -1 when not fused
};

Fixed best_fixed(const Prepared& p, std::size_t s, std::int64_t n_in, std::int64_t n_w,
                 std::int64_t n_out, bool exact) {
  const double cin = static_cast<double>(n_in) * hw::kBram36Bytes;
  const double cw = static_cast<double>(n_w) * hw::kBram36Bytes;
  const double cout = static_cast<double>(n_out) * hw::kBram36Bytes;
  auto first_fit = [&](const std::vector<TileCost>& cands) {
    for (std::size_t k = 0; k < cands.size(); ++k)
      if (cands[k].need_in <= cin && cands[k].need_weight <= cw && cands[k].need_out <= cout)
        return static_cast<int>(k);  // sorted fastest first
    return -1;
  };
  const std::size_t nu = p.work.units.size(), nc = p.work.chains.size();
  Fixed f;
  f.unit_choice.assign(nu, -1);
  f.chain_choice.assign(nc, -1);
  std::vector<double> unit_cost(nu, kNone), chain_cost(nc, kNone);
  for (std::size_t u = 0; u < nu; ++u) {
    f.unit_choice[u] = first_fit(p.units[s][u]);
    if (f.unit_choice[u] >= 0)
      unit_cost[u] = p.units[s][u][static_cast<std::size_t>(f.unit_choice[u])].cycles;
  }
  std::vector<int> fits(nc, -1);
  for (std::size_t c = 0; c < nc; ++c) {
    fits[c] = first_fit(p.chains[s][c]);
    if (fits[c] >= 0) chain_cost[c] = p.chains[s][c][static_cast<std::size_t>(fits[c])].cycles;
  }
  auto saving = [&](std::size_t c) {
    double alone = 0;
    for (int u : p.work.chain_members[c]) alone += unit_cost[static_cast<std::size_t>(u)];
    return alone - chain_cost[c];  // inf - x = inf when a member fits only fused
  };
  std::vector<bool> fused(nc, false);
  if (exact) {
    double best_saving = -1;
    std::vector<bool> used(nu, false), pick(nc, false);
    std::function<void(std::size_t, double)> recurse = [&](std::size_t c, double saved) {
      if (c == nc) {
        if (saved > best_saving) best_saving = saved, fused = pick;
        return;
      }
      recurse(c + 1, saved);
      if (fits[c] < 0) return;
      for (int u : p.work.chain_members[c])
        if (used[static_cast<std::size_t>(u)]) return;
      for (int u : p.work.chain_members[c]) used[static_cast<std::size_t>(u)] = true;
      pick[c] = true;
      recurse(c + 1, saved + saving(c));
      pick[c] = false;
      for (int u : p.work.chain_members[c]) used[static_cast<std::size_t>(u)] = false;
    };
    recurse(0, 0);
  } else {
    std::vector<bool> used(nu, false);
    for (std::size_t c = 0; c < nc; ++c) {
      if (fits[c] < 0 || !(saving(c) > 0)) continue;
      bool free = true;
      for (int u : p.work.chain_members[c]) free = free && !used[static_cast<std::size_t>(u)];
      if (!free) continue;
      fused[c] = true;
      for (int u : p.work.chain_members[c]) used[static_cast<std::size_t>(u)] = true;
    }
  }
  double total = 0;
  std::vector<bool> covered(nu, false);
  for (std::size_t c = 0; c < nc; ++c)
    if (fused[c]) {
      f.chain_choice[c] = fits[c];
      total += chain_cost[c];
      for (int u : p.work.chain_members[c]) covered[static_cast<std::size_t>(u)] = true;
    }
  for (std::size_t u = 0; u < nu; ++u) {
    if (covered[u]) {
      f.unit_choice[u] = -1;
      continue;
    }
    total += unit_cost[u];
  }
  f.cycles = total;
  return f;
}

// Lower bound of a shape: each unit (or chain) at its fastest tiling, buffers ignored.
double shape_lower_bound(const Prepared& p, std::size_t s) {
  // Each unit at the lesser of its fastest tiling alone and its share of a fused chain.
  double bound = 0;
  for (std::size_t u = 0; u < p.work.units.size(); ++u) {
    double best = p.units[s][u].empty() ? kNone : p.units[s][u].front().cycles;
    for (int c : p.chains_of[u]) {
      const auto& cands = p.chains[s][static_cast<std::size_t>(c)];
      if (!cands.empty())
        best = std::min(best, cands.front().cycles /
                                  static_cast<double>(
                                      p.work.chain_members[static_cast<std::size_t>(c)].size()));
    }
    bound += best;
  }
  return bound;
}

struct Design {
  std::size_t shape = 0;
  std::int64_t n_in = 0, n_w = 0, n_out = 0;
  Fixed fixed;
};

// A good feasible design quickly: for each shape, buffer splits on a grid of the free BRAM.
Design heuristic(const Prepared& p, const hw::EngineCostOptions& o) {
  Design best;
  for (std::size_t s = 0; s < p.shapes.size(); ++s) {
    const BufferBanks& b = p.banks[s];
    const std::int64_t bram = static_cast<std::int64_t>(p.cap.bram36);
    const std::int64_t free = bram - b.in - b.weight - b.out;
    if (free < 0) continue;
    constexpr int kSteps = 8;
    for (int i = 0; i <= kSteps; ++i)
      for (int j = 0; i + j <= kSteps; ++j) {
        Design d;
        d.shape = s;
        d.n_in = b.in + free * i / kSteps;
        d.n_w = b.weight + free * j / kSteps;
        d.n_out = bram - d.n_in - d.n_w;
        while (d.n_out >= b.out && !fits_resources(p, s, d.n_in + d.n_w + d.n_out, o)) --d.n_out;
        if (d.n_out < b.out) continue;
        d.fixed = best_fixed(p, s, d.n_in, d.n_w, d.n_out, false);
        if (d.fixed.cycles < best.fixed.cycles) best = d;
      }
  }
  return best;
}

// Whether shape a's candidates are all matched by one of b's that is as fast and needs no
// more of any buffer, for every unit and chain.
bool covers(const std::vector<std::vector<TileCost>>& b,
            const std::vector<std::vector<TileCost>>& a) {
  for (std::size_t u = 0; u < a.size(); ++u)
    for (const TileCost& x : a[u]) {
      bool matched = false;
      for (const TileCost& y : b[u])
        if (y.cycles <= x.cycles && y.need_in <= x.need_in && y.need_weight <= x.need_weight &&
            y.need_out <= x.need_out) {
          matched = true;
          break;
        }
      if (!matched) return false;
    }
  return true;
}

// Drops shapes that cannot beat `upper` cycles, then shapes another one dominates.
void prune_shapes(Prepared& p, double upper) {
  for (std::size_t s = p.shapes.size(); s-- > 0;)
    if (shape_lower_bound(p, s) > upper * (1 + 1e-12)) drop_shape(p, s);
  for (std::size_t a = p.shapes.size(); a-- > 0;) {
    for (std::size_t b = 0; b < p.shapes.size(); ++b) {
      if (a == b) continue;
      const bool cheaper = p.base[b].dsp <= p.base[a].dsp && p.base[b].lut <= p.base[a].lut &&
                           p.banks[b].in <= p.banks[a].in &&
                           p.banks[b].weight <= p.banks[a].weight &&
                           p.banks[b].out <= p.banks[a].out;
      if (cheaper && covers(p.units[b], p.units[a]) && covers(p.chains[b], p.chains[a])) {
        drop_shape(p, a);
        break;
      }
    }
  }
}

// Sizes each buffer to the largest tile it holds (never below the shape's bank minimum).
hw::EngineDesign design_of(const Prepared& p, const Design& d) {
  hw::EngineDesign out;
  const std::size_t s = d.shape;
  double need_in = 0, need_w = 0, need_out = 0;
  auto emit = [&](const hw::EngineUnit& unit, const TileCost& c) {
    out.steps.push_back({unit.kind, unit.layers, unit.name, c.tiling});
    need_in = std::max(need_in, c.need_in);
    need_w = std::max(need_w, c.need_weight);
    need_out = std::max(need_out, c.need_out);
  };
  std::vector<bool> emitted(p.work.chains.size(), false);
  for (std::size_t u = 0; u < p.work.units.size(); ++u) {
    const int k = d.fixed.unit_choice[u];
    if (k >= 0) {
      emit(p.work.units[u], p.units[s][u][static_cast<std::size_t>(k)]);
      continue;
    }
    for (int c : p.chains_of[u]) {
      const auto ci = static_cast<std::size_t>(c);
      const int kc = d.fixed.chain_choice[ci];
      if (kc < 0 || emitted[ci]) continue;
      emitted[ci] = true;
      emit(p.work.chains[ci], p.chains[s][ci][static_cast<std::size_t>(kc)]);
    }
  }
  const BufferBanks& b = p.banks[s];
  out.config =
      with_buffers(p.shapes[s], std::max(b.in, blocks_for(need_in)),
                   std::max(b.weight, blocks_for(need_w)), std::max(b.out, blocks_for(need_out)));
  return out;
}

// Why no buffer split works: the unit whose smallest tiles need the most BRAM.
std::string explain(const Prepared& p, const hw::Device& device, const hw::EngineCostOptions& o) {
  if (p.shapes.empty()) {
    hw::EngineConfig least;
    least.shape = {1, 4, 4};
    least.dw_lanes = 4;
    const BufferBanks b = hw::min_buffer_banks(least, p.wb, p.ab);
    const hw::Resources r =
        hw::engine_resources(with_buffers(least, b.in, b.weight, b.out), device, p.wb, p.ab, o);
    return "no engine shape fits: the smallest (1 px x 4 in x 4 out, 4 depthwise lanes) needs " +
           core::with_commas(static_cast<std::int64_t>(r.dsp)) + " DSP, " +
           core::with_commas(static_cast<std::int64_t>(r.lut)) + " LUT and " +
           std::to_string(b.in + b.weight + b.out) +
           " BRAM36 (its buffers' minimum width); usable " +
           core::with_commas(static_cast<std::int64_t>(p.cap.dsp)) + " DSP, " +
           core::with_commas(static_cast<std::int64_t>(p.cap.lut)) + " LUT, " +
           std::to_string(static_cast<std::int64_t>(p.cap.bram36)) + " BRAM36";
  }
  std::string worst;
  std::int64_t worst_blocks = -1;
  for (std::size_t u = 0; u < p.work.units.size(); ++u) {
    std::int64_t least = std::numeric_limits<std::int64_t>::max();
    for (std::size_t s = 0; s < p.shapes.size(); ++s)
      for (const TileCost& c : p.units[s][u])
        least = std::min(least, std::max(p.banks[s].in, blocks_for(c.need_in)) +
                                    std::max(p.banks[s].weight, blocks_for(c.need_weight)) +
                                    std::max(p.banks[s].out, blocks_for(c.need_out)));
    if (least > worst_blocks) {
      worst_blocks = least;
      worst = p.work.units[u].name;
    }
  }
  return "layer '" + worst + "' needs at least " + std::to_string(worst_blocks) +
         " BRAM36 of buffers even in its smallest tiles; " +
         std::to_string(static_cast<std::int64_t>(p.cap.bram36)) + " usable";
}

EngineMapResult finish(const ir::Network& net, const hw::Device& device, const Prepared& p,
                       const Design& d, const EngineMapOptions& o) {
  EngineMapResult r;
  r.shapes = p.shapes.size();
  r.design = design_of(p, d);
  r.design.datapath_weight_bits = o.datapath_weight_bits;
  r.design.datapath_act_bits = o.datapath_act_bits;
  r.eval = hw::evaluate_engine(net, r.design, device, o.cost);
  r.feasible = r.eval.fits();
  if (!r.feasible) r.reason = core::join(r.eval.over_budget, "; ");
  return r;
}

// Program 2's rows on the engine itself: one shape z[s], buffer sizes n_in, n_w, n_out within
// the BRAM and at least the chosen shape's banks, the shape's DSP and LUT plus the buffers'.
struct EngineRows {
  std::vector<int> z;
  int n_in = -1, n_w = -1, n_out = -1;
};

EngineRows add_engine_rows(Model& m, const Prepared& p, const hw::EngineCostOptions& cost) {
  EngineRows r;
  const std::size_t ns = p.shapes.size();
  const double bram = p.cap.bram36;
  std::vector<std::pair<int, double>> one_shape, dsp_row, lut_row;
  for (std::size_t s = 0; s < ns; ++s) {
    r.z.push_back(m.add_var(0, 1, 0, VarType::kBinary, "z" + std::to_string(s)));
    one_shape.push_back({r.z[s], 1});
    dsp_row.push_back({r.z[s], p.base[s].dsp});
    lut_row.push_back({r.z[s], p.base[s].lut});
  }
  m.add_row(one_shape, 1, 1, "one_shape");
  r.n_in = m.add_var(0, bram, 0, VarType::kInteger, "n_in");
  r.n_w = m.add_var(0, bram, 0, VarType::kInteger, "n_w");
  r.n_out = m.add_var(0, bram, 0, VarType::kInteger, "n_out");
  m.add_row({{r.n_in, 1}, {r.n_w, 1}, {r.n_out, 1}}, -kInf, bram, "bram");
  m.add_row(dsp_row, -kInf, p.cap.dsp, "dsp");
  for (int v : {r.n_in, r.n_w, r.n_out}) lut_row.push_back({v, cost.lut_per_buffer_bram});
  m.add_row(lut_row, -kInf, p.cap.lut, "lut");
  std::vector<std::pair<int, double>> banks_in{{r.n_in, 1}}, banks_w{{r.n_w, 1}},
      banks_out{{r.n_out, 1}};
  for (std::size_t s = 0; s < ns; ++s) {
    banks_in.push_back({r.z[s], -static_cast<double>(p.banks[s].in)});
    banks_w.push_back({r.z[s], -static_cast<double>(p.banks[s].weight)});
    banks_out.push_back({r.z[s], -static_cast<double>(p.banks[s].out)});
  }
  m.add_row(banks_in, 0, kInf, "banks_in");
  m.add_row(banks_w, 0, kInf, "banks_w");
  m.add_row(banks_out, 0, kInf, "banks_out");
  return r;
}

// A design found without the solver (`method` says how), or why there is none.
EngineMapResult finish_or_explain(const ir::Network& net, const hw::Device& device,
                                  const Prepared& p, const Design& d, const EngineMapOptions& o,
                                  EngineMethod method) {
  EngineMapResult r;
  if (!std::isfinite(d.fixed.cycles)) {
    r.method = method;
    r.stats.status = SolveStatus::kInfeasible;
    r.reason = explain(p, device, o.cost);
    r.shapes = p.shapes.size();
    return r;
  }
  r = finish(net, device, p, d, o);
  r.method = method;
  r.stats.status = SolveStatus::kNotSolved;
  return r;
}

}  // namespace

std::string to_string(EngineMethod m) {
  switch (m) {
    case EngineMethod::kIlp:
      return "ilp";
    case EngineMethod::kGrid:
      return "grid";
    case EngineMethod::kEnumerated:
      return "enumerated";
  }
  return "?";
}

EngineMapResult map_engine(const ir::Network& net, const hw::Device& device,
                           const EngineMapOptions& o) {
  if (o.solve.time_limit_s <= 0) throw core::InputError("--time-limit must be positive");
  const auto t0 = std::chrono::steady_clock::now();
  Prepared p = prepare(net, device, o);
  const Design start = heuristic(p, o.cost);
  const EngineConfig start_shape = p.shapes.empty() ? EngineConfig{} : p.shapes[start.shape];
  if (!std::isfinite(start.fixed.cycles)) {
    // The grid may miss a split that works; the program decides, but it needs shapes.
    if (p.shapes.empty()) {
      EngineMapResult r;
      r.reason = explain(p, device, o.cost);
      r.stats.status = SolveStatus::kInfeasible;
      return r;
    }
  } else {
    prune_shapes(p, start.fixed.cycles);
  }

  Model m;
  const std::size_t ns = p.shapes.size(), nu = p.work.units.size(), nc = p.work.chains.size();
  const EngineRows rows = add_engine_rows(m, p, o.cost);
  const std::vector<int>& z = rows.z;
  const int n_in = rows.n_in, n_w = rows.n_w, n_out = rows.n_out;

  // y[u][s][k] and g[c][s][k]: one binary per tiling candidate, linked to its shape.
  std::size_t binaries = 0;
  auto choice_vars = [&](const std::vector<std::vector<std::vector<TileCost>>>& cands,
                         std::size_t count) {
    std::vector<std::vector<std::vector<int>>> vars(count, std::vector<std::vector<int>>(ns));
    for (std::size_t i = 0; i < count; ++i)
      for (std::size_t s = 0; s < ns; ++s) {
        std::vector<std::pair<int, double>> link{{z[s], -1}};
        for (const TileCost& t : cands[s][i]) {
          vars[i][s].push_back(m.add_var(0, 1, t.cycles, VarType::kBinary));
          link.push_back({vars[i][s].back(), 1});
          ++binaries;
        }
        m.add_row(link, -kInf, 0);
      }
    return vars;
  };
  const auto y = choice_vars(p.units, nu);
  const auto g = choice_vars(p.chains, nc);
  for (std::size_t u = 0; u < nu; ++u) {
    std::vector<std::pair<int, double>> once, in{{n_in, -hw::kBram36Bytes}},
        w{{n_w, -hw::kBram36Bytes}}, out{{n_out, -hw::kBram36Bytes}};
    auto add = [&](int var, const TileCost& t) {
      once.push_back({var, 1});
      if (t.need_in > 0) in.push_back({var, t.need_in});
      if (t.need_weight > 0) w.push_back({var, t.need_weight});
      if (t.need_out > 0) out.push_back({var, t.need_out});
    };
    for (std::size_t s = 0; s < ns; ++s) {
      for (std::size_t k = 0; k < y[u][s].size(); ++k) add(y[u][s][k], p.units[s][u][k]);
      for (int c : p.chains_of[u])
        for (std::size_t k = 0; k < g[static_cast<std::size_t>(c)][s].size(); ++k)
          add(g[static_cast<std::size_t>(c)][s][k], p.chains[s][static_cast<std::size_t>(c)][k]);
    }
    m.add_row(once, 1, 1, "once_" + p.work.units[u].name);
    for (auto* row : {&in, &w, &out})
      if (row->size() > 1) m.add_row(*row, -kInf, 0);
  }

  SolveOptions so = o.solve;
  if (std::isfinite(start.fixed.cycles)) {
    // Warm start from the heuristic design; its shape survives pruning (its bound is lower).
    for (std::size_t s = 0; s < ns; ++s) {
      if (!(p.shapes[s].shape == start_shape.shape && p.shapes[s].dw_lanes == start_shape.dw_lanes))
        continue;
      so.start.assign(static_cast<std::size_t>(m.num_vars()), 0);
      auto set = [&](int var, std::int64_t v) {
        so.start[static_cast<std::size_t>(var)] = static_cast<double>(v);
      };
      set(z[s], 1), set(n_in, start.n_in), set(n_w, start.n_w), set(n_out, start.n_out);
      for (std::size_t u = 0; u < nu; ++u)
        if (start.fixed.unit_choice[u] >= 0)
          set(y[u][s][static_cast<std::size_t>(start.fixed.unit_choice[u])], 1);
      for (std::size_t c = 0; c < nc; ++c)
        if (start.fixed.chain_choice[c] >= 0)
          set(g[c][s][static_cast<std::size_t>(start.fixed.chain_choice[c])], 1);
    }
  }
  const SolveResult res = solve_with_cbc(m, so);

  EngineMapResult r;
  if (!res.has_solution()) {
    r.shapes = ns;
    r.variables = binaries;
    r.stats = res.stats;
    r.stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    r.reason = res.stats.status == SolveStatus::kInfeasible
                   ? explain(p, device, o.cost)
                   : "the solver stopped without a design: " + res.stats.message;
    return r;
  }
  Design d;
  for (std::size_t s = 0; s < ns; ++s)
    if (res.values[static_cast<std::size_t>(z[s])] > 0.5) d.shape = s;
  d.fixed.unit_choice.assign(nu, -1);
  d.fixed.chain_choice.assign(nc, -1);
  for (std::size_t u = 0; u < nu; ++u)
    for (std::size_t k = 0; k < y[u][d.shape].size(); ++k)
      if (res.values[static_cast<std::size_t>(y[u][d.shape][k])] > 0.5)
        d.fixed.unit_choice[u] = static_cast<int>(k);
  for (std::size_t c = 0; c < nc; ++c)
    for (std::size_t k = 0; k < g[c][d.shape].size(); ++k)
      if (res.values[static_cast<std::size_t>(g[c][d.shape][k])] > 0.5)
        d.fixed.chain_choice[c] = static_cast<int>(k);
  r = finish(net, device, p, d, o);
  r.variables = binaries;
  r.stats = res.stats;
  r.bound_ms = res.stats.best_bound / (device.clock_mhz * 1e3);
  r.stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

std::vector<hw::EngineConfig> engine_shape_menu(const ir::Network& net, const hw::Device& device,
                                                const EngineMapOptions& o) {
  Prepared p = prepare(net, device, o);
  const Design start = heuristic(p, o.cost);
  if (std::isfinite(start.fixed.cycles)) prune_shapes(p, start.fixed.cycles);
  return p.shapes;
}

EngineMapResult grid_engine(const ir::Network& net, const hw::Device& device,
                            const EngineMapOptions& o) {
  const Prepared p = prepare(net, device, o);
  return finish_or_explain(net, device, p, heuristic(p, o.cost), o, EngineMethod::kGrid);
}

EngineMapResult brute_force_engine(const ir::Network& net, const hw::Device& device,
                                   const EngineMapOptions& o) {
  Prepared p = prepare(net, device, o);
  Design best;
  const std::int64_t bram = static_cast<std::int64_t>(p.cap.bram36);
  for (std::size_t s = 0; s < p.shapes.size(); ++s) {
    // A buffer's optimal size is its bank minimum or exactly the size of some tile.
    std::set<std::int64_t> sizes[3] = {{p.banks[s].in}, {p.banks[s].weight}, {p.banks[s].out}};
    auto collect = [&](const TileCost& c) {
      sizes[0].insert(std::max(p.banks[s].in, blocks_for(c.need_in)));
      sizes[1].insert(std::max(p.banks[s].weight, blocks_for(c.need_weight)));
      sizes[2].insert(std::max(p.banks[s].out, blocks_for(c.need_out)));
    };
    for (const auto& cands : p.units[s])
      for (const auto& c : cands) collect(c);
    for (const auto& cands : p.chains[s])
      for (const auto& c : cands) collect(c);
    for (std::int64_t a : sizes[0])
      for (std::int64_t b : sizes[1])
        for (std::int64_t c : sizes[2]) {
          if (a + b + c > bram || !fits_resources(p, s, a + b + c, o.cost)) continue;
          Design d;
          d.shape = s, d.n_in = a, d.n_w = b, d.n_out = c;
          d.fixed = best_fixed(p, s, a, b, c, true);
          if (d.fixed.cycles < best.fixed.cycles) best = d;
        }
  }
  return finish_or_explain(net, device, p, best, o, EngineMethod::kEnumerated);
}

}  // namespace hao::ilp

namespace hao::ilp {
namespace {

// One job of program 3: a unit or a fused chain, the chosen layers its cost depends on, and
// per context (one choice index per such layer) and shape its tilings.
struct BitJob {
  hw::EngineUnit unit;
  bool chain = false;
  std::vector<int> members;                 // units it covers
  std::vector<std::size_t> context_layers;  // chosen layers whose bits change its cost
  std::vector<std::vector<int>> contexts;   // per context: a choice per context layer
  // Element-wise layers whose precision changes its cost (its own, or readers it writes for):
  // per context a value at least the bits of every chosen layer they feed (costs grow with
  // bits, so "at least" loses no design and spares the combinations of those layers).
  std::vector<std::size_t> slots;
  std::vector<std::vector<int>> slot_values;              // per context: act bits per slot
  std::vector<std::vector<std::vector<TileCost>>> cands;  // [shape][context][tiling]
};

}  // namespace

EngineMapOptions engine_options_for(const QuantizeSpec& spec, EngineMapOptions base) {
  for (const auto& c : spec.choices) {
    base.datapath_weight_bits = std::max(base.datapath_weight_bits, c.weight_bits);
    base.datapath_act_bits = std::max(base.datapath_act_bits, c.act_bits);
  }
  return base;
}

QuantizeResult quantize_engine(const ir::Network& net, const hw::Device& device,
                               const EngineMapOptions& options, const QuantizeSpec& spec) {
  check_quantize_spec(net, spec);
  const auto t0 = std::chrono::steady_clock::now();
  QuantizeResult q;
  EngineMapOptions o = engine_options_for(spec, options);
  if (o.shapes.empty() && !device.engine_pinned) {
    // The menu: the shapes program 2 keeps (after its exact pruning) for the network at each
    // uniform choice. Within it the program is exact; a shape no uniform design would keep is
    // not considered.
    for (std::size_t c = 0; c < spec.choices.size(); ++c) {
      std::vector<int> bits(net.layers.size(), -1);
      for (std::size_t l = 0; l < net.layers.size(); ++l)
        if (choosable(spec, l)) bits[l] = static_cast<int>(c);
      for (const auto& shape : engine_shape_menu(with_bits(net, spec.choices, bits), device, o)) {
        bool known = false;
        for (const auto& k : o.shapes)
          known = known || (k.shape == shape.shape && k.dw_lanes == shape.dw_lanes);
        if (!known) o.shapes.push_back(shape);
      }
    }
  }
  Prepared p = prepare(net, device, o);
  if (p.shapes.empty()) {
    q.stats.status = SolveStatus::kInfeasible;
    q.reason = explain(p, device, o.cost);
    return q;
  }
  const std::size_t ns = p.shapes.size(), nu = p.work.units.size();
  const std::size_t nchoice = spec.choices.size();

  // Jobs: units, then chains; contexts from their layers and those layers' readers.
  ir::Network at = net;
  ir::derive_elementwise_bits(at);  // element-wise layers fed by kept layers only are settled
  auto set_bits = [&](const BitJob& job, std::size_t k) {
    for (std::size_t i = 0; i < job.context_layers.size(); ++i) {
      const ir::BitWidths& b = spec.choices[static_cast<std::size_t>(job.contexts[k][i])];
      at.layers[job.context_layers[i]].weight_bits = b.weight_bits;
      at.layers[job.context_layers[i]].act_bits = b.act_bits;
    }
    ir::derive_elementwise_bits(at);  // exact for those whose chosen layers are all set
    for (std::size_t i = 0; i < job.slots.size(); ++i)
      at.layers[job.slots[i]].act_bits = job.slot_values[k][i];
  };
  // An element-wise layer's possible precisions: each choice's activation bits, at least the
  // widest kept layer it feeds; empty when it feeds no chosen layer (then it is settled).
  auto slot_domain = [&](std::size_t e) {
    int floor = 0;
    bool any = false;
    for (std::size_t w : fed_layers(net, e)) {
      if (choosable(spec, w))
        any = true;
      else
        floor = std::max(floor, net.layers[w].act_bits);
    }
    std::set<int> values;
    if (any)
      for (const auto& c : spec.choices) values.insert(std::max(floor, c.act_bits));
    return std::vector<int>(values.begin(), values.end());
  };
  std::vector<BitJob> jobs;
  auto add_job = [&](const hw::EngineUnit& unit, bool chain, std::vector<int> members) {
    BitJob job;
    job.unit = unit, job.chain = chain, job.members = std::move(members);
    // The chosen layers whose bits set this job's: its own layers and its readers (the
    // precision it writes), an element-wise one through the layers it feeds.
    std::set<std::size_t> layers, elementwise, slots;
    auto depends_on = [&](std::size_t l) {
      if (choosable(spec, l)) layers.insert(l);
      if (!net.layers[l].has_weights() && !slot_domain(l).empty()) elementwise.insert(l);
    };
    for (int l : unit.layers) {
      depends_on(static_cast<std::size_t>(l));
      for (int r : net.consumers(l)) depends_on(static_cast<std::size_t>(r));
    }
    // An element-wise layer that feeds only chosen layers already in the context follows
    // them exactly; the others get a slot.
    for (std::size_t e : elementwise)
      for (std::size_t fed : fed_layers(net, e))
        if (choosable(spec, fed) && !layers.count(fed)) slots.insert(e);
    job.context_layers.assign(layers.begin(), layers.end());
    job.slots.assign(slots.begin(), slots.end());
    // Contexts: the chosen layers' tie-consistent choices times every slot's values.
    std::vector<std::vector<int>> domains;
    for (std::size_t e : job.slots) domains.push_back(slot_domain(e));
    for (const auto& ctx : tie_consistent_contexts(job.context_layers, nchoice, spec.ties)) {
      std::vector<std::size_t> pick(domains.size(), 0);
      while (true) {
        std::vector<int> values;
        for (std::size_t i = 0; i < domains.size(); ++i) values.push_back(domains[i][pick[i]]);
        job.contexts.push_back(ctx);
        job.slot_values.push_back(values);
        std::size_t i = 0;
        while (i < pick.size() && ++pick[i] == domains[i].size()) pick[i++] = 0;
        if (i == pick.size()) break;
      }
    }
    job.cands.assign(ns, {});
    for (std::size_t s = 0; s < ns; ++s)
      for (std::size_t k = 0; k < job.contexts.size(); ++k) {
        set_bits(job, k);
        job.cands[s].push_back(hw::tile_candidates(at, job.unit, p.shapes[s], device, o.cost));
      }
    jobs.push_back(std::move(job));
  };
  for (std::size_t u = 0; u < nu; ++u) add_job(p.work.units[u], false, {static_cast<int>(u)});
  for (std::size_t c = 0; c < p.work.chains.size(); ++c)
    add_job(p.work.chains[c], true, p.work.chain_members[c]);

  const double target =
      spec.target_fps > 0 ? device.clock_mhz * 1e6 / spec.target_fps : kInf;  // cycles
  q.shapes = ns;
  double largest = 0;
  for (const auto& row : spec.omega)
    for (double v : row) largest = std::max(largest, std::abs(v));
  const double scale = largest > 0 ? 1.0 / largest : 1.0;

  // The model; `fastest` = the second pass: minimize cycles with sum Omega <= omega_cap.
  struct Vars {
    std::vector<int> z;
    int n_in = -1, n_w = -1, n_out = -1;
    std::vector<std::vector<int>> b;                               // [layer][choice]
    std::vector<std::vector<std::vector<std::vector<int>>>> x;     // [job][shape][ctx][k]
    std::vector<std::vector<std::vector<std::vector<int>>>> cand;  // the k's tiling index
    std::size_t binaries = 0;
  };
  auto build = [&](bool fastest, double omega_cap, Model& m, Vars& v) {
    const EngineRows engine = add_engine_rows(m, p, o.cost);
    v.z = engine.z, v.n_in = engine.n_in, v.n_w = engine.n_w, v.n_out = engine.n_out;

    // Bits per chosen layer, ties, budgets (kept layers add a constant).
    v.b.assign(net.layers.size(), {});
    std::vector<std::pair<int, double>> size_row, bops_row, omega_row;
    double fixed_size = 0, fixed_bops = 0;
    for (std::size_t l = 0; l < net.layers.size(); ++l) {
      if (!choosable(spec, l)) {
        if (net.layers[l].has_weights()) {
          const ir::BitWidths own{net.layers[l].weight_bits, net.layers[l].act_bits};
          fixed_size += weight_bytes(net.layers[l], own);
          fixed_bops += bit_operations(net.layers[l], own);
        }
        continue;
      }
      std::vector<std::pair<int, double>> one;
      for (std::size_t c = 0; c < nchoice; ++c) {
        const double omega = spec.omega[l][c] * scale;
        v.b[l].push_back(m.add_var(0, 1, fastest ? 0 : omega, VarType::kBinary));
        one.push_back({v.b[l][c], 1});
        if (omega != 0) omega_row.push_back({v.b[l][c], omega});
        size_row.push_back({v.b[l][c], weight_bytes(net.layers[l], spec.choices[c])});
        bops_row.push_back({v.b[l][c], bit_operations(net.layers[l], spec.choices[c])});
      }
      m.add_row(one, 1, 1, "bits_" + net.layers[l].name);
    }
    for (const auto& tie : spec.ties)
      for (std::size_t t = 1; t < tie.size(); ++t)
        for (std::size_t c = 0; c < nchoice; ++c)
          m.add_row({{v.b[static_cast<std::size_t>(tie[0])][c], 1},
                     {v.b[static_cast<std::size_t>(tie[t])][c], -1}},
                    0, 0, "tie");
    if (spec.max_weight_bytes > 0)
      m.add_row(size_row, -kInf, spec.max_weight_bytes - fixed_size, "weight_bytes");
    if (spec.max_bops > 0) m.add_row(bops_row, -kInf, spec.max_bops - fixed_bops, "bops");
    if (fastest) m.add_row(omega_row, -kInf, omega_cap, "omega");

    // Tilings per job, shape and context, linked to the shape and to the bits.
    v.x.assign(jobs.size(), {});
    v.cand.assign(jobs.size(), {});
    std::vector<std::pair<int, double>> latency_row;
    std::vector<std::vector<std::pair<int, double>>> once(nu), in(nu), w(nu), out(nu);
    for (std::size_t j = 0; j < jobs.size(); ++j) {
      const BitJob& job = jobs[j];
      v.x[j].assign(ns, {});
      v.cand[j].assign(ns, {});
      std::vector<std::vector<std::vector<std::pair<int, double>>>> consistency(
          job.context_layers.size(), std::vector<std::vector<std::pair<int, double>>>(nchoice));
      // below[i][c]: the job's variables whose slot i is narrower than choice c's activations.
      std::vector<std::vector<std::vector<std::pair<int, double>>>> below(
          job.slots.size(), std::vector<std::vector<std::pair<int, double>>>(nchoice));
      for (std::size_t s = 0; s < ns; ++s) {
        std::vector<std::pair<int, double>> link{{v.z[s], -1}};
        for (std::size_t k = 0; k < job.contexts.size(); ++k) {
          v.x[j][s].emplace_back();
          v.cand[j][s].emplace_back();
          for (std::size_t t = 0; t < job.cands[s][k].size(); ++t) {
            const TileCost& c = job.cands[s][k][t];
            if (c.cycles > target) continue;
            const int var = m.add_var(0, 1, fastest ? c.cycles : 0, VarType::kBinary);
            v.x[j][s][k].push_back(var);
            v.cand[j][s][k].push_back(static_cast<int>(t));
            link.push_back({var, 1});
            latency_row.push_back({var, c.cycles});
            for (std::size_t i = 0; i < job.context_layers.size(); ++i)
              consistency[i][static_cast<std::size_t>(job.contexts[k][i])].push_back({var, 1});
            for (std::size_t i = 0; i < job.slots.size(); ++i)
              for (std::size_t ch = 0; ch < nchoice; ++ch)
                if (job.slot_values[k][i] < spec.choices[ch].act_bits)
                  below[i][ch].push_back({var, 1});
            for (int u : job.members) {
              const auto ui = static_cast<std::size_t>(u);
              once[ui].push_back({var, 1});
              if (c.need_in > 0) in[ui].push_back({var, c.need_in});
              if (c.need_weight > 0) w[ui].push_back({var, c.need_weight});
              if (c.need_out > 0) out[ui].push_back({var, c.need_out});
            }
            ++v.binaries;
          }
        }
        if (link.size() > 1) m.add_row(link, -kInf, 0);
      }
      for (std::size_t i = 0; i < job.context_layers.size(); ++i)
        for (std::size_t c = 0; c < nchoice; ++c) {
          auto& row = consistency[i][c];
          if (row.empty()) continue;
          row.push_back({v.b[job.context_layers[i]][c], -1});
          m.add_row(row, -kInf, 0, "context");
        }
      // A slot is at least the bits of every chosen layer it feeds: the job may not run with
      // slot i below choice c's activations where such a layer takes c.
      for (std::size_t i = 0; i < job.slots.size(); ++i)
        for (std::size_t fed : fed_layers(net, job.slots[i])) {
          if (!choosable(spec, fed)) continue;
          for (std::size_t c = 0; c < nchoice; ++c) {
            if (below[i][c].empty()) continue;
            auto row = below[i][c];
            row.push_back({v.b[fed][c], 1});
            m.add_row(row, -kInf, 1, "slot");
          }
        }
    }
    for (std::size_t u = 0; u < nu; ++u) {
      m.add_row(once[u], 1, 1, "once_" + p.work.units[u].name);
      const std::pair<int, double> buffers[3] = {
          {v.n_in, -hw::kBram36Bytes}, {v.n_w, -hw::kBram36Bytes}, {v.n_out, -hw::kBram36Bytes}};
      std::vector<std::pair<int, double>>* rows[3] = {&in[u], &w[u], &out[u]};
      for (int r = 0; r < 3; ++r)
        if (!rows[r]->empty()) {
          rows[r]->push_back(buffers[r]);
          m.add_row(*rows[r], -kInf, 0);
        }
    }
    if (std::isfinite(target)) m.add_row(latency_row, -kInf, target, "latency");
  };

  Model m;
  Vars v;
  build(false, 0, m, v);
  q.variables = v.binaries;
  SolveResult res = solve_with_cbc(m, o.solve);
  if (!res.has_solution()) {
    q.stats = res.stats;
    q.reason = res.stats.status == SolveStatus::kInfeasible
                   ? "no bit allocation, engine and tilings " +
                         (std::isfinite(target) ? "reach " + core::fixed(spec.target_fps, 1) +
                                                      " fps and fit " + device.name
                                                : "fit " + device.name)
                   : "the solver stopped without a design: " + res.stats.message;
    q.stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return q;
  }
  q.stats = res.stats;
  q.stats.best_bound = res.stats.best_bound / scale;
  double omega_scaled = 0;
  for (std::size_t l = 0; l < net.layers.size(); ++l)
    for (std::size_t c = 0; c < v.b[l].size(); ++c)
      omega_scaled += spec.omega[l][c] * scale * res.values[static_cast<std::size_t>(v.b[l][c])];

  // Second pass: the fastest design at that Omega, started from the first.
  {
    Model fast;
    Vars fv;
    build(true, omega_scaled * (1 + 1e-9) + 1e-12, fast, fv);
    SolveOptions so = o.solve;
    so.relative_gap = o.solve.lean_relative_gap;
    so.max_nodes = o.solve.lean_max_nodes;
    so.start = res.values;  // same variables in the same order
    const SolveResult r2 = solve_with_cbc(fast, so);
    q.stats.nodes += r2.stats.nodes;
    if (r2.has_solution()) res = r2, v = std::move(fv);
  }

  const auto on = [&](int var) { return res.values[static_cast<std::size_t>(var)] > 0.5; };
  q.bits.assign(net.layers.size(), -1);
  for (std::size_t l = 0; l < net.layers.size(); ++l)
    for (std::size_t c = 0; c < v.b[l].size(); ++c)
      if (on(v.b[l][c])) q.bits[l] = static_cast<int>(c);
  q.network = with_bits(net, spec.choices, q.bits);
  std::size_t shape = 0;
  for (std::size_t s = 0; s < ns; ++s)
    if (on(v.z[s])) shape = s;
  // Steps in network order: a unit alone, or its chain at the chain's first member.
  hw::EngineDesign design;
  double need_in = 0, need_w = 0, need_out = 0;
  std::vector<bool> done(nu, false);
  for (std::size_t u = 0; u < nu; ++u) {
    if (done[u]) continue;
    for (std::size_t j = 0; j < jobs.size(); ++j) {
      if (jobs[j].members.front() != static_cast<int>(u)) continue;
      for (std::size_t k = 0; k < jobs[j].contexts.size(); ++k)
        for (std::size_t i = 0; i < v.x[j][shape][k].size(); ++i) {
          if (!on(v.x[j][shape][k][i])) continue;
          const TileCost& c =
              jobs[j].cands[shape][k][static_cast<std::size_t>(v.cand[j][shape][k][i])];
          design.steps.push_back(
              {jobs[j].unit.kind, jobs[j].unit.layers, jobs[j].unit.name, c.tiling});
          need_in = std::max(need_in, c.need_in);
          need_w = std::max(need_w, c.need_weight);
          need_out = std::max(need_out, c.need_out);
          for (int member : jobs[j].members) done[static_cast<std::size_t>(member)] = true;
        }
    }
  }
  const BufferBanks& b = p.banks[shape];
  design.config =
      with_buffers(p.shapes[shape], std::max(b.in, blocks_for(need_in)),
                   std::max(b.weight, blocks_for(need_w)), std::max(b.out, blocks_for(need_out)));
  design.datapath_weight_bits = o.datapath_weight_bits;
  design.datapath_act_bits = o.datapath_act_bits;
  q.engine = design;
  q.engine_eval = hw::evaluate_engine(q.network, design, device, o.cost);
  q.feasible = q.engine_eval.fits() && q.engine_eval.cycles <= target * (1 + 1e-9);
  if (!q.feasible)
    q.reason = "internal: the chosen design does not evaluate as planned: " +
               core::join(q.engine_eval.over_budget, "; ");
  q.omega = 0;
  for (std::size_t l = 0; l < net.layers.size(); ++l)
    if (q.bits[l] >= 0) q.omega += spec.omega[l][static_cast<std::size_t>(q.bits[l])];
  q.fps = q.engine_eval.fps;
  q.latency_ms = q.engine_eval.latency_ms;
  q.used = q.engine_eval.total;
  q.stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return q;
}

}  // namespace hao::ilp
