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
#include "nn/ir_module.hpp"
#include "nn/train.hpp"
#endif

namespace hao::cli {

CLI::App* add_train_command(CLI::App& app, TrainArgs& a) {
  CLI::App* cmd = app.add_subcommand(
      "train",
      "Train a network on an image data set with LibTorch on the CPU: SGD (Nesterov momentum) "
      "or AdamW, linear warm-up then cosine decay, label smoothing. Decisions use a validation "
      "split of the training set; the test set is only reported.");
  cmd->add_option(
      "model", a.model,
      "Network: ONNX, hao description or a genotype: nb201:ARCH (a NAS-Bench-201 cell, live "
      "edges only) or autoshrink:CELL, in its macro network built for the data set's images "
      "and classes; or a search space's network SPACE:LABEL as hao search labels it (e.g. a "
      "study's checkpoint with --init and --epochs 0). Default: the built-in MobileNetV2-like "
      "Fashion-MNIST example (examples/fmnist_mbv2.yaml)");
  cmd->add_option("--data", a.data,
                  "fashion-mnist (Debian's dataset-fashion-mnist), idx:DIR (MNIST-format IDX "
                  "files, plain or .gz) or cifar10:DIR (CIFAR-10 binary batches)")
      ->capture_default_str();
  cmd->add_option("--epochs", a.epochs,
                  "Passes over the training images. 0 with trained weights (--init, or an ONNX "
                  "file that carries them): with --qat-epochs, fine-tune at the bits only; "
                  "without, measure the network as it is")
      ->check(CLI::Range(0, 10000))
      ->capture_default_str();
  cmd->add_option("--steps", a.steps, "Train this many batches instead of whole epochs")
      ->check(positive_number());
  cmd->add_option("--batch-size", a.batch_size)->check(CLI::Range(1, 65536))->capture_default_str();
  cmd->add_option("--optimizer", a.optimizer)
      ->check(CLI::IsMember({"sgd", "adam"}))
      ->capture_default_str();
  cmd->add_option("--lr", a.lr, "Peak learning rate (default 0.1 for sgd, 0.002 for adam)")
      ->check(positive_number());
  cmd->add_option("--label-smoothing", a.label_smoothing)
      ->check(CLI::Range(0.0, 0.99))
      ->capture_default_str();
  add_seed_option(*cmd, a.seed, "the initialization, shuffling and the validation split");
  cmd->add_option("--validation", a.validation, "Training images held out for validation")
      ->capture_default_str();
  cmd->add_option("--subset", a.subset, "Train on this many images only (short runs)");
  add_threads_option(*cmd, a.threads, "training");
  add_batchnorm_option(*cmd, a.batchnorm);
  cmd->add_option("--init", a.init, "Start from this checkpoint (of the same network)");
  cmd->add_flag("--from-scratch", a.from_scratch,
                "Initialize at random even when the ONNX file carries weights "
                "(export_params=True; by default training starts from them, with any batch "
                "norm it adds starting as the identity)");
  cmd->add_option("--bits", a.bits,
                  "Bit-widths for quantization-aware training: wXaY for every layer (X, Y in "
                  "2..8, or 16+ for float), or a YAML/JSON file mapping layer names to wXaY. "
                  "Default: the model's");
  cmd->add_option("--qat-epochs", a.qat_epochs,
                  "After the float epochs, train this many epochs with weights (per channel) "
                  "and activations (per tensor) fake-quantized at the bits; reports accuracy at "
                  "float and at the bits")
      ->check(CLI::Range(0, 10000));
  cmd->add_option("--qat-steps", a.qat_steps,
                  "This many quantization-aware batches instead of --qat-epochs")
      ->check(positive_number());
  cmd->add_option("--out", a.out, "Write the trained weights to this checkpoint");
  add_json_option(*cmd, a.json, "the metrics");
  cmd->footer(
      "Exit codes: 0 trained, 1 built without LibTorch or an internal failure, 2 bad input "
      "(data files, shapes, checkpoint).\nExample: hao train --epochs 3 --out fmnist.pt");
  return cmd;
}

#if HAO_HAS_TORCH
int run_train(const TrainArgs& a, std::ostream& out, std::ostream& err) {
  ir::WeightSet weights;
  const data::DataSet ds = data::load_dataset(a.data);
  const ir::Network net = load_model(
      a.model, err, a.bits, a.init.empty() && !a.from_scratch ? &weights : nullptr, images_of(ds));
  nn::TrainOptions o;
  o.epochs = a.epochs, o.steps = a.steps, o.batch_size = a.batch_size;
  o.optimizer = a.optimizer == "adam" ? nn::Optimizer::kAdam : nn::Optimizer::kSgd;
  o.lr = a.lr, o.label_smoothing = a.label_smoothing, o.seed = a.seed;
  o.validation = a.validation, o.subset = a.subset, o.threads = a.threads;
  o.qat_epochs = a.qat_epochs, o.qat_steps = a.qat_steps;
  nn::seed_torch(a.seed);
  nn::IrNet model(
      nn::with_training_norms(net, nn::parse_training_norms(a.batchnorm, "--batchnorm")));
  if (!a.init.empty()) nn::load_checkpoint(model, a.init);
  const bool measure_only = a.epochs == 0 && a.steps == 0 && a.qat_epochs == 0 && a.qat_steps == 0;
  for (const auto& note : weights.notes) err << "hao: note: " << note << "\n";
  if (!weights.empty()) {
    nn::load_weights(model, weights);
    err << "starting from the weights in " << a.model
        << " (--from-scratch ignores them; fine-tuning usually wants a lower --lr)\n";
  }
  if (measure_only && a.init.empty() && weights.empty())
    throw core::InputError(
        "--epochs 0 measures trained weights: give --init CKPT, an ONNX file that carries "
        "weights, or --qat-epochs");

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
  err << (measure_only ? "measuring " : "training ") << net.name << " on " << ds.name << " ("
      << ds.train.size() << " images, " << o.validation << " held out for validation"
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
  if (!r.epochs.empty()) out << t.render();
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
    j["macs"] = net.total_macs();
    j["params"] = net.total_params_trained();
    j["data"] = ds.name;
    j["seed"] = a.seed;
    j["batch_size"] = a.batch_size;
    j["optimizer"] = a.optimizer;
    j["qat_epochs"] = a.qat_epochs;
    j["qat_steps"] = a.qat_steps;
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
#else
int run_train(const TrainArgs&, std::ostream&, std::ostream& err) {
  err << "hao: this hao was built without LibTorch: install libtorch-dev and rebuild "
         "(scripts/setup.sh does both)\n";
  return kExitFailure;
}
#endif

}  // namespace hao::cli
