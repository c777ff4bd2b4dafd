#include "report/quantize_report.hpp"

#include <algorithm>

#include "core/text.hpp"
#include "report/engine_report.hpp"
#include "report/scatter_svg.hpp"
#include "report/summary.hpp"
#include "report/table.hpp"

namespace hao::report {
namespace {

// Counts of each choice among the chosen layers: "w2a2 x5, w4a4 x9".
std::string mix_text(const ilp::QuantizeResult& q, const std::vector<ir::BitWidths>& choices) {
  std::vector<std::string> parts;
  for (std::size_t c = 0; c < choices.size(); ++c) {
    const auto n = std::count(q.bits.begin(), q.bits.end(), static_cast<int>(c));
    if (n > 0) parts.push_back(ilp::bits_name(choices[c]) + " x" + std::to_string(n));
  }
  return core::join(parts, ", ");
}

// Per chosen layer its bits and Omega (the engine template's table lists steps, not layers).
std::string bits_table(const ilp::QuantizeSpec& spec, const ilp::QuantizeResult& q) {
  Table t;
  t.add_column("layer", Table::Align::kLeft);
  t.add_column("bits", Table::Align::kLeft);
  t.add_column("Omega");
  for (std::size_t l = 0; l < q.network.layers.size(); ++l) {
    const ir::Layer& layer = q.network.layers[l];
    if (!layer.has_weights()) continue;
    const bool chosen = q.bits[l] >= 0;
    t.add_row({layer.name,
               ilp::bits_name({layer.weight_bits, layer.act_bits}) + (chosen ? "" : " (kept)"),
               chosen ? core::fixed(spec.omega[l][static_cast<std::size_t>(q.bits[l])], 6) : ""});
  }
  return t.render();
}

ilp::EngineMapResult as_engine_result(const ilp::QuantizeResult& q) {
  ilp::EngineMapResult r;
  r.design = q.engine;
  r.eval = q.engine_eval;
  r.feasible = q.feasible;
  r.reason = q.reason;
  r.stats = q.stats;
  r.variables = q.variables;
  return r;
}

std::string engine_design_text(const hw::Device& device, const ilp::QuantizeSpec& spec,
                               const ilp::QuantizeResult& q) {
  std::string s = bits_table(spec, q);
  s +=
      "bits      " + mix_text(q, spec.choices) + "; summed Omega " + core::fixed(q.omega, 6) + "\n";
  s += engine_text(q.network, device, as_engine_result(q));
  return s;
}

}  // namespace

std::string dataflow_design_text(const ir::Network& net, const hw::Device& device,
                                 const ilp::QuantizeSpec& spec, const ilp::QuantizeResult& q) {
  Table t;
  t.add_column("layer", Table::Align::kLeft);
  t.add_column("op", Table::Align::kLeft);
  t.add_column("bits", Table::Align::kLeft);
  t.add_column("Omega");
  t.add_column("SIMD");
  t.add_column("PE");
  t.add_column("MAC", Table::Align::kLeft);
  t.add_column("weights", Table::Align::kLeft);
  t.add_column("cycles");
  t.add_column("DSP");
  t.add_column("LUT");
  t.add_column("BRAM36");
  for (std::size_t l = 0; l < net.layers.size(); ++l) {
    const ir::Layer& layer = q.network.layers[l];
    const hw::LayerConfig& c = q.configs[l];
    const hw::LayerCost& cost = q.dataflow.layers[l];
    const bool chosen = q.bits[l] >= 0;
    t.add_row({layer.name, ir::op_name(layer.op),
               ilp::bits_name({layer.weight_bits, layer.act_bits}) + (chosen ? "" : " (kept)"),
               chosen ? core::fixed(spec.omega[l][static_cast<std::size_t>(q.bits[l])], 6) : "",
               std::to_string(c.simd), std::to_string(c.pe),
               layer.has_weights() ? hw::to_string(c.mac) : "",
               layer.has_weights() ? hw::to_string(c.memory) : "", core::with_commas(cost.cycles),
               core::fixed(cost.res.dsp, 1), core::with_commas(static_cast<long>(cost.res.lut)),
               core::fixed(cost.res.bram36, 1)});
  }
  const hw::Resources cap = device.usable();
  std::string s = t.render();
  s +=
      "bits      " + mix_text(q, spec.choices) + "; summed Omega " + core::fixed(q.omega, 6) + "\n";
  s += "speed     " + core::fixed(q.fps, 1) + " fps (II " +
       core::with_commas(q.dataflow.ii_cycles) + " cycles), latency " +
       core::fixed(q.latency_ms, 3) + " ms\n";
  s += "resources DSP " + core::fixed(q.used.dsp, 1) + "/" + core::fixed(cap.dsp, 0) + " (" +
       percent(q.used.dsp, cap.dsp) + "), LUT " + count(q.used.lut) + "/" + count(cap.lut) + " (" +
       percent(q.used.lut, cap.lut) + "), BRAM36 " + core::fixed(q.used.bram36, 1) + "/" +
       core::fixed(cap.bram36, 0) + " (" + percent(q.used.bram36, cap.bram36) + ")\n";
  s += "solver    " + ilp::status_text(q.stats) + ", " + core::fixed(q.stats.seconds, 2) + " s, " +
       std::to_string(q.variables) + " options\n";
  return s;
}

nlohmann::ordered_json quantize_json(const ir::Network& net, const hw::Device& device,
                                     const ilp::QuantizeSpec& spec, const ilp::QuantizeResult& q,
                                     bool engine) {
  nlohmann::ordered_json j;
  j["feasible"] = q.feasible;
  j["status"] = ilp::to_string(q.stats.status);
  if (!q.feasible) {
    j["reason"] = q.reason;
    return j;
  }
  j["fps"] = q.fps;
  j["latency_ms"] = q.latency_ms;
  if (!engine) j["ii_cycles"] = q.dataflow.ii_cycles;
  j["omega"] = q.omega;
  j["resources"] = resources_json(q.used);
  j["solve_seconds"] = q.stats.seconds;
  j["layers"] = nlohmann::ordered_json::array();
  for (std::size_t l = 0; l < net.layers.size(); ++l) {
    const ir::Layer& layer = q.network.layers[l];
    // The engine's layers run as the steps below; the dataflow's each have an engine.
    if (engine && !layer.has_weights()) continue;
    nlohmann::ordered_json e{{"name", layer.name},
                             {"weight_bits", layer.weight_bits},
                             {"act_bits", layer.act_bits},
                             {"chosen", q.bits[l] >= 0}};
    if (q.bits[l] >= 0) e["omega"] = spec.omega[l][static_cast<std::size_t>(q.bits[l])];
    if (!engine) {
      e["simd"] = q.configs[l].simd;
      e["pe"] = q.configs[l].pe;
      e["mac"] = hw::to_string(q.configs[l].mac);
      e["memory"] = hw::to_string(q.configs[l].memory);
      e["cycles"] = q.dataflow.layers[l].cycles;
      e["resources"] = resources_json(q.dataflow.layers[l].res);
    }
    j["layers"].push_back(e);
  }
  if (engine) j["engine"] = engine_json(q.network, device, as_engine_result(q));
  return j;
}

std::string bits_yaml(const ilp::QuantizeResult& q) {
  std::string s = "# bits chosen by hao quantize (summed Omega " + core::fixed(q.omega, 6) + ", " +
                  core::fixed(q.fps, 1) + " fps)\n";
  for (const auto& l : q.network.layers)
    if (l.has_weights()) s += l.name + ": " + ilp::bits_name({l.weight_bits, l.act_bits}) + "\n";
  return s;
}

std::string quantize_text(const ir::Network& net, const hw::Device& device,
                          const ilp::QuantizeSpec& spec, const ilp::QuantizeResult& q,
                          bool engine) {
  return network_line(net) + device_line(device) +
         (engine ? engine_design_text(device, spec, q)
                 : dataflow_design_text(net, device, spec, q));
}

std::string sweep_text(const ir::Network& net, const hw::Device& device,
                       const ilp::QuantizeSpec& spec,
                       const std::vector<ilp::Quantizer::SweepPoint>& points) {
  Table t;
  t.add_column("target fps");
  t.add_column("fps");
  t.add_column("summed Omega");
  t.add_column("DSP");
  t.add_column("LUT");
  t.add_column("BRAM36");
  t.add_column("bits", Table::Align::kLeft);
  for (const auto& [f, q] : points)
    if (q.feasible)
      t.add_row({core::fixed(f, 1), core::fixed(q.fps, 1), core::fixed(q.omega, 6),
                 core::fixed(q.used.dsp, 1), count(q.used.lut), core::fixed(q.used.bram36, 1),
                 mix_text(q, spec.choices)});
  return network_line(net) + device_line(device) + t.render();
}

std::string sweep_svg(const ir::Network& net, const hw::Device& device,
                      const std::vector<ilp::Quantizer::SweepPoint>& points,
                      const std::string& template_name) {
  ScatterSeries series{"program 3 (" + device.name + ")", {}, {}, "#1f77b4"};
  for (const auto& [f, q] : points)
    if (q.feasible) series.x.push_back(q.fps), series.y.push_back(q.omega);
  return plot_svg({series}, "Bit allocation: sensitivity against speed",
                  net.name + " on " + device.name + ", " + template_name + " template",
                  "frames per second", "summed Omega (lower is more accurate)",
                  PlotStyle{false, false, true, 4});
}

nlohmann::ordered_json sweep_json(const ir::Network& net, const hw::Device& device,
                                  const ilp::QuantizeSpec& spec,
                                  const std::vector<ilp::Quantizer::SweepPoint>& points,
                                  bool engine) {
  nlohmann::ordered_json j;
  j["network"] = network_json(net);
  j["device"] = device_json(device);
  j["sweep"] = nlohmann::ordered_json::array();
  for (const auto& [f, q] : points) {
    if (!q.feasible) continue;
    nlohmann::ordered_json p = quantize_json(net, device, spec, q, engine);
    p["target_fps"] = f;
    j["sweep"].push_back(p);
  }
  return j;
}

}  // namespace hao::report
