#include "ilp/engine_instance.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

#include "core/error.hpp"
#include "core/text.hpp"
#include "hw/dataflow.hpp"

namespace hao::ilp {

using hw::BufferBanks;
using hw::EngineConfig;
using hw::TileCost;

std::int64_t blocks_for(double bytes) {
  return static_cast<std::int64_t>(std::ceil(bytes / hw::kBram36Bytes - 1e-9));
}

EngineConfig with_buffers(EngineConfig c, std::int64_t in, std::int64_t w, std::int64_t out) {
  c.in_bram = in, c.weight_bram = w, c.out_bram = out;
  return c;
}

namespace {

void add_shape(EngineInstance& p, const EngineConfig& shape, const ir::Network& net,
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

void drop_shape(EngineInstance& p, std::size_t s) {
  p.shapes.erase(p.shapes.begin() + static_cast<long>(s));
  p.banks.erase(p.banks.begin() + static_cast<long>(s));
  p.base.erase(p.base.begin() + static_cast<long>(s));
  p.units.erase(p.units.begin() + static_cast<long>(s));
  p.chains.erase(p.chains.begin() + static_cast<long>(s));
}

}  // namespace

bool fits_resources(const EngineInstance& p, std::size_t s, std::int64_t blocks,
                    const hw::EngineCostOptions& o) {
  return p.base[s].dsp <= p.cap.dsp && blocks <= static_cast<std::int64_t>(p.cap.bram36) &&
         p.base[s].lut + o.lut_per_buffer_bram * static_cast<double>(blocks) <= p.cap.lut;
}

EngineInstance make_engine_instance(const ir::Network& net, const hw::Device& device,
                                    const EngineMapOptions& o) {
  EngineInstance p;
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

TilingChoice best_tilings(const EngineInstance& p, std::size_t s, std::int64_t n_in,
                          std::int64_t n_w, std::int64_t n_out, bool exact) {
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
  TilingChoice f;
  f.unit_choice.assign(nu, -1);
  f.chain_choice.assign(nc, -1);
  std::vector<double> unit_cost(nu, kNoDesign), chain_cost(nc, kNoDesign);
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
double shape_lower_bound(const EngineInstance& p, std::size_t s) {
  // Each unit at the lesser of its fastest tiling alone and its share of a fused chain.
  double bound = 0;
  for (std::size_t u = 0; u < p.work.units.size(); ++u) {
    double best = p.units[s][u].empty() ? kNoDesign : p.units[s][u].front().cycles;
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

// A good feasible design quickly: for each shape, buffer splits on a grid of the free BRAM.
EngineCandidate grid_candidate(const EngineInstance& p, const hw::EngineCostOptions& o) {
  EngineCandidate best;
  for (std::size_t s = 0; s < p.shapes.size(); ++s) {
    const BufferBanks& b = p.banks[s];
    const std::int64_t bram = static_cast<std::int64_t>(p.cap.bram36);
    const std::int64_t free = bram - b.in - b.weight - b.out;
    if (free < 0) continue;
    constexpr int kSteps = 8;
    for (int i = 0; i <= kSteps; ++i)
      for (int j = 0; i + j <= kSteps; ++j) {
        EngineCandidate d;
        d.shape = s;
        d.n_in = b.in + free * i / kSteps;
        d.n_w = b.weight + free * j / kSteps;
        d.n_out = bram - d.n_in - d.n_w;
        while (d.n_out >= b.out && !fits_resources(p, s, d.n_in + d.n_w + d.n_out, o)) --d.n_out;
        if (d.n_out < b.out) continue;
        d.tilings = best_tilings(p, s, d.n_in, d.n_w, d.n_out, false);
        if (d.tilings.cycles < best.tilings.cycles) best = d;
      }
  }
  return best;
}

namespace {

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

}  // namespace

// Drops shapes that cannot beat `upper` cycles, then shapes another one dominates.
void prune_shapes(EngineInstance& p, double upper) {
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
hw::EngineDesign design_of(const EngineInstance& p, const EngineCandidate& d) {
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
    const int k = d.tilings.unit_choice[u];
    if (k >= 0) {
      emit(p.work.units[u], p.units[s][u][static_cast<std::size_t>(k)]);
      continue;
    }
    for (int c : p.chains_of[u]) {
      const auto ci = static_cast<std::size_t>(c);
      const int kc = d.tilings.chain_choice[ci];
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
std::string why_nothing_fits(const EngineInstance& p, const hw::Device& device,
                             const hw::EngineCostOptions& o) {
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

EngineMapResult engine_result(const ir::Network& net, const hw::Device& device,
                              const EngineInstance& p, const EngineCandidate& d,
                              const EngineMapOptions& o) {
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

EngineRows add_engine_rows(Model& m, const EngineInstance& p, const hw::EngineCostOptions& cost) {
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
EngineMapResult result_without_solver(const ir::Network& net, const hw::Device& device,
                                      const EngineInstance& p, const EngineCandidate& d,
                                      const EngineMapOptions& o, EngineMethod method) {
  EngineMapResult r;
  if (!std::isfinite(d.tilings.cycles)) {
    r.method = method;
    r.stats.status = SolveStatus::kInfeasible;
    r.reason = why_nothing_fits(p, device, o.cost);
    r.shapes = p.shapes.size();
    return r;
  }
  r = engine_result(net, device, p, d, o);
  r.method = method;
  r.stats.status = SolveStatus::kNotSolved;
  return r;
}

}  // namespace hao::ilp
