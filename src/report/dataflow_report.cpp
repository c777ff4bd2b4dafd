#include "report/dataflow_report.hpp"

#include "core/text.hpp"
#include "hw/folding_io.hpp"
#include "report/summary.hpp"
#include "report/table.hpp"

namespace hao::report {
namespace {

// Each layer's FINN node names: the folding file's where it gave them, else FINN's defaults.
std::vector<std::vector<std::string>> node_names(const ir::Network& net, const hw::Device& device,
                                                 const ilp::MapResult& r) {
  return r.node_names.empty() ? hw::finn_node_names(net, r.configs, device) : r.node_names;
}

// Every FINN node of the design: the input quantizer, each layer's nodes, the other extras.
std::string node_table(const ir::Network& net, const hw::Device& device, const ilp::MapResult& r) {
  const auto names = node_names(net, device, r);
  Table t;
  t.add_column("FINN node", Table::Align::kLeft);
  t.add_column("layer", Table::Align::kLeft);
  t.add_column("PE");
  t.add_column("SIMD");
  t.add_column("cycles");
  t.add_column("DSP");
  t.add_column("LUT");
  t.add_column("BRAM36");
  auto row = [&](const std::string& name, const std::string& layer, const hw::NodeCost& n) {
    const bool simd_only = !hw::folds_with_pe(n.op);
    const bool both = n.op == hw::FinnOp::kMvau || n.op == hw::FinnOp::kVvau;
    t.add_row({name, layer, simd_only ? "-" : std::to_string(n.pe),
               simd_only || both ? std::to_string(n.simd) : "-", core::with_commas(n.cycles),
               count(n.res.dsp), count(n.res.lut), count(n.res.bram36)});
  };
  for (const auto& e : r.eval.extras)
    if (e.cost.op == hw::FinnOp::kThresholding) row(e.name, "(input)", e.cost);
  for (std::size_t i = 0; i < net.layers.size(); ++i)
    for (std::size_t k = 0; k < r.eval.layers[i].nodes.size(); ++k)
      row(k < names[i].size() ? names[i][k] : "?", net.layers[i].name, r.eval.layers[i].nodes[k]);
  for (const auto& e : r.eval.extras)
    if (e.cost.op != hw::FinnOp::kThresholding) row(e.name, "-", e.cost);
  return t.render();
}

}  // namespace

std::string dataflow_text(const ir::Network& net, const hw::Device& device,
                          const ilp::MapResult& r) {
  std::string out;
  out += network_line(net);
  out += device_line(device);
  out += "method   " + ilp::to_string(r.method);
  if (r.method == ilp::MapMethod::kIlp)
    out += ": " + ilp::to_string(r.stats.status) + ", gap " + core::fixed(100.0 * r.stats.gap, 2) +
           "%, " + std::to_string(r.candidates) + " candidate configurations, " +
           std::to_string(r.stats.nodes) + " nodes";
  out += ", " + core::fixed(r.stats.seconds, 3) + " s\n";
  if (r.configs.empty()) {
    out += "\nno feasible configuration (the reason follows on stderr)\n";
    return out;
  }
  const bool uram = device.uram > 0;
  Table t;
  t.add_column("layer", Table::Align::kLeft);
  t.add_column("op", Table::Align::kLeft);
  t.add_column("out", Table::Align::kLeft);
  t.add_column("bits");
  t.add_column("MACs");
  t.add_column("SIMD");
  t.add_column("PE");
  t.add_column("MACs on");
  t.add_column("weights in");
  t.add_column("cycles");
  t.add_column("DSP");
  t.add_column("LUT");
  t.add_column("BRAM36");
  if (uram) t.add_column("URAM");
  for (std::size_t i = 0; i < net.layers.size(); ++i) {
    const ir::Layer& l = net.layers[i];
    const hw::LayerCost& c = r.eval.layers[i];
    const hw::LayerConfig& k = r.configs[i];
    const bool weighted = l.has_weights();
    std::string op = l.op == ir::OpKind::kAct ? ir::act_name(l.act) : ir::op_name(l.op);
    if (l.is_depthwise()) op = "dwconv";
    const std::string marker = static_cast<int>(i) == r.eval.bottleneck ? " *" : "";
    std::vector<std::string> row = {
        l.name + marker,
        op,
        ir::to_string(l.out),
        weighted ? "w" + std::to_string(l.weight_bits) + "a" + std::to_string(l.act_bits)
                 : "a" + std::to_string(l.act_bits),
        weighted ? core::with_commas(l.macs()) : "-",
        std::to_string(k.simd),
        std::to_string(k.pe),
        weighted ? hw::to_string(k.mac) : "-",
        weighted ? hw::to_string(k.memory) : "-",
        core::with_commas(c.cycles),
        count(c.res.dsp),
        count(c.res.lut),
        count(c.res.bram36)};
    if (uram) row.push_back(count(c.res.uram));
    t.add_row(row);
  }
  t.add_rule();
  const hw::Resources cap = device.usable();
  std::vector<std::string> total = {"total",
                                    "",
                                    "",
                                    "",
                                    core::with_commas(net.total_macs()),
                                    "",
                                    "",
                                    "",
                                    "",
                                    core::with_commas(r.eval.ii_cycles) + " II",
                                    count(r.eval.total.dsp),
                                    count(r.eval.total.lut),
                                    count(r.eval.total.bram36)};
  std::vector<std::string> usable = {
      "usable",         "", "", "", "", "", "", "", "", "", count(cap.dsp), count(cap.lut),
      count(cap.bram36)};
  std::vector<std::string> share = {"used",
                                    "",
                                    "",
                                    "",
                                    "",
                                    "",
                                    "",
                                    "",
                                    "",
                                    "",
                                    percent(r.eval.total.dsp, cap.dsp),
                                    percent(r.eval.total.lut, cap.lut),
                                    percent(r.eval.total.bram36, cap.bram36)};
  if (uram) {
    total.push_back(count(r.eval.total.uram));
    usable.push_back(count(cap.uram));
    share.push_back(percent(r.eval.total.uram, cap.uram));
  }
  t.add_row(total);
  t.add_row(usable);
  t.add_row(share);
  out += "\n" + t.render() + "\n";
  if (r.method == ilp::MapMethod::kGiven) out += "\n" + node_table(net, device, r) + "\n";
  const std::string bottleneck =
      r.eval.extra_bottleneck >= 0
          ? "node " + r.eval.extras[static_cast<std::size_t>(r.eval.extra_bottleneck)].name
      : r.eval.bottleneck < 0
          ? "the input link (" + core::with_commas(r.eval.input_transfer_cycles) +
                " cycles per frame)"
          : "'" + net.layers[static_cast<std::size_t>(r.eval.bottleneck)].name + "' (marked *)";
  out += "II " + core::with_commas(r.eval.ii_cycles) + " cycles = " + core::fixed(r.eval.fps, 1) +
         " fps at " + core::fixed(device.clock_mhz, 0) + " MHz; batch-1 latency " +
         core::fixed(r.eval.latency_ms, 3) + " ms; bottleneck " + bottleneck + "\n";
  if (r.target_ii_cycles > 0)
    out += "target   " +
           core::fixed(device.clock_mhz * 1e6 / static_cast<double>(r.target_ii_cycles), 1) +
           " fps (II <= " + core::with_commas(r.target_ii_cycles) + " cycles)\n";
  if (!r.feasible) out += "DOES NOT FIT (the reason follows on stderr)\n";
  if (!r.pareto.empty()) {
    Table p;
    p.add_column("fps");
    p.add_column("II cycles");
    p.add_column("DSP");
    p.add_column("LUT");
    p.add_column("BRAM36");
    if (uram) p.add_column("URAM");
    for (const auto& pt : r.pareto) {
      std::vector<std::string> row = {core::fixed(pt.fps, 1), core::with_commas(pt.ii_cycles),
                                      count(pt.used.dsp), count(pt.used.lut),
                                      count(pt.used.bram36)};
      if (uram) row.push_back(count(pt.used.uram));
      p.add_row(row);
    }
    out += "\nfps-resource Pareto front (least resources for each speed):\n" + p.render();
  }
  return out;
}

nlohmann::ordered_json dataflow_json(const ir::Network& net, const hw::Device& device,
                                     const ilp::MapResult& r) {
  using json = nlohmann::ordered_json;
  json j;
  j["network"] = network_json(net);
  j["device"] = device_json(device);
  j["template"] = "dataflow";
  j["method"] = ilp::to_string(r.method);
  j["status"] = ilp::to_string(r.stats.status);
  j["feasible"] = r.feasible;
  if (!r.reason.empty()) j["reason"] = r.reason;
  j["gap"] = r.stats.gap;
  j["solve_seconds"] = r.stats.seconds;
  j["nodes"] = r.stats.nodes;
  j["candidates"] = r.candidates;
  if (r.target_ii_cycles > 0) j["target_ii_cycles"] = r.target_ii_cycles;
  if (r.configs.empty()) return j;
  j["ii_cycles"] = r.eval.ii_cycles;
  j["fps"] = r.eval.fps;
  j["latency_cycles"] = r.eval.latency_cycles;
  j["latency_ms"] = r.eval.latency_ms;
  j["input_transfer_cycles"] = r.eval.input_transfer_cycles;
  j["bottleneck"] = r.eval.extra_bottleneck >= 0
                        ? r.eval.extras[static_cast<std::size_t>(r.eval.extra_bottleneck)].name
                    : r.eval.bottleneck < 0
                        ? std::string("input")
                        : net.layers[static_cast<std::size_t>(r.eval.bottleneck)].name;
  j["total"] = resources_json(r.eval.total);
  if (!r.eval.over_budget.empty()) j["over_budget"] = r.eval.over_budget;
  json layers = json::array();
  for (std::size_t i = 0; i < net.layers.size(); ++i) {
    const ir::Layer& l = net.layers[i];
    const hw::LayerCost& c = r.eval.layers[i];
    const hw::LayerConfig& k = r.configs[i];
    layers.push_back({{"name", l.name},
                      {"op", l.op == ir::OpKind::kAct ? ir::act_name(l.act) : ir::op_name(l.op)},
                      {"depthwise", l.is_depthwise()},
                      {"in", {l.in.c, l.in.h, l.in.w}},
                      {"out", {l.out.c, l.out.h, l.out.w}},
                      {"weight_bits", l.weight_bits},
                      {"act_bits", l.act_bits},
                      {"macs", l.macs()},
                      {"simd", k.simd},
                      {"pe", k.pe},
                      {"mac_mapping", hw::to_string(k.mac)},
                      {"weight_memory", hw::to_string(k.memory)},
                      {"cycles", c.cycles},
                      {"resources", resources_json(c.res)}});
  }
  j["layers"] = layers;
  json nodes = json::array();
  const auto names = node_names(net, device, r);
  auto node_json = [&](const std::string& name, const std::string& layer, const hw::NodeCost& n) {
    nodes.push_back({{"name", name},
                     {"layer", layer},
                     {"pe", n.pe},
                     {"simd", n.simd},
                     {"cycles", n.cycles},
                     {"resources", resources_json(n.res)}});
  };
  for (std::size_t i = 0; i < net.layers.size(); ++i)
    for (std::size_t k = 0; k < r.eval.layers[i].nodes.size(); ++k)
      node_json(k < names[i].size() ? names[i][k] : "?", net.layers[i].name,
                r.eval.layers[i].nodes[k]);
  for (const auto& e : r.eval.extras) node_json(e.name, "", e.cost);
  j["finn_nodes"] = nodes;
  if (!r.pareto.empty()) {
    json front = json::array();
    for (const auto& pt : r.pareto)
      front.push_back(
          {{"fps", pt.fps}, {"ii_cycles", pt.ii_cycles}, {"resources", resources_json(pt.used)}});
    j["pareto"] = front;
  }
  return j;
}

}  // namespace hao::report

