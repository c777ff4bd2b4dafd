#include "search/engine_target.hpp"

#include <algorithm>
#include <limits>

#include "core/error.hpp"
#include "ir/bits.hpp"
#include "ir/description_io.hpp"

namespace hao::search {

namespace {

std::string shape_text(const hw::EngineShape& s) {
  return "{pp: " + std::to_string(s.pp) + ", pi: " + std::to_string(s.pi) +
         ", po: " + std::to_string(s.po) + "}";
}

}  // namespace

Hardware engine_hardware(const ir::Network& net, const hw::Device& device,
                         const EngineTargetOptions& options) {
  const ilp::EngineMapResult r = ilp::map_engine(net, device, options.map);
  Hardware h;
  h.feasible = r.feasible;
  h.reason = r.reason;
  h.stats = r.stats;
  if (!r.feasible) return h;
  h.latency_ms = options.model ? options.model->predict(net) : r.eval.latency_ms;
  h.fps = 1000.0 / h.latency_ms;
  h.resources = r.eval.total;
  return h;
}

double engine_latency_bound_ms(const ir::Network& net, const hw::Device& device,
                               const EngineTargetOptions& options) {
  if (options.model) return options.model->predict(net);
  const hw::EngineCostOptions& cost = options.map.cost;
  std::vector<hw::EngineConfig> shapes;
  if (device.engine_pinned) {
    hw::EngineConfig pinned;
    pinned.shape = device.engine;
    shapes.push_back(pinned);
  } else {
    shapes = hw::engine_shape_candidates(
        device, std::max(hw::max_weight_bits(net), options.map.datapath_weight_bits),
        std::max(hw::max_act_bits(net), options.map.datapath_act_bits), cost);
  }
  if (shapes.empty()) return kInfeasibleMs;  // no engine fits the device
  const hw::EngineWork work = hw::engine_work(net);
  double cycles = std::numeric_limits<double>::infinity();
  for (const hw::EngineConfig& c : shapes)
    cycles = std::min(cycles, hw::engine_cycles_bound(net, work, c, device, cost));
  return cycles / (device.clock_mhz * 1e3);  // as hw::evaluate_engine converts
}

LatencyTarget engine_target(const NetworkDomain& domain, EngineTargetOptions options) {
  const hw::Device& device = domain.device();
  if (options.model) {
    const std::string& where = options.model_path;
    if (!device.engine_pinned)
      throw core::InputError(where + ": a calibrated model prices the engine it was fitted on " +
                             shape_text(options.model->shape()) + ", and device " + device.name +
                             " pins no engine (a device file's engine: {pp, pi, po}, e.g. "
                             "examples/devices/zcu102_dpu_b4096.yaml)");
    if (!(device.engine == options.model->shape()))
      throw core::InputError(where + ": the model was fitted on the engine " +
                             shape_text(options.model->shape()) + ", and device " + device.name +
                             " pins " + shape_text(device.engine));
  }
  LatencyTarget t;
  t.name = "engine";
  if (options.model) t.settings.emplace_back("latency_model", options.model_path);
  auto shared = std::make_shared<const EngineTargetOptions>(std::move(options));
  t.network = [&domain, shared](const Genotype& g) {
    return engine_hardware(domain.network(g), domain.device(), *shared);
  };
  t.bound_ms = [&domain, shared](const Genotype& g) {
    return engine_latency_bound_ms(domain.network(g), domain.device(), *shared);
  };
  t.part_ms = [&domain, shared](const std::string& description) {
    ir::Network part = ir::parse_description(description, "part");
    ir::derive_elementwise_bits(part);
    const Hardware h = engine_hardware(part, domain.device(), *shared);
    return h.feasible ? h.latency_ms : kInfeasibleMs;
  };
  return t;
}

}  // namespace hao::search
