#include "ilp/dataflow_mapper.hpp"

#include <chrono>
#include <cmath>

#include "core/error.hpp"
#include "core/text.hpp"
#include "hw/greedy_folding.hpp"

namespace hao::ilp {

std::string to_string(MapMethod m) {
  switch (m) {
    case MapMethod::kIlp:
      return "ilp";
    case MapMethod::kGreedy:
      return "greedy";
    case MapMethod::kGiven:
      return "given";
  }
  return "?";
}

namespace {

std::vector<hw::LayerConfig> configs_of(const FoldingProblem& p, const std::vector<int>& choice) {
  std::vector<hw::LayerConfig> out;
  for (std::size_t l = 0; l < choice.size(); ++l)
    out.push_back(p.candidates[l][static_cast<std::size_t>(choice[l])].config);
  return out;
}

void finish(MapResult& r, const ir::Network& net, const hw::Device& device,
            const MapOptions& options, const std::vector<hw::NamedNode>& extras = {}) {
  r.eval = hw::evaluate_dataflow(net, r.configs, device, options.cost, extras);
  r.feasible = r.eval.fits();
  if (!r.feasible && r.reason.empty()) r.reason = core::join(r.eval.over_budget, "; ");
}

std::int64_t ii_for_fps(const hw::Device& device, double fps) {
  return static_cast<std::int64_t>(std::floor(device.clock_mhz * 1e6 / fps));
}

}  // namespace

MapResult evaluate_given(const ir::Network& net, const hw::Device& device,
                         const std::vector<hw::LayerConfig>& configs, const MapOptions& options,
                         const std::vector<hw::NamedNode>& extras) {
  MapResult r;
  r.method = MapMethod::kGiven;
  r.stats.status = SolveStatus::kNotSolved;
  r.configs = configs;
  finish(r, net, device, options, extras);
  if (options.target_fps > 0 && r.eval.fps + 1e-9 < options.target_fps) {
    r.feasible = false;
    r.reason = "the given folding reaches " + core::fixed(r.eval.fps, 1) + " fps < target " +
               core::fixed(options.target_fps, 1) + " fps" +
               (r.reason.empty() ? "" : "; " + r.reason);
  }
  return r;
}

MapResult map_dataflow(const ir::Network& net, const hw::Device& device,
                       const MapOptions& options) {
  if (options.target_fps < 0) throw core::InputError("--target-fps must be positive");
  if (options.solve.time_limit_s <= 0) throw core::InputError("--time-limit must be positive");
  MapResult r;
  r.method = options.method;
  const auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };

  if (options.method == MapMethod::kGreedy) {
    r.stats.status = SolveStatus::kNotSolved;
    if (options.target_fps > 0) {
      r.target_ii_cycles = ii_for_fps(device, options.target_fps);
      r.configs = hw::greedy_fold(net, r.target_ii_cycles);
      finish(r, net, device, options);
      if (r.eval.ii_cycles > r.target_ii_cycles) {
        r.feasible = false;
        r.reason = "greedy folding reaches at most " + core::fixed(r.eval.fps, 1) +
                   " fps < target " + core::fixed(options.target_fps, 1) +
                   (r.reason.empty() ? "" : "; " + r.reason);
      }
    } else {
      hw::GreedyResult g = hw::greedy_fastest_fit(net, device, options.cost);
      r.configs = g.configs;
      finish(r, net, device, options);
      if (!g.fits) r.reason = "even the fully folded greedy design does not fit: " + r.reason;
    }
    r.stats.seconds = elapsed();
    return r;
  }

  // hao map's own program ties each MVAU/VVAU to its activation, so it may also split their
  // thresholds off into a Thresholding node (FINN's separate-thresholds builds).
  hw::DataflowOptions space = options.cost;
  space.split_threshold_choice = true;
  FoldingProblem problem = make_folding_problem(net, device, space);
  for (const auto& c : problem.candidates) r.candidates += c.size();
  if (options.target_fps > 0) {
    r.target_ii_cycles = ii_for_fps(device, options.target_fps);
    if (r.target_ii_cycles < problem.min_ii_cycles) {
      r.reason =
          "target " + core::fixed(options.target_fps, 1) + " fps is above the input link's " +
          core::fixed(device.clock_mhz * 1e6 / static_cast<double>(problem.min_ii_cycles), 1) +
          " fps (" + core::fixed(device.offchip_gbps, 1) + " GB/s)";
      r.stats.status = SolveStatus::kInfeasible;
      return r;
    }
    FoldingSolution s = minimize_resources(problem, r.target_ii_cycles, options.solve);
    r.stats = s.stats;
    r.stats.seconds = elapsed();
    if (!s.has_solution()) {
      FoldingSolution fastest = minimize_ii_bisect(problem, options.solve);
      r.reason = "no configuration reaches " + core::fixed(options.target_fps, 1) + " fps on " +
                 device.name;
      if (fastest.has_solution())
        r.reason +=
            "; the fastest that fits reaches " +
            core::fixed(device.clock_mhz * 1e6 / static_cast<double>(fastest.ii_cycles), 1) +
            " fps";
      else
        r.reason += ": " + explain_infeasible(problem, net, device);
      return r;
    }
    r.configs = configs_of(problem, s.choice);
    finish(r, net, device, options);
  } else {
    // Warm start from the greedy design when it fits: a valid incumbent and an upper bound.
    hw::GreedyResult g = hw::greedy_fastest_fit(net, device, options.cost);
    std::vector<int> start;
    if (g.fits) {
      std::vector<hw::Candidate> given;
      for (std::size_t l = 0; l < net.layers.size(); ++l)
        given.push_back(
            {g.configs[l], hw::layer_cost(net.layers[l], g.configs[l], device, options.cost)});
      start = start_choice(problem, given);
    }
    FoldingSolution s =
        minimize_ii_bisect(problem, options.solve, start.empty() ? nullptr : &start);
    r.stats = s.stats;
    r.stats.seconds = elapsed();
    if (!s.has_solution()) {
      r.reason = s.stats.status == SolveStatus::kInfeasible
                     ? explain_infeasible(problem, net, device)
                     : s.stats.message;
      return r;
    }
    r.configs = configs_of(problem, s.choice);
    finish(r, net, device, options);
  }
  if (options.pareto_points > 0 && r.feasible)
    r.pareto = pareto_sweep(problem, device.clock_mhz, r.eval.ii_cycles, options.pareto_points,
                            options.solve);
  r.stats.seconds = elapsed();
  return r;
}

}  // namespace hao::ilp
