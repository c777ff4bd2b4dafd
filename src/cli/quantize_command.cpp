#include "cli/quantize_command.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli/app.hpp"
#include "cli/common.hpp"
#include "cli/options.hpp"
#include "cli/train_command.hpp"
#include "core/error.hpp"
#include "core/json_file.hpp"
#include "core/text.hpp"
#include "hw/folding_io.hpp"
#include "ilp/quantize.hpp"
#include "ir/sensitivity_file.hpp"
#include "report/engine_report.hpp"
#include "report/scatter_svg.hpp"
#include "report/summary.hpp"
#include "report/table.hpp"

namespace hao::cli {

CLI::App* add_quantize_command(CLI::App& app, QuantizeArgs& a) {
  CLI::App* cmd = app.add_subcommand(
      "quantize",
      "Choose each layer's bit-width together with the accelerator (program 3): minimize the "
      "summed sensitivity Omega over the layers (HAWQ-V3's Tr(H)/n ||Q_b(W) - W||^2 with "
      "--curvature hessian or fisher, a measured validation-loss increase with measured), "
      "plus the same term for each layer's input activations at the choice's activation bits, "
      "subject to a speed target and the device's resources, by one integer program (CBC).");
  cmd->add_option("model", a.model,
                  "Network: ONNX or hao description. Default: the built-in Fashion-MNIST example");
  add_device_options(*cmd, a.device);
  cmd->add_option("--template", a.template_name,
                  "dataflow: one engine per layer (FINN-like); the bits decide each engine's "
                  "multipliers and weight memory. engine: one set of engines built for the "
                  "widest choice runs the layers in turn; the bits decide the DDR traffic and "
                  "buffer space")
      ->check(CLI::IsMember({"dataflow", "engine"}))
      ->capture_default_str();
  cmd->add_option("--fps", a.fps, "Frames per second the design must reach")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--latency-ms", a.latency_ms,
                  "Batch-1 latency the design must meet (dataflow: II plus pipeline fill; the "
                  "II target is tightened until the fill fits too)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--sensitivity", a.sensitivity,
                  "Omega per layer and bit-width: the JSON of hao sensitivity for this network");
  cmd->add_option("--checkpoint", a.checkpoint,
                  "Trained weights (hao train --out): measure the sensitivity from them (when "
                  "no --sensitivity) and start --qat-epochs from them");
  cmd->add_option("--data", a.data,
                  "Data set for the sensitivity and fine-tuning, as for hao train")
      ->capture_default_str();
  cmd->add_option("--bits-choices", a.bits_choices,
                  "Bit-widths a layer may take: N (weights and activations) or wXaY, each 2..8")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--tie", a.ties,
                  "Layers that must share a bit-width, comma-separated (repeat for more groups)");
  cmd->add_flag("--all-layers", a.all_layers,
                "Also choose the first and last weighted layers' bits (default: they keep the "
                "model's)");
  cmd->add_option("--max-weight-kib", a.max_weight_kib,
                  "Also bound the model size (weights at their bits), KiB")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-mbops", a.max_mbops,
                  "Also bound the bit operations (MACs x weight bits x activation bits), millions")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--sweep", a.sweep,
                "Trace summed Omega against fps from the most accurate design to the fastest");
  cmd->add_option("--sweep-points", a.sweep_points, "Speed targets of the sweep")
      ->check(CLI::Range(2, 100))
      ->capture_default_str();
  cmd->add_option("--plot", a.plot, "Write the sweep's plot (SVG) here")
      ->default_str("quantize_sweep.svg");
  cmd->add_option("--qat-epochs", a.qat_epochs,
                  "Fine-tune --checkpoint at the chosen bits for this many epochs and report "
                  "the test accuracy")
      ->check(CLI::Range(0, 1000));
  cmd->add_option("--subset", a.subset, "Fine-tune on this many training images only");
  cmd->add_option("--probes", a.probes,
                  "Hutchinson probes when measuring the sensitivity from --checkpoint")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->add_option("--curvature", a.curvature,
                  "How to measure the sensitivity from --checkpoint: hessian, fisher or measured "
                  "(as hao sensitivity --curvature; measured takes minutes)")
      ->check(CLI::IsMember({"hessian", "fisher", "measured"}))
      ->capture_default_str();
  add_seed_option(*cmd, a.seed, "the fine-tuning");
  add_threads_option(*cmd, a.threads, "sensitivity and fine-tuning");
  add_json_option(*cmd, a.json_out, "the result");
  cmd->add_option("--bits-out", a.bits_out,
                  "Write the chosen bits as a YAML file for hao train/map --bits");
  cmd->add_option("--time-limit", a.time_limit_s, "Solver time limit per program, seconds")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->footer(
      "Exit codes: 0 a design, 1 internal failure or no LibTorch for --checkpoint work, 2 bad "
      "input, 3 no allocation reaches the target (the fastest reachable is named).\n"
      "Examples:\n"
      "  hao sensitivity --checkpoint f.pt --out s.json\n"
      "  hao quantize --sensitivity s.json --bits-choices 2,4,8 --fps 20000 --bits-out b.yaml\n"
      "  hao quantize --sensitivity s.json --bits-choices 2,4,8 --sweep --plot sweep.svg");
  return cmd;
}

