#include "cli/train_command.hpp"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/app.hpp"
#include "cli/common.hpp"
#include "cli/options.hpp"
#include "core/error.hpp"
#include "core/text.hpp"
#include "report/table.hpp"
#if HAO_HAS_TORCH
#include "nn/profile.hpp"
#include "nn/sensitivity.hpp"
#include "nn/train.hpp"
#endif

namespace hao::cli {

CLI::App* add_train_command(CLI::App& app, TrainArgs& a) {
  CLI::App* cmd = app.add_subcommand(
      "train",
      "Train a network on an image data set with LibTorch on the CPU: SGD (Nesterov momentum) "
      "or AdamW, linear warm-up then cosine decay, label smoothing. Decisions use a validation "
      "split of the training set; the test set is only reported.");
  cmd->add_option("model", a.model,
                  "Network: ONNX or hao description. Default: the built-in MobileNetV2-like "
                  "Fashion-MNIST example (examples/fmnist_mbv2.yaml)");
  cmd->add_option("--data", a.data,
                  "fashion-mnist (Debian's dataset-fashion-mnist), idx:DIR (MNIST-format IDX "
                  "files, plain or .gz) or cifar10:DIR (CIFAR-10 binary batches)")
      ->capture_default_str();
  cmd->add_option("--epochs", a.epochs,
                  "Passes over the training images (0 with --init and --qat-epochs: fine-tune "
                  "a trained checkpoint at the bits only)")
      ->check(CLI::Range(0, 10000))
      ->capture_default_str();
  cmd->add_option("--steps", a.steps, "Train this many batches instead of whole epochs")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--batch-size", a.batch_size)->check(CLI::Range(1, 65536))->capture_default_str();
  cmd->add_option("--optimizer", a.optimizer)
      ->check(CLI::IsMember({"sgd", "adam"}))
      ->capture_default_str();
  cmd->add_option("--lr", a.lr, "Peak learning rate (default 0.1 for sgd, 0.002 for adam)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--label-smoothing", a.label_smoothing)
      ->check(CLI::Range(0.0, 0.99))
      ->capture_default_str();
  add_seed_option(*cmd, a.seed, "the initialization, shuffling and the validation split");
  cmd->add_option("--validation", a.validation, "Training images held out for validation")
      ->capture_default_str();
  cmd->add_option("--subset", a.subset, "Train on this many images only (short runs)");
  add_threads_option(*cmd, a.threads, "training");
  cmd->add_option("--init", a.init, "Start from this checkpoint (of the same network)");
  cmd->add_option("--bits", a.bits,
                  "Bit-widths for quantization-aware training: wXaY for every layer (X, Y in "
                  "2..8, or 16+ for float), or a YAML/JSON file mapping layer names to wXaY. "
                  "Default: the model's");
  cmd->add_option("--qat-epochs", a.qat_epochs,
                  "After the float epochs, train this many epochs with weights (per channel) "
                  "and activations (per tensor) fake-quantized at the bits; reports accuracy at "
                  "float and at the bits")
      ->check(CLI::Range(0, 10000));
  cmd->add_option("--out", a.out, "Write the trained weights to this checkpoint");
  add_json_option(*cmd, a.json, "the metrics");
  cmd->footer(
      "Exit codes: 0 trained, 1 built without LibTorch or an internal failure, 2 bad input "
      "(data files, shapes, checkpoint).\nExample: hao train --epochs 3 --out fmnist.pt");
  return cmd;
}

CLI::App* add_profile_command(CLI::App& app, ProfileArgs& a) {
  CLI::App* cmd = app.add_subcommand(
      "profile",
      "Measure a network's batch-1 inference latency on this CPU with LibTorch (float): warm-up "
      "runs, then timed runs (median, spread) and a per-layer breakdown. The host CPU as a "
      "measured hardware target.");
  cmd->add_option("model", a.model, "Network: ONNX or hao description (default: built-in)");
  add_threads_option(*cmd, a.threads, "inference");
  cmd->add_option("--warmup", a.warmup, "Untimed runs first")
      ->check(CLI::Range(0, 100000))
      ->capture_default_str();
  cmd->add_option("--repeats", a.repeats, "Timed runs")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->add_option("--checkpoint", a.checkpoint, "Load these weights first (optional)");
  add_json_option(*cmd, a.json, "the measurements");
  cmd->footer("Exit codes: 0 measured, 1 built without LibTorch, 2 bad input.");
  return cmd;
}

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
  cmd->add_option("model", a.model, "Network: ONNX or hao description (default: built-in)");
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
  cmd->footer("Exit codes: 0 written, 1 built without LibTorch, 2 bad input.");
  return cmd;
}

