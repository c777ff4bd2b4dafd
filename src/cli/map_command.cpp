#include "cli/map_command.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>

#include "cli/app.hpp"
#include "cli/common.hpp"
#include "cli/options.hpp"
#include "core/error.hpp"
#include "core/json_file.hpp"
#include "core/text.hpp"
#include "hw/folding_io.hpp"
#include "ir/genotype.hpp"
#include "predict/calibration.hpp"
#include "report/dataflow_report.hpp"
#include "report/engine_report.hpp"

namespace hao::cli {

CLI::App* add_map_command(CLI::App& app, MapArgs& a) {
  CLI::App* cmd = app.add_subcommand(
      "map",
      "Find the accelerator for a network on a device: per-layer parallelism (SIMD, PE), MAC "
      "mapping (DSP or LUT), resources, II, fps and latency. The default method solves an "
      "integer program with CBC and proves the design optimal (fastest that fits, then the "
      "leanest at that speed).");
  cmd->add_option("model", a.model,
                  "Network: ONNX (.onnx), hao description (.yaml, .yml, .json), a genotype "
                  "nb201:ARCH or autoshrink:CELL (a cell in its macro network, 32x32x3) or a "
                  "search space's network SPACE:LABEL (as hao search labels it, at its bits). "
                  "Default: the built-in MobileNetV2-like Fashion-MNIST example "
                  "(examples/fmnist_mbv2.yaml)");
  add_device_options(*cmd, a.device);
  cmd->add_option("--template", a.template_name,
                  "dataflow: FINN's accelerator, each layer its FINN nodes (window unit, "
                  "MVAU/VVAU with thresholds, pooling, add), frames stream through all, "
                  "weights on chip; engine: one set of engines runs the layers in turn with "
                  "weights and feature maps in DDR (HAO/DPU-like)")
      ->check(CLI::IsMember({"dataflow", "engine"}))
      ->capture_default_str();
  cmd->add_option("--bits", a.bits,
                  "Bit-widths: wXaY for every layer (X, Y in 1..16, e.g. w4a4), or a YAML/JSON "
                  "file mapping layer names to wXaY. Default: the model's (8 for ONNX)");
  cmd->add_option(
         "--target-fps", a.target_fps,
         "Frames per second to reach with the least resources (default: fastest that fits)")
      ->check(positive_number());
  cmd->add_option("--method", a.method,
                  "ilp: exact (CBC); greedy: FINN's SetFolding rule, resource-blind, bisected "
                  "to the fastest design that fits")
      ->check(CLI::IsMember({"ilp", "greedy"}))
      ->capture_default_str();
  cmd->add_option("--folding", a.folding_in,
                  "Evaluate this FINN folding_config.json instead of searching");
  cmd->add_flag(
      "--compare", a.compare,
      "With --folding: also find hao's fastest design within the file's resources "
      "and fold the network with FINN's SetFolding for the file's speed, and show "
      "the three side by side (--json: all three; --folding-out: hao's, without the file's "
      "FIFOs, which FINN sizes again for a new folding)");
  cmd->add_option("--time-limit", a.time_limit_s,
                  "Solver time limit in seconds; the best design found and its gap are reported")
      ->check(positive_number())
      ->capture_default_str();
  cmd->add_option("--pareto", a.pareto_points,
                  "Also trace the fps-resource Pareto front over this many speed targets")
      ->check(CLI::Range(0, 200));
  add_json_option(*cmd, a.json_out, "the full result");
  cmd->add_option("--folding-out", a.folding_out, "Write a FINN-style folding_config.json");
  cmd->add_option("--latency-model", a.latency_model,
                  "engine template: also predict the latency with this calibrated model "
                  "(hao calibrate --kind engine|lut --out MODEL.json)");
  cmd->add_flag("--no-fusion", a.no_fusion,
                "engine template: run every layer on its own (no fused expand -> depthwise -> "
                "project chains)");
  cmd->footer(
      "Exit codes: 0 a design that fits, 2 bad input, 3 no configuration fits the device or "
      "reaches the target (the reason names the layer, resource and numbers).\n"
      "Examples:\n  hao map mobilenet_v2.onnx --device zu9eg --bits w4a4 --json out.json\n"
      "  hao map mobilenet_v2.onnx --template engine --device zu3eg\n"
      "  hao map net.onnx --template engine --device examples/devices/zcu102_dpu_b4096.yaml\n"
      "  hao map cnv.onnx --device xc7z020 --bits bits.yaml --folding folding_config.json "
      "--compare");
  return cmd;
}

namespace {

int run_map_engine(const MapArgs& a, const ir::Network& net, const hw::Device& device,
                   std::ostream& out, std::ostream& err) {
  if (a.method != "ilp")
    throw core::InputError("--method " + a.method + " applies to --template dataflow only");
  if (!a.folding_in.empty() || !a.folding_out.empty())
    throw core::InputError("--folding and --folding-out apply to --template dataflow only");
  if (a.pareto_points > 0) throw core::InputError("--pareto applies to --template dataflow only");
  std::optional<report::CalibratedLatency> calibrated;
  if (!a.latency_model.empty()) {
    const nlohmann::json model = core::read_json(a.latency_model);
    const predict::LatencyPredictor predictor = predict::load_predictor(model, a.latency_model);
    std::size_t unknown = 0;
    // A genotype model ("nb201:ARCH") carries the genotype an mlp model reads (an nb201
    // model's: for another, the model's features do not parse it and say so).
    const std::string arch =
        ir::is_genotype_model(a.model) ? a.model.substr(a.model.find(':') + 1) : "";
    const double ms = predictor(net, arch, &unknown);
    if (unknown > 0)
      err << "hao: note: " << a.latency_model << ": " << unknown
          << " layer or block shapes are not in the table; the prediction leaves them out\n";
    calibrated = report::CalibratedLatency{a.latency_model, ms};
  }
  ilp::EngineMapOptions options;
  options.solve.time_limit_s = a.time_limit_s;
  options.fusion = !a.no_fusion;
  const ilp::EngineMapResult result = ilp::map_engine(net, device, options);
  out << report::engine_text(net, device, result, calibrated);
  if (!a.json_out.empty())
    write_output(a.json_out, report::engine_json(net, device, result, calibrated).dump(2) + "\n",
                 out);
  if (!result.feasible) {
    err << "hao: no feasible configuration: " << result.reason << "\n";
    return kExitInfeasible;
  }
  if (a.target_fps > 0 && result.eval.fps + 1e-9 < a.target_fps) {
    err << "hao: the fastest engine design reaches " << core::fixed(result.eval.fps, 1)
        << " fps < target " << core::fixed(a.target_fps, 1) << " fps\n";
    return kExitInfeasible;
  }
  return kExitOk;
}

// --folding FILE --compare: the file's design, hao's optimum within its resources and FINN's
// SetFolding at its speed. The exit code is the file's design's.
int run_compare(const MapArgs& a, const ir::Network& net, const hw::Device& device,
                const hw::FoldingFile& file, const ilp::MapOptions& options, std::ostream& out) {
  const ilp::FoldingComparison c = ilp::compare_with_folding(net, device, file, options);
  out << report::dataflow_text(net, device, c.given);
  out << report::comparison_text(device, c);
  if (!a.json_out.empty())
    write_output(a.json_out, report::comparison_json(net, device, c).dump(2) + "\n", out);
  if (!a.folding_out.empty() && !c.optimal.configs.empty()) {
    // The file's FIFOs and width converters were sized for the file's folding: FINN sizes them
    // again for hao's (step_set_fifo_depths), so they are left out.
    std::vector<hw::NamedNode> kept;
    for (const auto& e : c.optimal.eval.extras)
      if (e.cost.op != hw::FinnOp::kFifo && e.cost.op != hw::FinnOp::kDataWidthConverter)
        kept.push_back(e);
    write_output(
        a.folding_out,
        hw::folding_json(net, c.optimal.configs, device, options.cost, c.optimal.node_names, kept),
        out);
  }
  return c.given.feasible ? kExitOk : kExitInfeasible;
}

}  // namespace

int run_map(const MapArgs& a, std::ostream& out, std::ostream& err) {
  const ir::Network net = load_model(a.model, err, a.bits);
  const hw::Device device = a.device.load();

  if (a.template_name == "engine") return run_map_engine(a, net, device, out, err);
  if (!a.latency_model.empty() || a.no_fusion)
    throw core::InputError(std::string(a.no_fusion ? "--no-fusion" : "--latency-model") +
                           " applies to --template engine only");

  ilp::MapOptions options;
  options.method = a.method == "greedy" ? ilp::MapMethod::kGreedy : ilp::MapMethod::kIlp;
  options.target_fps = a.target_fps;
  options.solve.time_limit_s = a.time_limit_s;
  options.pareto_points = a.pareto_points;

  if (a.compare && a.folding_in.empty())
    throw core::InputError("--compare needs a design to compare with: --folding FILE");
  ilp::MapResult result;
  if (!a.folding_in.empty()) {
    hw::FoldingFile file = hw::read_folding(a.folding_in, net, device, options.cost);
    for (const auto& note : file.notes)
      err << "hao: note: " << a.folding_in << ": " << note << "\n";
    if (a.compare) return run_compare(a, net, device, file, options, out);
    result = ilp::evaluate_given(net, device, file.configs, options, file.extras);
    result.node_names = file.node_names;
  } else {
    result = ilp::map_dataflow(net, device, options);
  }

  out << report::dataflow_text(net, device, result);
  if (!a.json_out.empty())
    write_output(a.json_out, report::dataflow_json(net, device, result).dump(2) + "\n", out);
  if (!a.folding_out.empty() && !result.configs.empty())
    write_output(a.folding_out,
                 hw::folding_json(net, result.configs, device, options.cost, result.node_names,
                                  result.eval.extras),
                 out);
  if (!result.feasible) {
    err << "hao: no feasible configuration: " << result.reason << "\n";
    return kExitInfeasible;
  }
  return kExitOk;
}

}  // namespace hao::cli