namespace hao::report {

std::string comparison_text(const hw::Device& device, const ilp::FoldingComparison& c) {
  const bool uram = device.uram > 0;
  Table t;
  t.add_column("design", Table::Align::kLeft);
  t.add_column("II cycles");
  t.add_column("fps");
  t.add_column("x file");
  t.add_column("DSP");
  t.add_column("LUT");
  t.add_column("BRAM36");
  if (uram) t.add_column("URAM");
  t.add_column("fits " + device.name, Table::Align::kLeft);
  auto row = [&](const std::string& name, const ilp::MapResult& r) {
    if (r.configs.empty()) {
      std::vector<std::string> cells = {name, "-", "-", "-", "-", "-", "-"};
      if (uram) cells.push_back("-");
      cells.push_back("no design: " + r.reason);
      t.add_row(cells);
      return;
    }
    std::vector<std::string> cells = {name,
                                      core::with_commas(r.eval.ii_cycles),
                                      core::fixed(r.eval.fps, 1),
                                      core::fixed(r.eval.fps / c.given.eval.fps, 3),
                                      count(r.eval.total.dsp),
                                      count(r.eval.total.lut),
                                      count(r.eval.total.bram36)};
    if (uram) cells.push_back(count(r.eval.total.uram));
    cells.push_back(r.eval.fits() ? "yes" : "no (" + core::join(r.eval.over_budget, "; ") + ")");
    t.add_row(cells);
  };
  row("FINN folding file", c.given);
  row("hao optimal, same resources", c.optimal);
  row("FINN SetFolding, same II", c.set_folding);
  std::string out = "\n" + t.render();
  out += "hao optimal: the fastest design whose layers use at most DSP " + count(c.budget.dsp) +
         ", LUT " + count(c.budget.lut) + ", BRAM36 " + count(c.budget.bram36) +
         (uram ? ", URAM " + count(c.budget.uram) : std::string()) +
         "\n             (the file's, less its nodes outside the layers, kept in all three); " +
         ilp::to_string(c.optimal.stats.status) + ", " + core::fixed(c.optimal.stats.seconds, 2) +
         " s\nSetFolding:  FINN v0.10.1's rule for target_cycles_per_frame = the file's II + 1\n";
  return out;
}

nlohmann::ordered_json comparison_json(const ir::Network& net, const hw::Device& device,
                                       const ilp::FoldingComparison& c) {
  nlohmann::ordered_json j;
  j["folding_file"] = dataflow_json(net, device, c.given);
  j["optimal_budget"] = resources_json(c.budget);
  j["optimal"] = dataflow_json(net, device, c.optimal);
  j["set_folding"] = dataflow_json(net, device, c.set_folding);
  return j;
}

}  // namespace hao::report