namespace {

std::vector<ir::BitWidths> parse_choices(const std::vector<std::string>& tokens) {
  std::vector<ir::BitWidths> out;
  for (const auto& t : tokens) {
    ir::BitWidths b;
    std::int64_t n = 0;
    if (core::parse_int(t, n)) {
      b.weight_bits = b.act_bits = static_cast<int>(n);
    } else if (!ir::parse_bit_widths(t, "--bits-choices", b)) {
      throw core::InputError("--bits-choices: '" + t + "' is neither N nor wXaY");
    }
    for (int v : {b.weight_bits, b.act_bits})
      if (v < 2 || v > 8)
        throw core::InputError("--bits-choices: '" + t + "' has " + std::to_string(v) +
                               " bits, outside 2..8");
    for (const auto& o : out)
      if (o.weight_bits == b.weight_bits && o.act_bits == b.act_bits)
        throw core::InputError("--bits-choices: '" + t + "' is given twice");
    out.push_back(b);
  }
  if (out.empty()) throw core::InputError("--bits-choices: no bit-widths");
  return out;
}

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
  report::Table t;
  t.add_column("layer", report::Table::Align::kLeft);
  t.add_column("bits", report::Table::Align::kLeft);
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
  s += report::engine_text(q.network, device, as_engine_result(q));
  return s;
}

std::string design_text(const ir::Network& net, const hw::Device& device,
                        const ilp::QuantizeSpec& spec, const ilp::QuantizeResult& q) {
  report::Table t;
  t.add_column("layer", report::Table::Align::kLeft);
  t.add_column("op", report::Table::Align::kLeft);
  t.add_column("bits", report::Table::Align::kLeft);
  t.add_column("Omega");
  t.add_column("SIMD");
  t.add_column("PE");
  t.add_column("MAC", report::Table::Align::kLeft);
  t.add_column("weights", report::Table::Align::kLeft);
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
       report::percent(q.used.dsp, cap.dsp) + "), LUT " + report::count(q.used.lut) + "/" +
       report::count(cap.lut) + " (" + report::percent(q.used.lut, cap.lut) + "), BRAM36 " +
       core::fixed(q.used.bram36, 1) + "/" + core::fixed(cap.bram36, 0) + " (" +
       report::percent(q.used.bram36, cap.bram36) + ")\n";
  s += "solver    " + ilp::status_text(q.stats) + ", " + core::fixed(q.stats.seconds, 2) + " s, " +
       std::to_string(q.variables) + " options\n";
  return s;
}

nlohmann::ordered_json design_json(const ir::Network& net, const hw::Device& device,
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
  j["resources"] = report::resources_json(q.used);
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
      e["resources"] = report::resources_json(q.dataflow.layers[l].res);
    }
    j["layers"].push_back(e);
  }
  if (engine) j["engine"] = report::engine_json(q.network, device, as_engine_result(q));
  return j;
}

