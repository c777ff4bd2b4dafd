#include "report/engine_report.hpp"

#include "core/text.hpp"
#include "report/summary.hpp"
#include "report/table.hpp"

namespace hao::report {
namespace {

std::string kib(double bytes) { return core::fixed(bytes / 1024.0, 1); }

std::string tiling_text(const hw::EngineStep& s) {
  std::string t = std::to_string(s.tiling.rows) + " rows";
  if (s.kind == hw::UnitKind::kConv || s.kind == hw::UnitKind::kDepthwise)
    t += " x " + std::to_string(s.tiling.channels) + " ch";
  if (s.kind == hw::UnitKind::kConv) t += s.tiling.weights_outer ? ", w-outer" : ", in-outer";
  return t;
}

std::int64_t step_macs(const ir::Network& net, const hw::EngineStep& s) {
  std::int64_t macs = 0;
  for (int i : s.layers) macs += net.layers[static_cast<std::size_t>(i)].macs();
  return macs;
}

std::string shape_text(const hw::EngineConfig& c) {
  return "conv " + std::to_string(c.shape.pp) + " px x " + std::to_string(c.shape.pi) + " in x " +
         std::to_string(c.shape.po) + " out, depthwise " + std::to_string(c.shape.pp) + " px x " +
         std::to_string(c.dw_lanes) + " ch (" + core::with_commas(c.macs()) + " MACs/cycle)";
}

}  // namespace

std::string engine_text(const ir::Network& net, const hw::Device& device,
                        const ilp::EngineMapResult& r,
                        const std::optional<CalibratedLatency>& calibrated) {
  std::string out = network_line(net) + device_line(device);
  out += "method   " + ilp::to_string(r.method) + ": " + ilp::to_string(r.stats.status) + ", gap " +
         core::fixed(100.0 * r.stats.gap, 2) + "%, " + std::to_string(r.shapes) +
         (r.shapes == 1 ? " engine shape, " : " engine shapes, ") + core::with_commas(r.variables) +
         " tiling variables, " + std::to_string(r.stats.nodes) + " nodes, " +
         core::fixed(r.stats.seconds, 3) + " s\n";
  if (r.design.steps.empty()) {
    out += "\nno feasible configuration (the reason follows on stderr)\n";
    return out;
  }
  const hw::EngineConfig& c = r.design.config;
  out += "engine   " + shape_text(c) + (device.engine_pinned ? ", pinned by the device" : "") +
         "\nbuffers  input " + std::to_string(c.in_bram) + ", weight " +
         std::to_string(c.weight_bram) + ", output " + std::to_string(c.out_bram) + " BRAM36 (" +
         kib(static_cast<double>(c.in_bram) * hw::kBram36Bytes) + " / " +
         kib(static_cast<double>(c.weight_bram) * hw::kBram36Bytes) + " / " +
         kib(static_cast<double>(c.out_bram) * hw::kBram36Bytes) + " KiB), double-buffered\n";
  Table t;
  t.add_column("step", Table::Align::kLeft);
  t.add_column("kind", Table::Align::kLeft);
  t.add_column("out", Table::Align::kLeft);
  t.add_column("MACs");
  t.add_column("tiling", Table::Align::kLeft);
  t.add_column("tiles");
  t.add_column("compute");
  t.add_column("memory");
  t.add_column("binds", Table::Align::kLeft);
  t.add_column("DDR KiB");
  t.add_column("cycles");
  t.add_column("ms");
  double compute = 0, memory = 0;
  for (std::size_t k = 0; k < r.design.steps.size(); ++k) {
    const hw::EngineStep& s = r.design.steps[k];
    const hw::TileCost& cost = r.eval.steps[k];
    const ir::Layer& last = net.layers[static_cast<std::size_t>(s.layers.back())];
    compute += cost.compute_cycles;
    memory += cost.memory_cycles;
    t.add_row({s.name, hw::to_string(s.kind), ir::to_string(last.out),
               core::with_commas(step_macs(net, s)), tiling_text(s), core::with_commas(cost.tiles),
               count(cost.compute_cycles), count(cost.memory_cycles),
               cost.memory_bound() ? "memory" : "compute",
               kib(cost.in_bytes + cost.weight_bytes + cost.out_bytes), count(cost.cycles),
               core::fixed(cost.cycles / (device.clock_mhz * 1e3), 3)});
  }
  t.add_rule();
  t.add_row({"total", "", "", core::with_commas(net.total_macs()), "", "", count(compute),
             count(memory), "", kib(r.eval.bytes), count(r.eval.cycles),
             core::fixed(r.eval.latency_ms, 3)});
  out += "\n" + t.render() + "\n";
  const hw::Resources cap = device.usable();
  Table res;
  res.add_column("", Table::Align::kLeft);
  res.add_column("DSP");
  res.add_column("LUT");
  res.add_column("BRAM36");
  res.add_row(
      {"engine", count(r.eval.total.dsp), count(r.eval.total.lut), count(r.eval.total.bram36)});
  res.add_row({"usable", count(cap.dsp), count(cap.lut), count(cap.bram36)});
  res.add_row({"used", percent(r.eval.total.dsp, cap.dsp), percent(r.eval.total.lut, cap.lut),
               percent(r.eval.total.bram36, cap.bram36)});
  out += res.render() + "\n";
  out += "latency  " + core::fixed(r.eval.latency_ms, 3) +
         " ms at batch 1 = " + core::fixed(r.eval.fps, 1) + " fps at " +
         core::fixed(device.clock_mhz, 0) + " MHz; " + kib(r.eval.bytes / 1024.0) +
         " MiB of DDR traffic per frame\n";
  if (calibrated)
    out += "calibrated  " + core::fixed(calibrated->latency_ms, 3) +
           " ms = " + core::fixed(1000.0 / calibrated->latency_ms, 1) + " fps by " +
           calibrated->model + " (fitted to measurements)\n";
  if (!r.feasible) out += "DOES NOT FIT (the reason follows on stderr)\n";
  return out;
}

nlohmann::ordered_json engine_json(const ir::Network& net, const hw::Device& device,
                                   const ilp::EngineMapResult& r,
                                   const std::optional<CalibratedLatency>& calibrated) {
  using json = nlohmann::ordered_json;
  json j;
  j["network"] = network_json(net);
  j["device"] = device_json(device);
  j["template"] = "engine";
  j["method"] = ilp::to_string(r.method);
  j["status"] = ilp::to_string(r.stats.status);
  j["feasible"] = r.feasible;
  if (!r.reason.empty()) j["reason"] = r.reason;
  j["gap"] = r.stats.gap;
  j["bound_ms"] = r.bound_ms;
  j["solve_seconds"] = r.stats.seconds;
  j["nodes"] = r.stats.nodes;
  j["shapes"] = r.shapes;
  j["variables"] = r.variables;
  if (r.design.steps.empty()) return j;
  const hw::EngineConfig& c = r.design.config;
  j["engine"] = {{"pp", c.shape.pp},
                 {"pi", c.shape.pi},
                 {"po", c.shape.po},
                 {"dw_lanes", c.dw_lanes},
                 {"pinned", device.engine_pinned},
                 {"buffers_bram36",
                  {{"input", c.in_bram}, {"weight", c.weight_bram}, {"output", c.out_bram}}}};
  j["cycles"] = r.eval.cycles;
  j["latency_ms"] = r.eval.latency_ms;
  j["fps"] = r.eval.fps;
  j["ddr_bytes"] = r.eval.bytes;
  if (calibrated)
    j["calibrated"] = {{"model", calibrated->model}, {"latency_ms", calibrated->latency_ms}};
  j["total"] = resources_json(r.eval.total);
  if (!r.eval.over_budget.empty()) j["over_budget"] = r.eval.over_budget;
  json steps = json::array();
  for (std::size_t k = 0; k < r.design.steps.size(); ++k) {
    const hw::EngineStep& s = r.design.steps[k];
    const hw::TileCost& cost = r.eval.steps[k];
    json layers = json::array();
    for (int i : s.layers) layers.push_back(net.layers[static_cast<std::size_t>(i)].name);
    steps.push_back(
        {{"name", s.name},
         {"kind", hw::to_string(s.kind)},
         {"layers", layers},
         {"macs", step_macs(net, s)},
         {"tiling",
          {{"rows", s.tiling.rows},
           {"channels", s.tiling.channels},
           {"weights_outer", s.tiling.weights_outer}}},
         {"tiles", cost.tiles},
         {"compute_cycles", cost.compute_cycles},
         {"memory_cycles", cost.memory_cycles},
         {"prologue_cycles", cost.prologue_cycles},
         {"overhead_cycles", cost.overhead_cycles},
         {"cycles", cost.cycles},
         {"binds", cost.memory_bound() ? "memory" : "compute"},
         {"bytes",
          {{"input", cost.in_bytes}, {"weight", cost.weight_bytes}, {"output", cost.out_bytes}}},
         {"buffer_bytes",
          {{"input", cost.need_in}, {"weight", cost.need_weight}, {"output", cost.need_out}}}});
  }
  j["steps"] = steps;
  return j;
}

}  // namespace hao::report
