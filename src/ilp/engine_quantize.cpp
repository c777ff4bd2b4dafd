// The engine side of program 3 (bit allocation): bits chosen with the engine shape, buffers,
// tilings and fused chains in one program over the instance program 2 uses.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <set>

#include "core/error.hpp"
#include "core/text.hpp"
#include "ilp/cbc_solver.hpp"
#include "ilp/engine_instance.hpp"
#include "ilp/engine_program.hpp"

namespace hao::ilp {

using hw::BufferBanks;
using hw::TileCost;

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
  EngineInstance p = make_engine_instance(net, device, o);
  if (p.shapes.empty()) {
    q.stats.status = SolveStatus::kInfeasible;
    q.reason = why_nothing_fits(p, device, o.cost);
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