std::string bits_yaml(const ilp::QuantizeResult& q) {
  std::string s = "# bits chosen by hao quantize (summed Omega " + core::fixed(q.omega, 6) + ", " +
                  core::fixed(q.fps, 1) + " fps)\n";
  for (const auto& l : q.network.layers)
    if (l.has_weights()) s += l.name + ": " + ilp::bits_name({l.weight_bits, l.act_bits}) + "\n";
  return s;
}

int run_sweep(const QuantizeArgs& a, const ir::Network& net, const ilp::Quantizer& quantizer,
              const ilp::QuantizeSpec& spec, std::ostream& out, std::ostream& err) {
  const hw::Device& device = quantizer.device();
  const auto points = quantizer.sweep(
      net, spec, a.sweep_points, [&](int k, double f, const ilp::QuantizeResult& q) {
        err << "sweep " << k + 1 << "/" << a.sweep_points << ": " << core::fixed(f, 1) << " fps"
            << (q.feasible ? ", Omega " + core::fixed(q.omega, 6) : ", " + q.reason) << "\n";
      });
  if (points.empty()) {
    err << "hao: no design fits " << device.name << " at any of the bit choices\n";
    return kExitInfeasible;
  }
  report::Table t;
  t.add_column("target fps");
  t.add_column("fps");
  t.add_column("summed Omega");
  t.add_column("DSP");
  t.add_column("LUT");
  t.add_column("BRAM36");
  t.add_column("bits", report::Table::Align::kLeft);
  nlohmann::ordered_json points_json = nlohmann::ordered_json::array();
  report::ScatterSeries series{"program 3 (" + device.name + ")", {}, {}, "#1f77b4"};
  for (const auto& [f, q] : points) {
    if (!q.feasible) continue;
    t.add_row({core::fixed(f, 1), core::fixed(q.fps, 1), core::fixed(q.omega, 6),
               core::fixed(q.used.dsp, 1), report::count(q.used.lut), core::fixed(q.used.bram36, 1),
               mix_text(q, spec.choices)});
    series.x.push_back(q.fps);
    series.y.push_back(q.omega);
    nlohmann::ordered_json p = design_json(net, device, spec, q, quantizer.engine());
    p["target_fps"] = f;
    points_json.push_back(p);
  }
  out << report::network_line(net) << report::device_line(device) << t.render();
  const std::string plot = a.plot.empty() ? "quantize_sweep.svg" : a.plot;
  core::write_file(
      plot, report::plot_svg({series}, "Bit allocation: sensitivity against speed",
                             net.name + " on " + device.name + ", " + a.template_name + " template",
                             "frames per second", "summed Omega (lower is more accurate)",
                             report::PlotStyle{false, false, true, 4}));
  out << "plot written to " << plot << "\n";
  if (!a.json_out.empty()) {
    nlohmann::ordered_json j;
    j["network"] = report::network_json(net);
    j["device"] = report::device_json(device);
    j["sweep"] = points_json;
    write_output(a.json_out, j.dump(2) + "\n", out);
  }
  return kExitOk;
}

}  // namespace

