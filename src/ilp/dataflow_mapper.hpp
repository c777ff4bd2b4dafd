// `hao map` for the dataflow template: the optimal (or greedy, or given) folding of a
// network on a device, evaluated.
#pragma once

#include <string>
#include <vector>

#include "hw/dataflow.hpp"
#include "ilp/folding_program.hpp"

namespace hao::ilp {

enum class MapMethod { kIlp, kGreedy, kGiven };
std::string to_string(MapMethod m);

struct MapOptions {
  MapMethod method = MapMethod::kIlp;
  double target_fps = 0;  ///< 0: the fastest design that fits; else the leanest at this fps
  int pareto_points = 0;  ///< > 0: also sweep the fps-resource front with this many targets
  SolveOptions solve;
  hw::DataflowOptions cost;
};

struct MapResult {
  MapMethod method = MapMethod::kIlp;
  std::vector<hw::LayerConfig> configs;  ///< empty when nothing fits
  hw::DataflowEval eval;
  /// The ILP's statistics; kNotSolved for greedy and given designs (seconds still counts).
  SolveStats stats;
  std::size_t candidates = 0;         ///< configurations the ILP chose among
  std::int64_t target_ii_cycles = 0;  ///< with a target fps
  bool feasible = false;              ///< a design exists and fits the device
  std::string reason;                 ///< why not, naming layer, resource and numbers
  std::vector<ParetoPoint> pareto;
  /// FINN's name for each layer's nodes where a folding file gave them (else empty: the
  /// report uses hw::finn_node_names).
  std::vector<std::vector<std::string>> node_names;
};

/// Maps `net` on `device`. Expected negative outcomes (nothing fits, target unreachable) come
/// back as feasible = false with a reason; bad options throw core::InputError.
MapResult map_dataflow(const ir::Network& net, const hw::Device& device, const MapOptions& options);

/// Evaluates a given folding (e.g. read from FINN's folding_config.json).
MapResult evaluate_given(const ir::Network& net, const hw::Device& device,
                         const std::vector<hw::LayerConfig>& configs, const MapOptions& options,
                         const std::vector<hw::NamedNode>& extras = {});

}  // namespace hao::ilp