#if HAO_HAS_TORCH
int run_train(const TrainArgs& a, std::ostream& out, std::ostream& err) {
  const ir::Network net = load_model(a.model, a.bits);
  const data::DataSet ds = data::load_dataset(a.data);
  nn::TrainOptions o;
  o.epochs = a.epochs, o.steps = a.steps, o.batch_size = a.batch_size;
  o.optimizer = a.optimizer == "adam" ? nn::Optimizer::kAdam : nn::Optimizer::kSgd;
  o.lr = a.lr, o.label_smoothing = a.label_smoothing, o.seed = a.seed;
  o.validation = a.validation, o.subset = a.subset, o.threads = a.threads;
  o.qat_epochs = a.qat_epochs;
  nn::seed_torch(a.seed);
  nn::IrNet model(net);
  if (!a.init.empty()) nn::load_checkpoint(model, a.init);

  const bool terminal = &err == &std::cerr && isatty(fileno(stderr));
  long last_quarter = 0;
  auto progress = [&](const nn::Progress& p) {
    const std::string head = "epoch " + std::to_string(p.epoch) + "/" + std::to_string(p.epochs) +
                             (p.quantized ? " (QAT)" : "");
    if (p.epoch_done) {
      last_quarter = 0;
      if (terminal) err << "\r\033[K";
      err << head << ": loss " << core::fixed(p.loss, 4) << ", " << core::fixed(p.images_per_s, 0)
          << " images/s, validation accuracy " << core::fixed(100 * p.val_accuracy, 2) << "%\n";
      return;
    }
    if (!terminal) {
      // Plain lines for logs: one at each quarter of an epoch.
      const long quarter = 4 * p.step / std::max<long>(1, p.steps);
      if (quarter > last_quarter) {
        last_quarter = quarter;
        err << head << ": " << p.step << "/" << p.steps << " batches, "
            << core::fixed(p.images_per_s, 0) << " images/s, loss " << core::fixed(p.loss, 4)
            << ", ETA " << clock_text(p.eta_s) << "\n";
      }
      return;
    }
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(kWidth * p.step / std::max<long>(1, p.steps));
    err << "\r\033[K" << head << " [" << std::string(static_cast<std::size_t>(filled), '=')
        << std::string(static_cast<std::size_t>(kWidth - filled), ' ') << "] " << p.step << "/"
        << p.steps << "  " << core::fixed(p.images_per_s, 0) << " images/s  loss "
        << core::fixed(p.loss, 4) << "  ETA " << clock_text(p.eta_s) << std::flush;
  };
  err << "training " << net.name << " on " << ds.name << " (" << ds.train.size() << " images, "
      << o.validation << " held out for validation"
      << (o.subset ? ", subset " + std::to_string(o.subset) : std::string()) << ")\n";
  const nn::TrainResult r = nn::train(model, ds, o, progress);

  report::Table t;
  t.add_column("epoch");
  t.add_column("kind", report::Table::Align::kLeft);
  t.add_column("loss");
  t.add_column("train acc");
  t.add_column("val acc");
  t.add_column("seconds");
  t.add_column("images/s");
  for (const auto& e : r.epochs)
    t.add_row({std::to_string(e.epoch), e.quantized ? "QAT" : "float", core::fixed(e.train_loss, 4),
               core::fixed(100 * e.train_accuracy, 2) + "%",
               core::fixed(100 * e.val_accuracy, 2) + "%", core::fixed(e.seconds, 1),
               core::fixed(e.images_per_s, 0)});
  out << t.render();
  out << "float:     validation accuracy " << core::fixed(100 * r.float_val_accuracy, 2)
      << "%, test accuracy " << core::fixed(100 * r.float_test_accuracy, 2) << "%\n";
  if (r.quantized)
    out << "quantized: validation accuracy " << core::fixed(100 * r.val_accuracy, 2)
        << "%, test accuracy " << core::fixed(100 * r.test_accuracy, 2) << "% (bits "
        << (a.bits.empty() ? "of the model" : a.bits)
        << "; weights per channel, activations per tensor, batch norm folded)\n";
  out << ds.test.size() << " test images; " << core::fixed(r.seconds, 1) << " s\n";
  if (!a.out.empty()) {
    nn::save_checkpoint(model, a.out);
    out << "checkpoint written to " << a.out << "\n";
  }
  if (!a.json.empty()) {
    nlohmann::ordered_json j;
    j["network"] = net.name;
    j["data"] = ds.name;
    j["seed"] = a.seed;
    j["batch_size"] = a.batch_size;
    j["optimizer"] = a.optimizer;
    j["qat_epochs"] = a.qat_epochs;
    j["epochs"] = nlohmann::ordered_json::array();
    for (const auto& e : r.epochs)
      j["epochs"].push_back({{"epoch", e.epoch},
                             {"quantized", e.quantized},
                             {"train_loss", e.train_loss},
                             {"train_accuracy", e.train_accuracy},
                             {"val_accuracy", e.val_accuracy},
                             {"seconds", e.seconds},
                             {"images_per_s", e.images_per_s}});
    j["float_val_accuracy"] = r.float_val_accuracy;
    j["float_test_accuracy"] = r.float_test_accuracy;
    j["val_accuracy"] = r.val_accuracy;
    j["test_accuracy"] = r.test_accuracy;
    j["seconds"] = r.seconds;
    j["images_per_s"] = r.images_per_s;
    j["steady_images_per_s"] = r.steady_images_per_s;
    write_output(a.json, j.dump(2) + "\n", out);
  }
  return kExitOk;
}
int run_profile(const ProfileArgs& a, std::ostream& out, std::ostream&) {
  const ir::Network net = load_model(a.model);
  nn::seed_torch(1);
  nn::IrNet model(net);
  if (!a.checkpoint.empty()) nn::load_checkpoint(model, a.checkpoint);
  nn::ProfileOptions o;
  o.threads = a.threads, o.warmup = a.warmup, o.repeats = a.repeats;
  const nn::ProfileResult r = nn::profile(model, o);
  out << "network  " << net.name << ": " << net.layers.size() << " layers, "
      << core::fixed(static_cast<double>(net.total_macs()) / 1e6, 1) << " M MACs, input "
      << ir::to_string(net.input) << "\n";
  out << "latency  median " << core::fixed(r.median_ms, 3) << " ms (p10 "
      << core::fixed(r.p10_ms, 3) << ", p90 " << core::fixed(r.p90_ms, 3) << ", min "
      << core::fixed(r.min_ms, 3) << ") = " << core::fixed(1000.0 / r.median_ms, 1)
      << " frames/s at batch 1, " << r.threads << " threads, " << r.repeats << " runs after "
      << a.warmup << " warm-up\n\n";
  report::Table t;
  t.add_column("layer", report::Table::Align::kLeft);
  t.add_column("op", report::Table::Align::kLeft);
  t.add_column("out", report::Table::Align::kLeft);
  t.add_column("MACs");
  t.add_column("median ms");
  t.add_column("share");
  for (const auto& lt : r.layers) {
    const ir::Layer& l = net.layers[lt.layer];
    const std::string op = l.is_depthwise()           ? "dwconv"
                           : l.op == ir::OpKind::kAct ? ir::act_name(l.act)
                                                      : ir::op_name(l.op);
    t.add_row({l.name, op, ir::to_string(l.out),
               l.has_weights() ? core::with_commas(l.macs()) : "-", core::fixed(lt.median_ms, 4),
               core::fixed(100 * lt.median_ms / std::max(1e-12, r.layers_sum_ms), 1) + "%"});
  }
  t.add_rule();
  t.add_row({"sum of layers", "", "", core::with_commas(net.total_macs()),
             core::fixed(r.layers_sum_ms, 4), "100%"});
  out << t.render();
  if (!a.json.empty()) {
    nlohmann::ordered_json j;
    j["network"] = net.name;
    j["threads"] = r.threads;
    j["warmup"] = a.warmup;
    j["repeats"] = r.repeats;
    j["latency_ms"] = {{"median", r.median_ms},
                       {"p10", r.p10_ms},
                       {"p90", r.p90_ms},
                       {"min", r.min_ms},
                       {"mean", r.mean_ms}};
    j["layers"] = nlohmann::ordered_json::array();
    for (const auto& lt : r.layers)
      j["layers"].push_back({{"name", net.layers[lt.layer].name}, {"median_ms", lt.median_ms}});
    j["layers_sum_ms"] = r.layers_sum_ms;
    write_output(a.json, j.dump(2) + "\n", out);
  }
  return kExitOk;
}
namespace {

nn::Curvature curvature_of(const std::string& name) {
  return name == "fisher"     ? nn::Curvature::Fisher
         : name == "measured" ? nn::Curvature::Measured
                              : nn::Curvature::Hessian;
}

std::function<void(int, int)> runs_progress(std::ostream& err) {
  return [&err](int done, int total) {
    err << "\rmeasured " << done << "/" << total << " runs" << (done == total ? "\n" : "")
        << std::flush;
  };
}

}  // namespace

