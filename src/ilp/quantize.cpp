#include "ilp/quantize.hpp"

#include <cmath>

#include "core/error.hpp"
#include "core/text.hpp"
#include "ilp/quantize_mapper.hpp"

namespace hao::ilp {

std::vector<ir::BitWidths> parse_bit_choices(const std::vector<std::string>& tokens,
                                             const std::string& where) {
  std::vector<ir::BitWidths> out;
  for (const auto& t : tokens) {
    ir::BitWidths b;
    std::int64_t n = 0;
    if (core::parse_int(t, n)) {
      b.weight_bits = b.act_bits = static_cast<int>(n);
    } else if (!ir::parse_bit_widths(t, where, b)) {
      throw core::InputError(where + ": '" + t + "' is neither N nor wXaY");
    }
    for (int v : {b.weight_bits, b.act_bits})
      if (v < 2 || v > 8)
        throw core::InputError(where + ": '" + t + "' has " + std::to_string(v) +
                               " bits, outside 2..8");
    for (const auto& o : out)
      if (o.weight_bits == b.weight_bits && o.act_bits == b.act_bits)
        throw core::InputError(where + ": '" + t + "' is given twice");
    out.push_back(b);
  }
  if (out.empty()) throw core::InputError(where + ": no bit-widths");
  return out;
}

std::vector<bool> choosable_layers(const ir::Network& net, bool all_layers) {
  std::vector<int> weighted;
  for (std::size_t l = 0; l < net.layers.size(); ++l)
    if (net.layers[l].has_weights()) weighted.push_back(static_cast<int>(l));
  std::vector<bool> out(net.layers.size(), false);
  for (std::size_t w = 0; w < weighted.size(); ++w)
    if (all_layers || (w > 0 && w + 1 < weighted.size()) || weighted.size() <= 2)
      out[static_cast<std::size_t>(weighted[w])] = true;
  return out;
}

std::vector<std::vector<int>> resolve_ties(const std::vector<std::string>& groups,
                                           const ir::Network& net,
                                           const std::vector<bool>& choosable,
                                           const std::string& where) {
  std::vector<std::vector<int>> out;
  core::IssueList issues(where);
  for (const auto& t : groups) {
    std::vector<int> group;
    for (const auto& name : core::split(t, ',', false)) {
      const int at = net.find(name);
      if (at < 0)
        issues.add("'" + t + "'", "names layer '" + name + "', which '" + net.name + "' lacks");
      else if (!choosable[static_cast<std::size_t>(at)])
        issues.add("'" + t + "'", "names layer '" + name +
                                      "', whose bits are not chosen (not weighted, or the "
                                      "first/last layer without --all-layers)");
      else
        group.push_back(at);
    }
    if (group.size() >= 2) out.push_back(group);
  }
  issues.throw_if_any();
  return out;
}

Quantizer::Quantizer(hw::Device device, QuantizeTemplate tmpl, SolveOptions solve)
    : device_(std::move(device)), tmpl_(tmpl), solve_(std::move(solve)) {}

QuantizeResult Quantizer::at_fps(const ir::Network& net, const QuantizeSpec& spec) const {
  if (!engine()) return quantize_dataflow(net, device_, {}, spec, solve_);
  EngineMapOptions o;
  o.solve = solve_;
  return quantize_engine(net, device_, o, spec);
}

double Quantizer::fastest_at_bits(const ir::Network& net, const QuantizeSpec& spec) const {
  if (engine()) {
    EngineMapOptions o;
    o.solve = solve_;
    const EngineMapResult r = map_engine(net, device_, engine_options_for(spec, o));
    return r.feasible ? r.eval.fps : 0;
  }
  QuantizeSpec fixed = spec;
  for (auto& row : fixed.omega) row.clear();
  return fastest_dataflow_fps(net, device_, {}, fixed, solve_);
}

double Quantizer::fastest(const ir::Network& net, const QuantizeSpec& spec) const {
  if (!engine()) return fastest_dataflow_fps(net, device_, {}, spec, solve_);
  return fastest_at_bits(at_narrowest(net, spec), spec);
}

QuantizeResult Quantizer::at_latency(const ir::Network& net, QuantizeSpec spec,
                                     double latency_ms) const {
  if (!(latency_ms > 0)) throw core::InputError("--latency-ms must be positive");
  if (engine()) {
    spec.target_fps = 1e3 / latency_ms;  // layer after layer: the latency is the frame time
    return at_fps(net, spec);
  }
  // Cycles within the latency; the relative slack keeps a design at exactly the latency in
  // despite the rounding of ms to cycles (0.00035 ms at 100 MHz is 34.999... cycles).
  const double target_cycles = std::floor(latency_ms * device_.clock_mhz * 1e3 * (1 + 1e-12));
  auto at_ii = [&](double ii) {
    spec.target_fps = device_.clock_mhz * 1e6 / ii;
    return at_fps(net, spec);
  };
  auto meets = [&](const QuantizeResult& q) {
    return q.feasible && static_cast<double>(q.dataflow.latency_cycles) <= target_cycles;
  };
  QuantizeResult best = at_ii(target_cycles);
  if (meets(best)) return best;
  // lo: an II target known to fit nothing or to meet the latency; hi: one known to give a
  // design too slow.
  double lo = 0, hi = target_cycles;
  bool found = false;
  SolveStats effort = best.stats;
  while (hi - lo > 1) {
    const double mid = std::floor((lo + hi) / 2);
    QuantizeResult q = at_ii(mid);
    effort.add_effort(q.stats);
    if (meets(q)) {
      best = std::move(q), found = true, lo = mid;
    } else if (!q.feasible) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  if (found) {
    best.stats.seconds = effort.seconds, best.stats.nodes = effort.nodes;
    return best;
  }
  QuantizeResult none;
  none.stats = effort;
  none.stats.status = SolveStatus::kInfeasible;
  none.reason =
      "no design found whose II plus pipeline fill is within " + core::fixed(latency_ms, 3) + " ms";
  return none;
}

std::vector<Quantizer::SweepPoint> Quantizer::sweep(
    const ir::Network& net, QuantizeSpec spec, int points,
    const std::function<void(int, double, const QuantizeResult&)>& progress) const {
  if (points < 2)
    throw core::InputError("--sweep-points " + std::to_string(points) + ", expected >= 2");
  const double fastest_fps = fastest(net, spec);
  if (fastest_fps <= 0) return {};
  // From the most accurate allocation (least summed Omega without a target) at its fastest
  // design to the fastest design at the cheapest bits.
  double slowest = fastest_fps;
  {
    QuantizeSpec free = spec;
    free.target_fps = 0;
    const QuantizeResult q = at_fps(net, free);
    if (q.feasible) slowest = fastest_at_bits(q.network, spec);
  }
  std::vector<SweepPoint> out;
  for (int k = 0; k < points; ++k) {
    const double f =
        slowest * std::pow(fastest_fps / slowest, static_cast<double>(k) / (points - 1));
    spec.target_fps = f;
    out.push_back({f, at_fps(net, spec)});
    if (progress) progress(k, f, out.back().result);
  }
  return out;
}

}  // namespace hao::ilp
