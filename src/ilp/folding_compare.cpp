#include "ilp/folding_compare.hpp"

#include <cmath>

#include "hw/greedy_folding.hpp"

namespace hao::ilp {

FoldingComparison compare_with_folding(const ir::Network& net, const hw::Device& device,
                                       const hw::FoldingFile& file, const MapOptions& options) {
  FoldingComparison c;
  MapOptions fastest = options;
  fastest.target_fps = 0;
  fastest.pareto_points = 0;
  c.given = evaluate_given(net, device, file.configs, fastest, file.extras);
  c.given.node_names = file.node_names;

  // The budget: the file's resources less its extras', on a device that may use all of it.
  hw::Resources extras;
  for (const auto& e : file.extras) extras += e.cost.res;
  const hw::Resources& used = c.given.eval.total;
  auto floor_of = [](double v) { return static_cast<std::int64_t>(std::floor(v + 1e-9)); };
  hw::Device budget = device;
  budget.name = device.name + " within the folding file's resources";
  budget.dsp = floor_of(used.dsp - extras.dsp);
  budget.lut = floor_of(used.lut - extras.lut);
  budget.bram36 = floor_of(used.bram36 - extras.bram36);
  budget.uram = floor_of(used.uram - extras.uram);
  budget.usable_fraction = 1.0;
  c.budget = budget.usable();

  const MapResult solved = map_dataflow(net, budget, fastest);
  if (solved.configs.empty()) {
    c.optimal = solved;
  } else {
    c.optimal = evaluate_given(net, device, solved.configs, fastest, file.extras);
    c.optimal.method = solved.method;
    c.optimal.stats = solved.stats;
    c.optimal.candidates = solved.candidates;
    c.optimal.node_names =
        hw::finn_node_names(net, c.optimal.configs, device, options.cost, file.extras);
  }

  c.set_folding = evaluate_given(net, device, hw::greedy_fold(net, c.given.eval.ii_cycles + 1),
                                 fastest, file.extras);
  c.set_folding.method = MapMethod::kGreedy;
  c.set_folding.node_names =
      hw::finn_node_names(net, c.set_folding.configs, device, options.cost, file.extras);
  return c;
}

}  // namespace hao::ilp