int run_quantize(const QuantizeArgs& a, std::ostream& out, std::ostream& err) {
  const ir::Network net = load_model(a.model);
  const hw::Device device = a.device.load();
  ilp::QuantizeSpec spec;
  spec.choices = parse_choices(a.bits_choices);
  const std::vector<bool> choosable = ilp::choosable_layers(net, a.all_layers);
  if (a.fps > 0 && a.latency_ms > 0) throw core::InputError("give --fps or --latency-ms, not both");
  if (!a.sweep && a.fps <= 0 && a.latency_ms <= 0)
    throw core::InputError("give a target: --fps F or --latency-ms L (or --sweep)");
  if (a.qat_epochs > 0 && a.checkpoint.empty())
    throw core::InputError("--qat-epochs fine-tunes trained weights: give --checkpoint");
  if (a.sensitivity.empty() && a.checkpoint.empty())
    throw core::InputError(
        "give --sensitivity FILE (from hao sensitivity) or --checkpoint CKPT to measure it");

  std::vector<int> bits;  // weights' and inputs': the file prices both at each
  for (const auto& c : spec.choices)
    for (int b : {c.weight_bits, c.act_bits})
      if (std::find(bits.begin(), bits.end(), b) == bits.end()) bits.push_back(b);
  std::string note;
  if (!a.sensitivity.empty()) {
    spec.omega = ir::read_omega(core::read_json(a.sensitivity), a.sensitivity, net, spec.choices,
                                choosable, note);
  } else {
    err << "measuring the sensitivity of " << net.name << " from " << a.checkpoint << "\n";
    spec.omega = ir::read_omega(
        measure_sensitivity(net, a.checkpoint, a.data, bits, a.curvature, a.probes, a.threads, err),
        a.checkpoint, net, spec.choices, choosable, note);
  }
  if (!note.empty()) err << "hao: note: " << note << "\n";
  spec.ties = ilp::resolve_ties(a.ties, net, choosable, "--tie");
  spec.max_weight_bytes = a.max_weight_kib * 1024;
  spec.max_bops = a.max_mbops * 1e6;
  ilp::SolveOptions solve;
  solve.time_limit_s = a.time_limit_s;
  const ilp::Quantizer quantizer(device,
                                 a.template_name == "engine" ? ilp::QuantizeTemplate::kEngine
                                                             : ilp::QuantizeTemplate::kDataflow,
                                 solve);
  if (a.sweep) return run_sweep(a, net, quantizer, spec, out, err);

  spec.target_fps = a.fps;
  const ilp::QuantizeResult q =
      a.fps > 0 ? quantizer.at_fps(net, spec) : quantizer.at_latency(net, spec, a.latency_ms);
  nlohmann::ordered_json j;
  j["network"] = report::network_json(net);
  j["device"] = report::device_json(device);
  j["template"] = a.template_name;
  j["target"] = a.fps > 0 ? nlohmann::ordered_json{{"fps", a.fps}}
                          : nlohmann::ordered_json{{"latency_ms", a.latency_ms}};
  j["choices"] = nlohmann::ordered_json::array();
  for (const auto& c : spec.choices) j["choices"].push_back(ilp::bits_name(c));
  j["design"] = design_json(net, device, spec, q, quantizer.engine());
  if (!q.feasible) {
    if (!a.json_out.empty()) write_output(a.json_out, j.dump(2) + "\n", out);
    const double fastest = quantizer.fastest(net, spec);
    err << "hao: no bit allocation reaches the target: " << q.reason << "\n";
    if (fastest > 0)
      err << "hao: the fastest design with these bit choices reaches " << core::fixed(fastest, 1)
          << " fps" << (quantizer.engine() ? " (" + core::fixed(1e3 / fastest, 3) + " ms)" : "")
          << "\n";
    return kExitInfeasible;
  }
  out << report::network_line(net) << report::device_line(device)
      << (quantizer.engine() ? engine_design_text(device, spec, q)
                             : design_text(net, device, spec, q));
  if (!a.bits_out.empty()) {
    core::write_file(a.bits_out, bits_yaml(q));
    out << "bits written to " << a.bits_out << "\n";
  }
  if (a.qat_epochs > 0) {
    const QatOutcome r = finetune_at_bits(q.network, a.checkpoint, a.data, a.qat_epochs, a.subset,
                                          a.seed, a.threads, err);
    out << "accuracy  float " << core::fixed(100 * r.float_test_accuracy, 2) << "% -> "
        << core::fixed(100 * r.test_accuracy, 2) << "% test at these bits after " << a.qat_epochs
        << " QAT epoch(s) (validation " << core::fixed(100 * r.val_accuracy, 2) << "%), "
        << core::fixed(r.seconds, 0) << " s\n";
    j["accuracy"] = {{"float_test", r.float_test_accuracy},
                     {"validation", r.val_accuracy},
                     {"test", r.test_accuracy},
                     {"qat_epochs", a.qat_epochs},
                     {"seed", a.seed},
                     {"seconds", r.seconds}};
  }
  if (!a.json_out.empty()) write_output(a.json_out, j.dump(2) + "\n", out);
  return kExitOk;
}

}  // namespace hao::cli
