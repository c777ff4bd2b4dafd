#include "cli/quantize_command.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli/app.hpp"
#include "cli/common.hpp"
#include "cli/export_command.hpp"
#include "cli/options.hpp"
#include "cli/sensitivity_command.hpp"
#include "core/error.hpp"
#include "core/json_file.hpp"
#include "core/text.hpp"
#include "ilp/quantize.hpp"
#include "ir/sensitivity_file.hpp"
#include "report/quantize_report.hpp"
#include "report/summary.hpp"

namespace hao::cli {

namespace fs = std::filesystem;

CLI::App* add_quantize_command(CLI::App& app, QuantizeArgs& a) {
  CLI::App* cmd = app.add_subcommand(
      "quantize",
      "Choose each layer's bit-width together with the accelerator (program 3): minimize the "
      "summed sensitivity Omega over the layers (HAWQ-V3's Tr(H)/n ||Q_b(W) - W||^2 with "
      "--curvature hessian or fisher, a measured validation-loss increase with measured), "
      "plus the same term for each layer's input activations at the choice's activation bits, "
      "subject to a speed target and the device's resources, by one integer program (CBC).");
  cmd->add_option("model", a.model,
                  "Network: ONNX, hao description, a search space's network SPACE:LABEL or a "
                  "genotype nb201:ARCH / autoshrink:CELL (CIFAR-10's images; with --checkpoint, "
                  "--data's, as hao train built it). Default: the built-in Fashion-MNIST example");
  add_device_options(*cmd, a.device);
  cmd->add_option("--template", a.template_name,
                  "dataflow: each layer its FINN nodes (FINN's accelerator); the bits decide each "
                  "layer's "
                  "multipliers and weight memory. engine: one set of engines built for the "
                  "widest choice runs the layers in turn; the bits decide the DDR traffic and "
                  "buffer space")
      ->check(CLI::IsMember({"dataflow", "engine"}))
      ->capture_default_str();
  cmd->add_option("--fps", a.fps, "Frames per second the design must reach")
      ->check(positive_number());
  cmd->add_option("--latency-ms", a.latency_ms,
                  "Batch-1 latency the design must meet (dataflow: II plus pipeline fill; the "
                  "II target is tightened until the fill fits too)")
      ->check(positive_number());
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
      ->check(positive_number());
  cmd->add_option("--max-mbops", a.max_mbops,
                  "Also bound the bit operations (MACs x weight bits x activation bits), millions")
      ->check(positive_number());
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
  add_batchnorm_option(*cmd, a.batchnorm);
  add_json_option(*cmd, a.json_out, "the result");
  cmd->add_option("--bits-out", a.bits_out,
                  "Write the chosen bits as a YAML file for hao train/map --bits");
  cmd->add_option("--export", a.export_dir,
                  "With --qat-epochs: write the fine-tuned design to this new folder as hao "
                  "export does (model.qonnx.onnx, folding_config.json at the target, build.py, "
                  "test vectors), with its checkpoint.pt and bits.yaml");
  cmd->add_option("--time-limit", a.time_limit_s, "Solver time limit per program, seconds")
      ->check(positive_number())
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
  out << report::sweep_text(net, device, spec, points);
  const std::string plot = a.plot.empty() ? "quantize_sweep.svg" : a.plot;
  core::write_file(plot, report::sweep_svg(net, device, points, a.template_name));
  out << "plot written to " << plot << "\n";
  if (!a.json_out.empty())
    write_output(a.json_out,
                 report::sweep_json(net, device, spec, points, quantizer.engine()).dump(2) + "\n",
                 out);
  return kExitOk;
}

}  // namespace

int run_quantize(const QuantizeArgs& a, std::ostream& out, std::ostream& err) {
  // A genotype with a checkpoint: built for the data set it was trained on.
  const ir::Network net =
      load_model(a.model, err, {}, nullptr,
                 a.checkpoint.empty() ? ModelInput{} : model_input(a.model, a.data));
  const hw::Device device = a.device.load();
  ilp::QuantizeSpec spec;
  spec.choices = ilp::parse_bit_choices(a.bits_choices, "--bits-choices");
  const std::vector<bool> choosable = ilp::choosable_layers(net, a.all_layers);
  if (a.fps > 0 && a.latency_ms > 0) throw core::InputError("give --fps or --latency-ms, not both");
  if (!a.sweep && a.fps <= 0 && a.latency_ms <= 0)
    throw core::InputError("give a target: --fps F or --latency-ms L (or --sweep)");
  if (a.qat_epochs > 0 && a.checkpoint.empty())
    throw core::InputError("--qat-epochs fine-tunes trained weights: give --checkpoint");
  if (!a.export_dir.empty()) {
    if (a.qat_epochs < 1 || a.template_name != "dataflow" || a.fps <= 0 || a.sweep)
      throw core::InputError(
          "--export writes the fine-tuned dataflow design at a speed target: give "
          "--checkpoint, --qat-epochs and --fps with --template dataflow (no --sweep)");
    std::error_code ec;
    if (fs::exists(a.export_dir, ec) &&
        (!fs::is_directory(a.export_dir, ec) || !fs::is_empty(a.export_dir, ec)))
      throw core::InputError("--export: " + a.export_dir + " exists and is not an empty folder");
  }
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
    spec.omega = ir::read_omega(measure_sensitivity(net, a.checkpoint, a.data, bits, a.curvature,
                                                    a.probes, a.threads, a.batchnorm, err),
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
  j["design"] = report::quantize_json(net, device, spec, q, quantizer.engine());
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
  out << report::quantize_text(net, device, spec, q, quantizer.engine());
  if (!a.bits_out.empty()) {
    core::write_file(a.bits_out, report::bits_yaml(q));
    out << "bits written to " << a.bits_out << "\n";
  }
  const std::string exported = (fs::path(a.export_dir) / "checkpoint.pt").string();
  if (!a.export_dir.empty()) fs::create_directories(a.export_dir);
  if (a.qat_epochs > 0) {
    const QatOutcome r =
        finetune_at_bits(q.network, a.checkpoint, a.data, a.qat_epochs, a.subset, a.seed, a.threads,
                         a.batchnorm, a.export_dir.empty() ? "" : exported, err);
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
  if (a.export_dir.empty()) return kExitOk;
  ExportArgs e;
  e.model = a.model;
  e.checkpoint = exported;
  e.bits = (fs::path(a.export_dir) / "bits.yaml").string();
  core::write_file(e.bits, report::bits_yaml(q));
  e.out = a.export_dir;
  e.force = true;  // beside the checkpoint and bits just written
  e.data = a.data;
  e.device = a.device;
  e.target_fps = a.fps;
  e.time_limit_s = a.time_limit_s;
  e.batchnorm = a.batchnorm;
  return run_export(e, out, err);
}

}  // namespace hao::cli
