#include "ilp/engine_program.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>

#include "core/error.hpp"
#include "core/text.hpp"
#include "ilp/cbc_solver.hpp"
#include "ilp/engine_instance.hpp"

namespace hao::ilp {

using hw::EngineConfig;
using hw::TileCost;

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
  EngineInstance p = make_engine_instance(net, device, o);
  const EngineCandidate start = grid_candidate(p, o.cost);
  const EngineConfig start_shape = p.shapes.empty() ? EngineConfig{} : p.shapes[start.shape];
  if (!std::isfinite(start.tilings.cycles)) {
    // The grid may miss a split that works; the program decides, but it needs shapes.
    if (p.shapes.empty()) {
      EngineMapResult r;
      r.reason = why_nothing_fits(p, device, o.cost);
      r.stats.status = SolveStatus::kInfeasible;
      return r;
    }
  } else {
    prune_shapes(p, start.tilings.cycles);
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
  if (std::isfinite(start.tilings.cycles)) {
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
        if (start.tilings.unit_choice[u] >= 0)
          set(y[u][s][static_cast<std::size_t>(start.tilings.unit_choice[u])], 1);
      for (std::size_t c = 0; c < nc; ++c)
        if (start.tilings.chain_choice[c] >= 0)
          set(g[c][s][static_cast<std::size_t>(start.tilings.chain_choice[c])], 1);
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
                   ? why_nothing_fits(p, device, o.cost)
                   : "the solver stopped without a design: " + res.stats.message;
    return r;
  }
  EngineCandidate d;
  for (std::size_t s = 0; s < ns; ++s)
    if (res.values[static_cast<std::size_t>(z[s])] > 0.5) d.shape = s;
  d.tilings.unit_choice.assign(nu, -1);
  d.tilings.chain_choice.assign(nc, -1);
  for (std::size_t u = 0; u < nu; ++u)
    for (std::size_t k = 0; k < y[u][d.shape].size(); ++k)
      if (res.values[static_cast<std::size_t>(y[u][d.shape][k])] > 0.5)
        d.tilings.unit_choice[u] = static_cast<int>(k);
  for (std::size_t c = 0; c < nc; ++c)
    for (std::size_t k = 0; k < g[c][d.shape].size(); ++k)
      if (res.values[static_cast<std::size_t>(g[c][d.shape][k])] > 0.5)
        d.tilings.chain_choice[c] = static_cast<int>(k);
  r = engine_result(net, device, p, d, o);
  r.variables = binaries;
  r.stats = res.stats;
  r.bound_ms = res.stats.best_bound / (device.clock_mhz * 1e3);
  r.stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

std::vector<hw::EngineConfig> engine_shape_menu(const ir::Network& net, const hw::Device& device,
                                                const EngineMapOptions& o) {
  EngineInstance p = make_engine_instance(net, device, o);
  const EngineCandidate start = grid_candidate(p, o.cost);
  if (std::isfinite(start.tilings.cycles)) prune_shapes(p, start.tilings.cycles);
  return p.shapes;
}

EngineMapResult grid_engine(const ir::Network& net, const hw::Device& device,
                            const EngineMapOptions& o) {
  const EngineInstance p = make_engine_instance(net, device, o);
  return result_without_solver(net, device, p, grid_candidate(p, o.cost), o, EngineMethod::kGrid);
}

EngineMapResult brute_force_engine(const ir::Network& net, const hw::Device& device,
                                   const EngineMapOptions& o) {
  EngineInstance p = make_engine_instance(net, device, o);
  EngineCandidate best;
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
          EngineCandidate d;
          d.shape = s, d.n_in = a, d.n_w = b, d.n_out = c;
          d.tilings = best_tilings(p, s, a, b, c, true);
          if (d.tilings.cycles < best.tilings.cycles) best = d;
        }
  }
  return result_without_solver(net, device, p, best, o, EngineMethod::kEnumerated);
}

}  // namespace hao::ilp