int run_sensitivity(const SensitivityArgs& a, std::ostream& out, std::ostream& err) {
  const ir::Network net = load_model(a.model);
  nn::IrNet model(net);
  nn::load_checkpoint(model, a.checkpoint);
  const data::DataSet ds = data::load_dataset(a.data);
  nn::SensitivityOptions o;
  o.curvature = curvature_of(a.curvature);
  o.batches = a.batches, o.batch_size = a.batch_size, o.max_iterations = a.iterations;
  o.min_iterations = std::min(10, a.iterations);
  o.tolerance = a.tolerance, o.bits = a.bits, o.seed = a.seed, o.threads = a.threads;
  o.recovery_steps = a.recovery_steps;
  o.progress = runs_progress(err);
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
                                           std::ostream& err) {
  nn::IrNet model(net);
  nn::load_checkpoint(model, checkpoint);
  const data::DataSet ds = data::load_dataset(data);
  nn::SensitivityOptions o;
  o.curvature = curvature_of(curvature);
  o.bits = bits, o.threads = threads, o.max_iterations = probes;
  o.min_iterations = std::min(o.min_iterations, probes);
  o.progress = runs_progress(err);
  return nn::sensitivity_json(model, nn::layer_sensitivity(model, ds, o), o);
}

QatOutcome finetune_at_bits(const ir::Network& net, const std::string& checkpoint,
                            const std::string& data, int qat_epochs, std::size_t subset,
                            unsigned seed, int threads, std::ostream& err) {
  const data::DataSet ds = data::load_dataset(data);
  nn::TrainOptions o;
  o.epochs = 0, o.qat_epochs = qat_epochs, o.seed = seed, o.threads = threads;
  o.subset = subset;
  nn::seed_torch(seed);
  nn::IrNet model(net);
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
  return {r.float_test_accuracy, r.val_accuracy, r.test_accuracy, r.seconds};
}
#else
nlohmann::ordered_json measure_sensitivity(const ir::Network&, const std::string&,
                                           const std::string&, const std::vector<int>&,
                                           const std::string&, int, int, std::ostream&) {
  throw std::runtime_error(
      "this hao was built without LibTorch, so it cannot measure sensitivities: install "
      "libtorch-dev and rebuild, or pass --sensitivity FILE");
}

QatOutcome finetune_at_bits(const ir::Network&, const std::string&, const std::string&, int,
                            std::size_t, unsigned, int, std::ostream&) {
  throw std::runtime_error(
      "this hao was built without LibTorch, so it cannot fine-tune: install libtorch-dev and "
      "rebuild");
}

int run_sensitivity(const SensitivityArgs&, std::ostream&, std::ostream& err) {
  err << "hao: this hao was built without LibTorch: install libtorch-dev and rebuild\n";
  return kExitFailure;
}

int run_profile(const ProfileArgs&, std::ostream&, std::ostream& err) {
  err << "hao: this hao was built without LibTorch: install libtorch-dev and rebuild\n";
  return kExitFailure;
}

int run_train(const TrainArgs&, std::ostream&, std::ostream& err) {
  err << "hao: this hao was built without LibTorch: install libtorch-dev and rebuild "
         "(scripts/setup.sh does both)\n";
  return kExitFailure;
}
#endif

}  // namespace hao::cli
