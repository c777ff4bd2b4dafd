#include "cli/sensitivity_command.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/app.hpp"
#include "cli/common.hpp"
#include "cli/options.hpp"
#include "core/error.hpp"
#include "core/text.hpp"
#include "report/table.hpp"
#if HAO_HAS_TORCH
#include "nn/ir_module.hpp"
#include "nn/sensitivity.hpp"
#include "nn/train.hpp"
#endif

namespace hao::cli {

CLI::App* add_sensitivity_command(CLI::App& app, SensitivityArgs& a) {
  CLI::App* cmd = app.add_subcommand(
      "sensitivity",
      "Each weighted layer's Hessian trace of the training loss (Hutchinson's estimator: "
      "Rademacher probes, Hessian-vector products by double backward) and, per candidate "
      "bit-width b, Omega(b) = Tr(H)/n * ||Q_b(W) - W||^2 (HAWQ-V3), written as JSON for bit "
      "allocation. With --curvature fisher, the Fisher information's trace instead (labels drawn "
      "from the model, one plain backward per probe): never negative, cheaper, for networks far "
      "from a minimum. With --curvature measured, no curvature: per layer, bit-width and operand, "
      "the validation loss increase after --recovery-steps quantization-aware steps with only "
      "that operand quantized (what QAT cannot repair; one short run each, minutes).");
  cmd->add_option("model", a.model,
                  "Network: ONNX, hao description, a search space's network SPACE:LABEL or a "
                  "genotype nb201:ARCH / autoshrink:CELL (built for --data's images, as hao train "
                  "built it) (default: built-in)");
  cmd->add_option("--checkpoint", a.checkpoint, "Trained weights (hao train --out)")->required();
  cmd->add_option("--out", a.out, "JSON file to write ('-' = stdout)")->required();
  cmd->add_option("--curvature", a.curvature,
                  "hessian (HAWQ-V3), fisher, or measured: no curvature, the validation loss "
                  "each layer's weights and input cost at each bit-width after a short "
                  "quantization-aware run (one run per layer, width and operand)")
      ->check(CLI::IsMember({"hessian", "fisher", "measured"}))
      ->capture_default_str();
  cmd->add_option("--data", a.data, "Data set, as for hao train")->capture_default_str();
  cmd->add_option("--batches", a.batches, "Training batches the loss is taken over")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  cmd->add_option("--batch-size", a.batch_size)->check(CLI::Range(1, 65536))->capture_default_str();
  cmd->add_option("--iterations", a.iterations, "Probes at most")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->add_option("--tolerance", a.tolerance,
                  "Stop when every trace's running mean moves less than this (relative)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd->add_option("--bits-choices", a.bits, "Bit-widths to price, e.g. 2,4,8")
      ->delimiter(',')
      ->check(CLI::Range(2, 8))
      ->capture_default_str();
  cmd->add_option("--recovery-steps", a.recovery_steps,
                  "With --curvature measured: quantization-aware steps before each measurement "
                  "(0: none, post-training)")
      ->check(CLI::Range(0, 100000))
      ->capture_default_str();
  add_seed_option(*cmd, a.seed, "the probes (and the measured runs' training)");
  add_threads_option(*cmd, a.threads, "the probes and runs");
  add_batchnorm_option(*cmd, a.batchnorm);
  cmd->footer("Exit codes: 0 written, 1 built without LibTorch, 2 bad input.");
  return cmd;
}

#if HAO_HAS_TORCH
namespace {

nn::Curvature curvature_of(const std::string& name) {
  return name == "fisher"     ? nn::Curvature::Fisher
         : name == "measured" ? nn::Curvature::Measured
                              : nn::Curvature::Hessian;
}

// "measured 3/25 runs" or "curvature: 12/100 probes", on one line that ends with the last.
std::function<void(int, int)> runs_progress(std::ostream& err, nn::Curvature c) {
  const bool measured = c == nn::Curvature::Measured;
  return [&err, measured](int done, int total) {
    err << (measured ? "\rmeasured " : "\rcurvature: ") << done << "/" << total
        << (measured ? " runs" : " probes") << (done == total ? "\n" : "") << std::flush;
  };
}

}  // namespace

int run_sensitivity(const SensitivityArgs& a, std::ostream& out, std::ostream& err) {
  const data::DataSet ds = data::load_dataset(a.data);
  const ir::Network net = load_model(a.model, err, {}, nullptr, images_of(ds));
  nn::IrNet model(
      nn::with_training_norms(net, nn::parse_training_norms(a.batchnorm, "--batchnorm")));
  nn::load_checkpoint(model, a.checkpoint);
  nn::SensitivityOptions o;
  o.curvature = curvature_of(a.curvature);
  o.batches = a.batches, o.batch_size = a.batch_size, o.max_iterations = a.iterations;
  o.min_iterations = std::min(10, a.iterations);
  o.tolerance = a.tolerance, o.bits = a.bits, o.seed = a.seed, o.threads = a.threads;
  o.recovery_steps = a.recovery_steps;
  o.progress = runs_progress(err, o.curvature);
  const bool measured = o.curvature == nn::Curvature::Measured;
  const nn::SensitivityResult r = nn::layer_sensitivity(model, ds, o);
  const std::string json = nn::sensitivity_json(model, r, o).dump(2) + "\n";
  if (a.out == "-") {
    out << json;
  } else {
    core::write_file(a.out, json);
    report::Table t;
    t.add_column("layer", report::Table::Align::kLeft);
    t.add_column("params");
    if (!measured) t.add_column("trace");
    for (int b : a.bits) t.add_column("Omega(" + std::to_string(b) + ")");
    for (int b : a.bits) t.add_column("Omega_a(" + std::to_string(b) + ")");
    for (const auto& l : r.layers) {
      std::vector<std::string> row = {net.layers[l.layer].name, core::with_commas(l.params)};
      if (!measured) row.push_back(core::fixed(l.trace, 4));
      for (double v : l.omega) row.push_back(core::fixed(v, 6));
      for (double v : l.omega_act) row.push_back(core::fixed(v, 6));
      t.add_row(row);
    }
    out << t.render();
    if (measured)
      out << "validation loss increases after " << a.recovery_steps
          << " quantization-aware steps each";
    else
      out << r.iterations << " probes"
          << (r.converged ? " (converged within " + core::fixed(100 * a.tolerance, 1) + "%)"
                          : " (iteration limit reached before the tolerance)");
    out << "; written to " << a.out << "\n";
  }
  if (!r.converged)
    err << "hao: note: the traces did not settle within --tolerance after " << r.iterations
        << " probes\n";
  return kExitOk;
}
nlohmann::ordered_json measure_sensitivity(const ir::Network& net, const std::string& checkpoint,
                                           const std::string& data, const std::vector<int>& bits,
                                           const std::string& curvature, int probes, int threads,
                                           const std::string& batchnorm, std::ostream& err) {
  nn::IrNet model(nn::with_training_norms(net, nn::parse_training_norms(batchnorm, "--batchnorm")));
  nn::load_checkpoint(model, checkpoint);
  const data::DataSet ds = data::load_dataset(data);
  nn::SensitivityOptions o;
  o.curvature = curvature_of(curvature);
  o.bits = bits, o.threads = threads, o.max_iterations = probes;
  o.min_iterations = std::min(o.min_iterations, probes);
  o.progress = runs_progress(err, o.curvature);
  return nn::sensitivity_json(model, nn::layer_sensitivity(model, ds, o), o);
}

QatOutcome finetune_at_bits(const ir::Network& net, const std::string& checkpoint,
                            const std::string& data, int qat_epochs, std::size_t subset,
                            unsigned seed, int threads, const std::string& batchnorm,
                            const std::string& save_to, std::ostream& err) {
  const data::DataSet ds = data::load_dataset(data);
  nn::TrainOptions o;
  o.epochs = 0, o.qat_epochs = qat_epochs, o.seed = seed, o.threads = threads;
  o.subset = subset;
  nn::seed_torch(seed);
  nn::IrNet model(nn::with_training_norms(net, nn::parse_training_norms(batchnorm, "--batchnorm")));
  nn::load_checkpoint(model, checkpoint);
  long last_quarter = 0;
  const nn::TrainResult r = nn::train(model, ds, o, [&](const nn::Progress& p) {
    const long quarter = p.epoch_done ? 0 : 4 * p.step / std::max<long>(1, p.steps);
    if (p.epoch_done || quarter > last_quarter)
      err << "QAT epoch " << p.epoch << "/" << p.epochs << ": "
          << (p.epoch_done ? "validation accuracy " + core::fixed(100 * p.val_accuracy, 2) + "%"
                           : std::to_string(p.step) + "/" + std::to_string(p.steps) +
                                 " batches, ETA " + clock_text(p.eta_s))
          << "\n";
    last_quarter = quarter;
  });
  if (!save_to.empty()) nn::save_checkpoint(model, save_to);
  return {r.float_test_accuracy, r.val_accuracy, r.test_accuracy, r.seconds};
}
#else
nlohmann::ordered_json measure_sensitivity(const ir::Network&, const std::string&,
                                           const std::string&, const std::vector<int>&,
                                           const std::string&, int, int, const std::string&,
                                           std::ostream&) {
  throw std::runtime_error(
      "this hao was built without LibTorch, so it cannot measure sensitivities: install "
      "libtorch-dev and rebuild, or pass --sensitivity FILE");
}

QatOutcome finetune_at_bits(const ir::Network&, const std::string&, const std::string&, int,
                            std::size_t, unsigned, int, const std::string&, const std::string&,
                            std::ostream&) {
  throw std::runtime_error(
      "this hao was built without LibTorch, so it cannot fine-tune: install libtorch-dev and "
      "rebuild");
}

int run_sensitivity(const SensitivityArgs&, std::ostream&, std::ostream& err) {
  err << "hao: this hao was built without LibTorch: install libtorch-dev and rebuild\n";
  return kExitFailure;
}
#endif

}  // namespace hao::cli
