#include "cli/darts_command.hpp"

#include <CLI/CLI.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>
#include <tuple>

#include "cli/app.hpp"
#include "cli/common.hpp"
#include "core/error.hpp"
#include "core/json_file.hpp"
#include "core/text.hpp"
#include "ilp/dataflow_mapper.hpp"
#include "predict/calibration.hpp"
#include "predict/samples.hpp"
#include "report/table.hpp"
#if HAO_HAS_TORCH
#include "nn/darts.hpp"
#endif

namespace hao::cli {

CLI::App* add_darts_command(CLI::App& app, DartsArgs& a) {
  CLI::App* cmd = app.add_subcommand(
      "darts",
      "Latency-aware DARTS on the NAS-Bench-201 cell (Xu et al. 2020): every edge of the cell a "
      "softmax(alpha)-weighted mix of none, skip, conv 1x1, conv 3x3 and avg pool 3x3, one alpha "
      "table for every cell of the macro network; weights (SGD) and alphas (Adam) trained in "
      "alternate first-order steps on two halves of the training images; the alphas' loss is "
      "the cross-entropy plus lambda times the predicted log latency (ms) of softmax(alpha) "
      "from a frozen latency MLP. The cell keeps each edge's strongest operator other than none "
      "(DARTS's derivation; --keep-none for NAS-Bench-201's); it is then "
      "trained standalone in NAS-Bench-201's macro network (five cells per stage) and its "
      "batch-1 latency measured on the host CPU. Several lambdas: one search each, same seed.");
  cmd->add_option("--data", a.data,
                  "fashion-mnist (Debian's dataset-fashion-mnist), idx:DIR or cifar10:DIR")
      ->capture_default_str();
  cmd->add_option("--latency-model", a.latency_model,
                  "The latency term's regressor: hao calibrate --kind mlp --space nb201 "
                  "--encoding onehot (e.g. on nb201/latency_ms.csv's raspi4 column)");
  cmd->add_option("--lambda", a.lambdas,
                  "Weight of the predicted log latency; a list (0,0.05,0.2) runs a sweep. 0 is "
                  "plain DARTS")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--steps", a.steps, "Alpha steps, each followed by a weight step")
      ->check(CLI::Range(1L, 100000000L))
      ->capture_default_str();
  cmd->add_option("--warmup-steps", a.warmup_steps,
                  "Weight-only steps before the alphas move (parameter-free operators "
                  "otherwise win the first steps)")
      ->check(CLI::Range(0L, 100000000L))
      ->capture_default_str();
  cmd->add_option("--batch-size", a.batch_size)->check(CLI::Range(1, 65536))->capture_default_str();
  cmd->add_option("--cells-per-stage", a.cells_per_stage, "Cells per stage of the search network")
      ->check(CLI::Range(1, 16))
      ->capture_default_str();
  cmd->add_option("--width", a.width, "Channels of the first stage (then x2, x4)")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  cmd->add_option("--lr", a.lr, "Weights' peak learning rate (SGD, cosine to lr/25)")
      ->check(positive_number())
      ->capture_default_str();
  cmd->add_option("--alpha-lr", a.alpha_lr, "Alphas' learning rate (Adam)")
      ->check(positive_number())
      ->capture_default_str();
  add_seed_option(*cmd, a.seed, "initialization, shuffling and the two halves");
  cmd->add_option("--subset", a.subset, "Search on this many training images only");
  add_threads_option(*cmd, a.threads, "search and training");
  cmd->add_option("--train-epochs", a.train_epochs, "Standalone training of each derived cell")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  cmd->add_option("--train-steps", a.train_steps, "That many batches instead of --train-epochs")
      ->check(positive_number());
  cmd->add_option("--train-lr", a.train_lr,
                  "Peak learning rate of the standalone training (SGD, Nesterov, cosine)")
      ->check(positive_number())
      ->capture_default_str();
  cmd->add_flag("--keep-none", a.keep_none,
                "Derive the cell as NAS-Bench-201's DARTS does: an edge whose strongest operator "
                "is none gets none (unless that cuts the cell). By default none is left out, as "
                "DARTS derives (with the latency term none is every edge's cheapest operator)");
  cmd->add_flag("--no-train", a.no_train, "Search only: no standalone training");
  add_device_options(
      *cmd, a.device, /*overrides=*/false,
      "Also map each derived cell's network on this FPGA (hao map's dataflow accelerator) and "
      "show its exact latency beside the MLP's");
  cmd->add_option("--measured", a.measured,
                  "FILE:COLUMN of measured latencies of NAS-Bench-201 cells (e.g. "
                  "nb201/latency_ms.csv:raspi4 with --archs nb201/accuracy.csv): each derived "
                  "cell's is looked up, shown beside the MLP's, and the pick uses it instead of "
                  "the MLP's prediction");
  cmd->add_option("--archs", a.archs,
                  "The arch_str of each arch_index, for a --measured file without that column");
  cmd->add_option("--pick-faster", a.pick_faster,
                  "The pick of a sweep with lambda 0: the smallest lambda whose cell is at least "
                  "this many percent faster than plain DARTS's (--measured, else the MLP's "
                  "latency) ...")
      ->check(CLI::Range(0.0, 100.0))
      ->capture_default_str();
  cmd->add_option("--pick-within", a.pick_within,
                  "... with validation accuracy at most this many points below plain DARTS's "
                  "(the paper's claim: 20% faster within 0.5 points)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  add_json_option(*cmd, a.json, "the searches, their traces and the derived cells' figures");
  cmd->footer(
      "Exit codes: 0 done, 1 built without LibTorch, an internal failure or a derived cell "
      "whose standalone training failed (the other lambdas still run; all is written), 2 bad "
      "input (a lambda below 0, a lambda without --latency-model, a model on another "
      "encoding).\n"
      "Example:\n"
      "  hao calibrate --kind mlp --space nb201 --encoding onehot --measurements "
      "nb201/latency_ms.csv --archs nb201/accuracy.csv --column raspi4 --out raspi4.json\n"
      "  hao darts --latency-model raspi4.json --lambda 0,0.01,0.015,0.02 --measured "
      "nb201/latency_ms.csv:raspi4 --archs nb201/accuracy.csv");
  return cmd;
}

#if HAO_HAS_TORCH
namespace {

std::string ms_text(double ms) { return ms > 0 ? core::fixed(ms, 3) : "-"; }

/// The measured latency of every cell of --measured, by arch_str.
std::map<std::string, double> read_measured(const DartsArgs& a, std::string& column) {
  std::string file;
  std::tie(file, column) = split_file_column(a.measured, "--measured");
  std::map<std::string, double> ms;
  for (const predict::Sample& s :
       predict::load_samples(predict::Space::kNb201, file, column, a.archs).samples)
    ms.emplace(s.arch, s.measured_ms);
  return ms;
}

/// The sweep's pick (nn::pick_darts_lambda), as a line and JSON; nothing without a trained
/// lambda-0 run and another run.
void print_pick(const std::vector<nn::DartsOutcome>& outcomes, const std::vector<double>& ms,
                const std::string& latency_name, const DartsArgs& a, std::ostream& out,
                nlohmann::ordered_json& json) {
  const auto pick = nn::pick_darts_lambda(outcomes, ms, a.pick_faster / 100, a.pick_within);
  if (!pick) return;
  const std::string rule = "the smallest lambda whose cell is at least " +
                           core::number(a.pick_faster) + "% faster than plain DARTS's (" +
                           latency_name + ") with validation accuracy at most " +
                           core::number(a.pick_within) + " points below";
  json = {{"rule", rule},
          {"faster_pct", a.pick_faster},
          {"within_points", a.pick_within},
          {"latency", latency_name},
          {"lambda", nullptr}};
  if (!pick->chosen) {
    out << "pick: no lambda meets it (" << rule << ")\n";
    return;
  }
  const nn::DartsOutcome& r = outcomes[*pick->chosen];
  const double faster = 100 * (1 - pick->at.latency_ms / pick->reference.latency_ms);
  json["lambda"] = r.lambda;
  json["genotype"] = r.search.genotype;
  json["faster_by_pct"] = faster;
  out << "pick: lambda " << core::number(r.lambda) << ", " << ms_text(pick->at.latency_ms)
      << " ms against " << ms_text(pick->reference.latency_ms) << " (" << core::fixed(faster, 1)
      << "% faster), validation " << core::fixed(pick->at.accuracy, 2) << "% against "
      << core::fixed(pick->reference.accuracy, 2) << "% (" << rule << ")\n";
}

}  // namespace

int run_darts(const DartsArgs& a, std::ostream& out, std::ostream& err) {
  std::unique_ptr<predict::MlpModel> model;
  if (!a.latency_model.empty()) {
    model = std::make_unique<predict::MlpModel>(
        predict::read_mlp_model(core::read_json(a.latency_model), a.latency_model));
    nn::check_darts_latency_model(model->mlp, a.latency_model);
  }
  std::unique_ptr<hw::Device> device;
  if (!a.device.name.empty()) device = std::make_unique<hw::Device>(a.device.load());

  nn::DartsSweepOptions o;
  o.lambdas = a.lambdas;
  o.search.steps = a.steps, o.search.warmup_steps = a.warmup_steps;
  o.search.batch_size = a.batch_size, o.search.cells_per_stage = a.cells_per_stage;
  o.search.width = a.width, o.search.lr = a.lr, o.search.alpha_lr = a.alpha_lr;
  o.search.seed = a.seed, o.search.subset = a.subset, o.search.threads = a.threads;
  o.search.keep_none = a.keep_none;
  o.train = !a.no_train;
  o.training.epochs = a.train_epochs, o.training.steps = a.train_steps;
  o.training.lr = a.train_lr, o.training.seed = a.seed, o.training.threads = a.threads;
  o.profile.threads = a.threads;
  nn::check_darts_sweep(o, model ? &model->mlp : nullptr);  // before the data set loads
  std::string measured_column;
  const std::map<std::string, double> measured =
      a.measured.empty() ? std::map<std::string, double>{} : read_measured(a, measured_column);
  const data::DataSet ds = data::load_dataset(a.data);

  err << "DARTS on " << ds.name << ": " << a.lambdas.size() << " search"
      << (a.lambdas.size() == 1 ? "" : "es") << " of " << a.warmup_steps + a.steps
      << " steps (batch " << a.batch_size << ", " << a.cells_per_stage << " cell"
      << (a.cells_per_stage == 1 ? "" : "s") << " per stage)"
      << (o.train ? ", then each derived cell trained standalone" : "") << "\n";
  std::vector<std::unique_ptr<StepProgress>> bars;
  nn::DartsProgress progress;
  std::size_t shown = static_cast<std::size_t>(-1);
  progress.search = [&](std::size_t run, const nn::DartsPoint& p, long steps) {
    if (run != shown) {
      shown = run;
      bars.push_back(
          std::make_unique<StepProgress>(err, "search lambda=" + core::number(a.lambdas[run])));
    }
    (*bars.back())(p.step, steps, p.alpha_loss);
  };
  std::size_t training_shown = static_cast<std::size_t>(-1);
  progress.training = [&](std::size_t run, const nn::Progress& p) {
    if (run != training_shown || p.step == 0) {
      training_shown = run;
      bars.push_back(std::make_unique<StepProgress>(
          err,
          "train lambda=" + core::number(a.lambdas[run]) + " epoch " + std::to_string(p.epoch)));
    }
    if (!p.epoch_done) (*bars.back())(p.step, p.steps, p.loss);
  };
  const std::vector<nn::DartsOutcome> outcomes =
      nn::run_darts(ds, o, model ? &model->mlp : nullptr, progress);

  static const std::array<const char*, 5> kOps = {"none", "skip", "conv1x1", "conv3x3", "pool"};
  static const std::array<const char*, 6> kEdges = {"1<-0", "2<-0", "2<-1", "3<-0", "3<-1", "3<-2"};
  nlohmann::ordered_json runs = nlohmann::ordered_json::array();
  report::Table summary;
  for (const char* c : {"lambda", "cell", "MLP ms", "host ms", "val acc", "test acc"})
    summary.add_column(
        c, std::string(c) == "cell" ? report::Table::Align::kLeft : report::Table::Align::kRight);
  if (!a.measured.empty()) summary.add_column(measured_column + " ms");
  if (device) summary.add_column(device->name + " ms");
  std::size_t failures = 0;
  std::vector<double> pick_ms;  // per outcome: the latency the pick compares
  for (const nn::DartsOutcome& r : outcomes) {
    out << "lambda " << r.lambda << ": " << r.search.genotype << "\n";
    report::Table t;
    t.add_column("edge", report::Table::Align::kLeft);
    for (const char* op : kOps) t.add_column(op);
    for (std::size_t e = 0; e < 6; ++e) {
      std::vector<std::string> row = {kEdges[e]};
      for (double w : r.search.weights[e]) row.push_back(core::fixed(w, 3));
      t.add_row(row);
    }
    out << t.render();
    if (r.search.none_excluded && a.keep_none)
      out << "(each edge's strongest operator cut the cell; derived without none)\n";
    else if (r.search.none_excluded)
      out << "(none is the strongest operator of some edges, which NAS-Bench-201's derivation "
             "keeps: "
          << r.search.with_none << "; derived without none, as DARTS does)\n";
    if (!r.training_failure.empty()) {
      out << "standalone training failed: " << r.training_failure << "\n";
      ++failures;
    }
    double device_ms = 0;
    std::string device_note;
    if (device) {
      const ilp::MapResult m = ilp::map_dataflow(r.network, *device, {});
      if (m.feasible)
        device_ms = m.eval.latency_ms;
      else
        out << device->name << ": does not fit: " << (device_note = m.reason) << "\n";
    }
    const auto accuracy = [&](double value) -> std::string {
      if (r.trained) return core::fixed(100 * value, 2) + "%";
      return r.training_failure.empty() ? "-" : "failed";
    };
    std::vector<std::string> row = {core::number(r.lambda),
                                    r.search.genotype,
                                    ms_text(r.search.predicted_ms),
                                    ms_text(r.host.median_ms),
                                    accuracy(r.training.val_accuracy),
                                    accuracy(r.training.test_accuracy)};
    const auto it = measured.find(r.search.genotype);
    const double measured_ms = it == measured.end() ? 0 : it->second;
    if (!a.measured.empty()) row.push_back(ms_text(measured_ms));
    if (device) row.push_back(device_ms > 0 ? ms_text(device_ms) : "does not fit");
    summary.add_row(row);
    pick_ms.push_back(a.measured.empty() ? r.search.predicted_ms : measured_ms);

    nlohmann::ordered_json j;
    j["lambda"] = r.lambda;
    j["genotype"] = r.search.genotype;
    j["none_excluded"] = r.search.none_excluded;
    j["with_none"] = r.search.with_none;
    j["alpha"] = r.search.alpha;
    j["softmax"] = r.search.weights;
    j["predicted_ms"] = r.search.predicted_ms;
    j["host_cpu_ms"] = r.host.median_ms;
    if (!a.measured.empty()) j["measured_ms"] = measured_ms;
    if (device) {
      j["device"] = device->name;
      j["device_ms"] = device_ms;
      if (!device_note.empty()) j["device_note"] = device_note;
    }
    if (r.trained) {
      j["val_accuracy"] = r.training.val_accuracy;
      j["test_accuracy"] = r.training.test_accuracy;
      j["train_seconds"] = r.training.seconds;
    }
    if (!r.training_failure.empty()) j["training_failure"] = r.training_failure;
    j["search_seconds"] = r.search.seconds;
    j["trace"] = nlohmann::ordered_json::array();
    for (const nn::DartsPoint& p : r.search.trace)
      j["trace"].push_back({{"step", p.step},
                            {"weight_loss", p.weight_loss},
                            {"alpha_loss", p.alpha_loss},
                            {"expected_ms", p.expected_ms},
                            {"genotype", p.genotype}});
    runs.push_back(j);
  }
  out << summary.render();
  out << "MLP ms: " << (model ? a.latency_model : std::string("no --latency-model"))
      << "; host ms: median batch-1 latency of the standalone network on this CPU"
      << (o.train ? "; accuracies after " +
                        (a.train_steps ? std::to_string(a.train_steps) + " steps"
                                       : std::to_string(a.train_epochs) + " epoch(s)") +
                        " of standalone training"
                  : "")
      << (a.measured.empty() ? "" : "; " + measured_column + " ms: " + a.measured) << "\n";
  nlohmann::ordered_json pick;
  print_pick(outcomes, pick_ms,
             a.measured.empty() ? "the MLP's latency" : "measured " + measured_column, a, out,
             pick);
  if (!a.json.empty()) {
    const nlohmann::ordered_json j{{"data", ds.name},
                                   {"latency_model", a.latency_model},
                                   {"steps", a.steps},
                                   {"warmup_steps", a.warmup_steps},
                                   {"batch_size", a.batch_size},
                                   {"cells_per_stage", a.cells_per_stage},
                                   {"width", a.width},
                                   {"seed", a.seed},
                                   {"derivation", a.keep_none ? "nb201" : "darts"},
                                   {"measured", a.measured},
                                   {"pick", pick},
                                   {"runs", runs}};
    write_output(a.json, j.dump(2) + "\n", out);
  }
  if (failures) {
    err << "hao: error: " << failures << " of " << outcomes.size()
        << " derived cells did not train standalone (each one's reason is above; its search "
           "result is kept)\n";
    return kExitFailure;
  }
  return kExitOk;
}
#else
int run_darts(const DartsArgs&, std::ostream&, std::ostream& err) {
  err << "hao: this hao was built without LibTorch: install libtorch-dev and rebuild "
         "(scripts/setup.sh does both)\n";
  return kExitFailure;
}
#endif

}  // namespace hao::cli
