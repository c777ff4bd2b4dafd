#include "cli/search_command.hpp"

#include <CLI/CLI.hpp>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli/app.hpp"
#include "cli/common.hpp"
#include "cli/options.hpp"
#include "core/error.hpp"
#include "core/json_file.hpp"
#include "core/text.hpp"
#include "report/study_report.hpp"
#include "search/mbv2_domain.hpp"
#include "search/search_setup.hpp"
#include "search/strategy.hpp"
#include "search/study.hpp"
#include "store/study_store.hpp"
#if HAO_HAS_TORCH
#include "nn/cpu_table.hpp"
#include "nn/export.hpp"
#include "nn/study_evaluator.hpp"
#endif

namespace hao::cli {

namespace fs = std::filesystem;

CLI::App* add_search_command(CLI::App& app, SearchArgs& a) {
  CLI::App* cmd = app.add_subcommand(
      "search",
      "The co-design search: networks, their bits and their accelerators, traded between "
      "accuracy and speed. Every candidate's accelerator is program 1's optimal dataflow design "
      "on --device (or with --target engine program 2's optimal engine; free, exact); only "
      "accuracy costs an evaluation. On generative spaces "
      "the candidates are judged at their bits on the space's weight-sharing supernet "
      "(--evaluator supernet, the default on mbv2 spaces: trained once, about a second per "
      "candidate; kept beside the store, so that a later search of the same space for another "
      "device starts judging at once), or each trained briefly from scratch (--evaluator "
      "scratch, the default on the other generative spaces: a short training on a subset "
      "judged on the validation split, then, for the hao strategy, each layer's quantization "
      "sensitivity, a feature of its accuracy predictor); on nb201/anb a table look-up. Each "
      "evaluation is stored as it finishes (--storage: an SQLite file, or a PostgreSQL "
      "server), so a killed run resumes where it stopped with the same candidates, and many "
      "processes (on one machine, or on many with a server) run one study together as workers: "
      "each claims its candidate in the store, and a killed worker's is taken over. Then the "
      "frontier's designs are fine-tuned with "
      "quantization-aware training and measured on the test set, and a report folder is "
      "written. With no arguments: the fmnist-mbv2 space on Fashion-MNIST for a zu3eg, "
      "judged on its supernet.");
  cmd->add_option("--space", a.space,
                  "Built-in space (fmnist-mbv2, fmnist-mbv3, fmnist-densenet, fmnist-autoshrink, "
                  "nb201, anb) "
                  "or a YAML file (see examples/spaces)")
      ->capture_default_str();
  cmd->add_option("--strategy", a.strategy,
                  "hao, random, nsga2, evolution, flash, autoshrink (edge shrinking of a "
                  "node-DAG cell: --space fmnist-autoshrink) or netadapt (NetAdaptV2's "
                  "multi-layer coordinate descent from the largest network: --layers, --samples) "
                  "or hurricane (HURRICANE's operator selection on the target, then its "
                  "two-stage evolution under a latency limit: --operators, --latency-limit, "
                  "--population)")
      ->capture_default_str();
  cmd->add_option("--budget", a.budget,
                  "Accuracy evaluations, counting stored ones (default " +
                      std::to_string(search::kSupernetBudget) + " on a supernet, " +
                      std::to_string(search::kScratchBudget) + " trained from scratch, " +
                      std::to_string(search::kTabularBudget) +
                      " tabular; autoshrink: its whole trajectory)");
  cmd->add_option("--optimism", a.optimism,
                  "hao strategy: rate candidates at predicted accuracy + this many predictive "
                  "standard deviations (0: the mean; the most uncertain when no mean beats the "
                  "front)")
      ->check(CLI::Range(0.0, 10.0))
      ->capture_default_str();
  add_seed_option(*cmd, a.seed, "the strategy and the training");
  cmd->add_option("--study", a.study,
                  "Study name (default SPACE-STRATEGY-sSEED on a table, "
                  "SPACE-STRATEGY[-supernet]-DEVICE-sSEED on a generative space)");
  cmd->add_option("--storage", a.storage,
                  "Study store: an SQLite file, or postgresql://USER@HOST/DATABASE (a server that "
                  "workers on many machines share; the password from ~/.pgpass or PGPASSWORD)")
      ->capture_default_str();
  cmd->add_option(
      "--files", a.files,
      "Folder of the checkpoints and the kept supernet (default STORAGE.d beside an "
      "SQLite file, hao-files with a server: give every worker the same shared folder)");
  cmd->add_option("--evaluation-delay", a.evaluation_delay_s,
                  "Tabular spaces: seconds each evaluation waits, as if it trained (to rehearse "
                  "or benchmark many workers on one study)")
      ->check(CLI::Range(0.0, 86400.0));
  cmd->add_option("--stale-after", a.stale_after_s,
                  "Many workers: seconds after which a candidate whose worker stopped renewing "
                  "its claim (killed, machine lost) is taken over by another; a dead process on "
                  "the same machine is noticed at once")
      ->check(CLI::Range(1.0, 1e6))
      ->capture_default_str();
  cmd->add_option("--out", a.out, "Report folder (default hao-report-STUDY)");
  add_device_options(*cmd, a.device, /*overrides=*/false);
  cmd->add_option("--data", a.data,
                  "Reference-data folder for tabular spaces (default $HAO_DATA or ../shared/data)");
  cmd->add_option("--latency", a.latency,
                  "Tabular spaces: latency as FILE:COLUMN (joined on arch_index)");
  cmd->add_option("--evaluator", a.evaluator,
                  "Generative spaces: supernet (judged at its bits with inherited weights; "
                  "default budget 150; the default on mbv2 spaces) or scratch (each candidate "
                  "trained briefly; default budget 10; the default on the others)")
      ->check(CLI::IsMember({"supernet", "scratch"}));
  cmd->add_option("--supernet-steps", a.supernet_steps,
                  "Supernet: float steps (batches of 64) when it is trained (default: " +
                      std::to_string(kSearchSupernetSteps) +
                      " per operator of the space's largest operator pool: " +
                      std::to_string(kSearchSupernetSteps) + " on fmnist-mbv2, " +
                      std::to_string(4 * kSearchSupernetSteps) + " on fmnist-mbv3)")
      ->check(CLI::Range(0L, 10000000L));
  cmd->add_option("--supernet-qat-steps", a.supernet_qat_steps,
                  "Supernet: quantization-aware steps after them, each network at its bits "
                  "(default: " +
                      std::to_string(kSearchSupernetQatSteps) +
                      " per operator, as --supernet-steps)")
      ->check(CLI::Range(0L, 10000000L));
  cmd->add_option("--supernet-distillation", a.supernet_distillation,
                  "Supernet: the share of the members' loss on the largest's soft labels "
                  "(hao supernet train --distillation)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd->add_option("--supernet-mode", a.supernet_mode,
                  "Supernet: sandwich, single-path or ordered-dropout training (hao supernet "
                  "train --mode)")
      ->check(CLI::IsMember({"sandwich", "single-path", "ordered-dropout"}))
      ->capture_default_str();
  cmd->add_option("--supernet", a.supernet,
                  "Supernet: judge on this one (hao supernet train --out) instead of training "
                  "or loading the one kept beside the store; its settings replace the "
                  "--supernet-* and --validation ones");
  cmd->add_flag("--no-reuse", a.no_reuse,
                "Supernet: judge and fine-tune every candidate even when the supernet memo "
                "(memo.db beside the kept supernets) holds its result from an earlier study on "
                "the same supernet and settings: the same figures, computed again");
  cmd->add_flag("--warm-start", a.warm_start,
                "Supernet: evaluate first every genotype earlier studies judged on the same "
                "supernet and settings (the memo's judgements, in the order they were made; "
                "only program 1 runs for each), up to the budget, then ask the strategy for the "
                "rest: a search for another device in minutes");
  cmd->add_option("--recalibration-images", a.recalibration_images,
                  "Supernet: training images that re-estimate a candidate's batch norms")
      ->capture_default_str();
  cmd->add_option("--train-steps", a.train_steps,
                  "Scratch: float batches (of 128 images) per candidate")
      ->capture_default_str();
  cmd->add_option("--subset", a.subset, "Scratch: training images per candidate")
      ->capture_default_str();
  cmd->add_option("--validation", a.validation, "Held-out training images that decide")
      ->capture_default_str();
  cmd->add_option(
         "--qat-steps", a.qat_steps,
         "Scratch: quantization-aware batches per candidate (0: judged in float; 4- and 8-bit QAT "
         "lose "
         "little, and the finalists are fine-tuned and tested at their bits; above 0 the hao "
         "strategy's predictor also takes the sensitivity as a linear trend)")
      ->capture_default_str();
  cmd->add_option("--finalists", a.finalists,
                  "Designs fine-tuned and tested at the end: the evaluated fronts, best first")
      ->capture_default_str();
  cmd->add_option("--final-qat-steps", a.final_qat_steps, "Quantization-aware batches per finalist")
      ->capture_default_str();
  cmd->add_option("--final-steps", a.final_steps,
                  "Float batches per finalist before those (learning rate 0.1, warm-up, cosine). "
                  "Default 120 on a supernet, whose inherited weights are only a start (its "
                  "frontier tested at 71-75% after the QAT batches alone, 83-85% with 120 of "
                  "these), 0 from scratch (the candidates were trained)")
      ->check(CLI::Range(0L, 1000000L));
  cmd->add_option(
         "--qat-lr-fraction", a.qat_lr_fraction,
         "Quantization-aware training's peak learning rate, as a fraction of the float 0.1")
      ->check(CLI::Range(1e-4, 10.0))
      ->capture_default_str();
  cmd->add_option("--calibration-images", a.calibration_images,
                  "Training images that set the activation ranges before quantization-aware "
                  "batches")
      ->capture_default_str();
  cmd->add_option("--sensitivity-probes", a.sensitivity_probes,
                  "Fisher probes per candidate for its sensitivity features (--evaluator scratch, "
                  "hao strategy: the one whose predictor reads them)")
      ->capture_default_str();
  cmd->add_option("--sensitivity-batch", a.sensitivity_batch,
                  "Images of the one batch the probes are taken over")
      ->capture_default_str();
  cmd->add_option("--ilp-time-limit", a.ilp_time_limit_s,
                  "Seconds program 1 may take per candidate (the best design found then is kept)")
      ->check(positive_number())
      ->capture_default_str();
  add_threads_option(*cmd, a.threads, "training");
  cmd->add_option("--population", a.population,
                  "Population of nsga2, evolution and hurricane (per generation; hurricane's "
                  "parents are a fifth of it, its mutations half)")
      ->capture_default_str();
  cmd->add_option(
         "--calibration-networks", a.calibration,
         "flash: networks trained (a Latin hypercube) to fit its NN-Degree accuracy predictor "
         "before its co-design steps (default: 25, or half the budget when less; >= 3)")
      ->check(CLI::Range(3, 100000));
  cmd->add_option("--shrink-candidates", a.shrink_candidates,
                  "autoshrink: edges drawn per iteration, each removal evaluated (k)")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  cmd->add_option("--shrink-cost", a.shrink_cost,
                  "autoshrink: the score's cost, accuracy (%) - 10 log10(cost / reference): "
                  "macs (reference 1e6, the paper's) or latency (the device's frame interval, "
                  "reference 1 ms)")
      ->check(CLI::IsMember({"macs", "latency"}))
      ->capture_default_str();
  cmd->add_option("--shrink-min-edges", a.shrink_min_edges,
                  "autoshrink: stop at this many edges (default: the cell's node count)")
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--layers", a.adapt_layers,
                  "netadapt: slots shrunk together in a sample, one choice each in turn until "
                  "the network meets the iteration's latency target (L; 1 is NetAdapt's "
                  "single-layer descent: every slot alone, one sample each)")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  cmd->add_option("--samples", a.adapt_samples,
                  "netadapt: samples judged per iteration, the most accurate kept (J)")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  cmd->add_option("--target", a.target,
                  "What latency is: dataflow (program 1's fastest FINN-style design on --device), "
                  "engine (program 2's fastest layer-sequential engine on --device, one frame "
                  "at a time; a device file that pins the engine, a DPU, keeps its shape) "
                  "or cpu (this CPU at --threads, batch 1, LibTorch: each network the sum of its "
                  "pieces, stem, blocks and head, measured alone once and kept in --cpu-table; "
                  "mbv2 spaces)")
      ->check(CLI::IsMember({"dataflow", "engine", "cpu"}))
      ->capture_default_str();
  cmd->add_option("--latency-model", a.latency_model,
                  "--target engine: the latency of the device's pinned engine as this "
                  "calibrated model predicts it (hao calibrate --kind engine on its measured "
                  "latencies); program 2 still gives each network's design and whether it fits");
  cmd->add_option("--cpu-table", a.cpu_table,
                  "--target cpu: the piece table to read and extend (default STORE.d/"
                  "cpu_table.json; hao profile --table builds and checks one)");
  cmd->add_option("--operators", a.hurricane_operators,
                  "hurricane: operators (an mbv2 block's kernel x expansion) kept per layer "
                  "position, those with the most multiply-accumulates per ms of their latency "
                  "alone on the target (K)")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  cmd->add_option("--latency-limit", a.latency_limit_ms,
                  "hurricane: frame interval limit in ms, checked before a network is judged "
                  "(default: the median of 2 x population random networks of the kept pools)")
      ->check(CLI::PositiveNumber);
  add_json_option(*cmd, a.json_out, "the report (pareto.json's content) also");
  cmd->footer(
      "Examples:\n"
      "  hao search                                   # the default, about 10 minutes on 2 cores\n"
      "  hao search --device zu9eg                    # the same supernet, another device\n"
      "  hao search --device zu9eg --warm-start       # from what earlier studies judged on it\n"
      "  hao search --evaluator scratch               # each candidate trained from scratch\n"
      "  hao search --study mine --budget 300         # a longer one; rerun the same to resume\n"
      "  hao search --space nb201 --strategy nsga2    # a tabular space: table look-ups\n"
      "  hao search --space fmnist-autoshrink --strategy autoshrink   # AutoShrink's cell search\n"
      "  hao search --strategy netadapt               # NetAdaptV2's descent on the supernet\n"
      "  hao search --strategy netadapt --layers 1    # NetAdapt's single-layer descent\n"
      "  hao search --strategy hurricane --latency-limit 0.8   # HURRICANE under 0.8 ms/frame\n"
      "  hao search --target engine                   # latency on program 2's engine\n"
      "  hao search --target engine --device examples/devices/zcu102_dpu_b4096.yaml \\\n"
      "      --latency-model zcu102_engine.json       # a DPU, its latency as calibrated\n"
      "  for i in 1 2 3 4; do hao search --storage postgresql://me@db/hao & done; wait\n"
      "                                               # four workers on one study\n"
      "  hao report fmnist-mbv2-hao-supernet-zu3eg-s1  # rebuild the report folder from the store\n"
      "Exit 2 on bad input (the stored study is left untouched); 1 on a store failure.");
  return cmd;
}

CLI::App* add_report_command(CLI::App& app, ReportArgs& a) {
  CLI::App* cmd = app.add_subcommand(
      "report",
      "Rebuild a study's report folder from the store: the Pareto table, pareto.csv, "
      "pareto.json, the Pareto plot (pareto.svg) and index.html with the chosen "
      "design's per-layer table and FINN-style folding file.");
  cmd->add_option("study", a.study, "Study name")->required();
  cmd->add_option("--storage", a.storage, "Study store: an SQLite file or a postgresql:// URL")
      ->capture_default_str();
  cmd->add_option("--out", a.out, "Report folder (default hao-report-STUDY)");
  return cmd;
}

namespace {

// The chosen design of a trained study as files FINN builds from (hao export), into the
// report's chosen/ folder, from its finalist's kept checkpoint.
void export_chosen(const store::StudyStore& db, const std::string& study,
                   const report::ChosenDesign& chosen, std::ostream& out, std::ostream& err) {
  if (chosen.index < 0) return;
  if (chosen.target == "cpu") {
    out << "chosen/: model.yaml (a study for the host CPU: no accelerator design to export)\n";
    return;
  }
  if (chosen.target == "engine") {
    out << "chosen/: model.yaml, layers.txt (program 2's engine design; hao export builds "
           "FINN's dataflow designs only)\n";
    return;
  }
  if (chosen.checkpoint.empty() || !fs::exists(chosen.checkpoint)) {
    err << "hao: note: the chosen design's fine-tuned checkpoint is not kept ("
        << (chosen.checkpoint.empty() ? "finalized before hao kept them"
                                      : chosen.checkpoint + " is missing")
        << "): chosen/ has no QONNX export\n";
    return;
  }
#if HAO_HAS_TORCH
  const nn::ExportResult r = nn::export_study_design(
      *report::study_domain(db, study), chosen.genotype, "design" + std::to_string(chosen.index),
      chosen.checkpoint, chosen.dir);
  if (r.files.empty())
    err << "hao: note: no folding of the chosen design fits " << r.design.reason
        << ": chosen/ has no QONNX export\n";
  else
    out << "chosen/: the design as FINN builds it (hao export): model.qonnx.onnx, build.py, "
           "input.npy, expected_output.npy\n";
#else
  (void)db, (void)study, (void)out;
#endif
}

/// Where checkpoints and supernets are kept.
std::string files_dir(const SearchArgs& a) {
  if (!a.files.empty()) return a.files;
  return store::is_server_url(a.storage) ? "hao-files" : a.storage + ".d";
}

/// The evaluator of a generative space (`supernet`: judged on the space's supernet, else each
/// candidate trained); the one place hao search knows whether LibTorch is there.
std::unique_ptr<search::Evaluator> training_evaluator(const SearchArgs& a, bool supernet,
                                                      const search::NetworkDomain& domain,
                                                      const std::string& space,
                                                      const std::string& study, std::ostream& err) {
#if HAO_HAS_TORCH
  if (supernet) {
    const auto& mbv2 = dynamic_cast<const search::Mbv2Domain&>(domain);  // checked: kind mbv2
    nn::SupernetEvaluatorOptions o;
    o.training.steps =
        a.supernet_steps >= 0 ? a.supernet_steps : mbv2.spec().supernet_steps(kSearchSupernetSteps);
    o.training.qat_steps = a.supernet_qat_steps >= 0
                               ? a.supernet_qat_steps
                               : mbv2.spec().supernet_steps(kSearchSupernetQatSteps);
    o.training.distillation = a.supernet_distillation;
    o.training.mode = nn::parse_supernet_mode(a.supernet_mode, "--supernet-mode");
    o.training.validation = a.validation;
    o.training.seed = a.seed;
    o.recalibration_images = a.recalibration_images;
    o.final_qat_steps = a.final_qat_steps;
    if (a.final_steps >= 0) o.final_steps = a.final_steps;
    o.qat_lr_fraction = a.qat_lr_fraction;
    o.threads = a.threads;
    o.device = a.device.name;
    o.space = space;
    o.supernet_dir = (fs::path(files_dir(a)) / "supernets").string();
    o.checkpoint_dir = (fs::path(files_dir(a)) / study).string();
    o.supernet_file = a.supernet;
    if (!a.no_reuse) o.memo_file = (fs::path(o.supernet_dir) / "memo.db").string();
    o.validate("hao search");
    const std::string file = o.supernet_path(mbv2.spec());
    if (!fs::exists(file) && a.supernet.empty())
      err << "training the supernet of " << space << " (" << o.training.steps << " + "
          << o.training.qat_steps << " quantization-aware steps; kept in " << file
          << " for later searches)\n";
    else
      err << "judging on the supernet kept in " << file << "\n";
    auto progress = std::make_shared<StepProgress>(err, "supernet");
    o.progress = [progress](long step, long steps, double loss) { (*progress)(step, steps, loss); };
    return std::make_unique<nn::SupernetEvaluator>(mbv2, o);
  }
  nn::TrainingEvaluatorOptions o;
  o.train_steps = a.train_steps;
  o.subset = a.subset;
  o.validation = a.validation;
  o.qat_steps = a.qat_steps;
  o.final_qat_steps = a.final_qat_steps;
  if (a.final_steps >= 0) o.final_steps = a.final_steps;
  o.qat_lr_fraction = a.qat_lr_fraction;
  o.calibration_images = a.calibration_images;
  o.sensitivity_probes = a.sensitivity_probes;
  o.sensitivity_batch = a.sensitivity_batch;
  o.measure_sensitivity = search::strategy_reads_sensitivity(a.strategy);
  o.seed = a.seed;
  o.threads = a.threads;
  o.device = a.device.name;
  o.checkpoint_dir = (fs::path(files_dir(a)) / study).string();
  o.validate("hao search");
  return std::make_unique<nn::TrainingEvaluator>(domain, o);
#else
  (void)supernet, (void)domain, (void)space, (void)study, (void)err;
  throw core::InputError("space " + a.space +
                         " trains its candidates, and this hao was built "
                         "without LibTorch (apt-get install libtorch-dev, then rebuild)");
#endif
}

/// The search asked for on the command line (the host CPU's target is run_search's).
search::SearchRequest search_request(const SearchArgs& a) {
  search::SearchRequest r;
  r.space = a.space;
  r.data_dir = a.data.empty() ? default_data_dir() : a.data;
  if (!a.latency.empty())
    std::tie(r.latency_file, r.latency_column) = split_file_column(a.latency, "--latency");
  r.evaluator = a.evaluator;
  r.target = a.target;
  r.latency_model = a.latency_model;
  r.no_reuse = a.no_reuse;
  r.qat_steps = a.qat_steps;
  r.evaluation_delay_s = a.evaluation_delay_s;
  r.ilp_time_limit_s = a.ilp_time_limit_s;
  r.budget = a.budget;
  search::StudyOptions& so = r.study;
  so.strategy = a.strategy;
  so.seed = a.seed;
  so.finalists = a.finalists;
  so.warm_start = a.warm_start;
  so.name = a.study;
  so.stale_after_s = a.stale_after_s;
  so.heartbeat_s = std::min(10.0, a.stale_after_s / 4);
  so.strategy_options.population = a.population;
  so.strategy_options.calibration = a.calibration;
  so.strategy_options.shrink_candidates = a.shrink_candidates;
  so.strategy_options.shrink_cost = a.shrink_cost;
  so.strategy_options.shrink_min_edges = a.shrink_min_edges;
  so.strategy_options.adapt_layers = a.adapt_layers;
  so.strategy_options.adapt_samples = a.adapt_samples;
  so.strategy_options.hurricane_operators = a.hurricane_operators;
  so.strategy_options.latency_limit_ms = a.latency_limit_ms;
  so.strategy_options.optimism = a.optimism;
  return r;
}

}  // namespace

int run_search(const SearchArgs& a, std::ostream& out, std::ostream& err) {
  const auto started = std::chrono::steady_clock::now();
  search::SearchRequest request = search_request(a);
#if HAO_HAS_TORCH
  std::unique_ptr<nn::CpuTarget> cpu;  // --target cpu: the host CPU's piece table
  const std::string cpu_table_path =
      a.cpu_table.empty() ? (fs::path(files_dir(a)) / "cpu_table.json").string() : a.cpu_table;
  request.host_cpu = [&](const search::Mbv2Domain& mbv2) {
    if (!fs::path(cpu_table_path).parent_path().empty())
      fs::create_directories(fs::path(cpu_table_path).parent_path());
    nn::ProfileOptions po;
    po.threads = a.threads;
    cpu = std::make_unique<nn::CpuTarget>(nn::open_cpu_table(cpu_table_path, a.threads),
                                          cpu_table_path, mbv2, po);
    return cpu->target();
  };
#endif
  search::SearchSetup setup = search::prepare_search(request, a.device.load());
  const search::StudyOptions& study = setup.study;
  std::unique_ptr<search::Evaluator> evaluator =
      setup.tabular ? std::move(setup.evaluator)
                    : training_evaluator(a, setup.supernet, *setup.network(), setup.spec.name,
                                         study.name, err);

  const std::unique_ptr<store::StudyStore> db = store::open_store(a.storage);
  search::StudyProgress progress;
  progress.started = [&](bool resumed, std::size_t stored) {
    out << (resumed ? "resuming" : "new") << " study '" << study.name << "' in " << db->path()
        << ": " << stored << " of " << study.budget << " evaluations stored; space "
        << setup.spec.name << ", strategy " << a.strategy << ", seed " << a.seed
        << setup.target_text << "\n";
  };
  auto line = [&](const store::EvaluationRecord& r) {
    err << "[" << r.index + 1 << "/" << study.budget << "] " << evaluator->metric() << " "
        << core::fixed(r.accuracy, 2) << "%  " << core::fixed(r.fps, 0) << " fps  "
        << core::fixed(r.wall_s, 1) << " s  ";
  };
  progress.evaluated = [&](const store::EvaluationRecord& r, const std::string& why, double eta) {
    line(r);
    const auto extra = nlohmann::json::parse(r.extra, nullptr, /*allow_exceptions=*/false);
    const bool reused = extra.is_object() && extra.value("reused", false);
    err << "ETA " << clock_text(eta) << "  " << r.label << (why.empty() ? "" : "  (" + why + ")")
        << (reused ? "  [judged by an earlier study]" : "") << "\n";
  };
  progress.landed = [&](const store::EvaluationRecord& r) {
    line(r);
    const auto extra = nlohmann::json::parse(r.extra, nullptr, /*allow_exceptions=*/false);
    err << r.label << "  (worker "
        << (extra.is_object() ? extra.value("worker", std::string("?")) : std::string("?"))
        << ")\n";
  };
  progress.taken_over = [&](int index, const std::string& from) {
    err << "taking over evaluation " << index + 1 << " from worker " << from
        << " (it stopped renewing its claim)\n";
  };
  progress.waiting = [&](std::size_t pending) {
    err << "the budget is reached counting " << pending
        << " evaluation(s) of other workers: waiting for them (taking over any they abandon)\n";
  };
  progress.finalized = [&](std::size_t done, std::size_t total, const store::EvaluationRecord& r,
                           const nlohmann::json& note) {
    err << "[final " << done << "/" << total << "] design " << r.index << ": test acc "
        << core::fixed(note.value("test_accuracy", 0.0), 2) << "% after "
        << (note.contains("float_steps") ? note["float_steps"].dump() + " float + " : "")
        << note.value("qat_steps", 0L) << " QAT batches"
        << (note.value("reused", false) ? " (measured by an earlier study)" : "") << "\n";
  };
  const search::StudyResult result =
      search::run_study(*db, *setup.domain, *evaluator,
                        {setup.spec.name, setup.spec.kind, setup.yaml}, study, progress);
  if (result.evaluated == 0 && result.records.size() >= static_cast<std::size_t>(study.budget))
    out << "study '" << study.name << "' has its " << result.records.size()
        << " evaluations: nothing left to evaluate (a larger --budget extends it)\n";

  report::StudyReportOptions ro;
  ro.out_dir = a.out.empty() ? "hao-report-" + study.name : a.out;
  ro.json_out = a.json_out;
  export_chosen(*db, study.name, report::write_study_report(*db, study.name, ro, out), out, err);
  report::write_strategy_report(*setup.domain, study, result.observations, ro.out_dir, out);
#if HAO_HAS_TORCH
  if (cpu)
    out << "CPU piece table: " << cpu->pieces() << " pieces in " << cpu_table_path << " ("
        << cpu->measured() << " measured by this run)\n";
#endif
  // The whole command: a supernet trained before the study opens counts too.
  const double total =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  out << "total " << core::fixed(total, 1) << " s this run (the study's asks, evaluations and "
      << "finalists " << core::fixed(result.seconds, 1) << " s)\n";
  return kExitOk;
}

int run_report(const ReportArgs& a, std::ostream& out, std::ostream& err) {
  if (!store::is_server_url(a.storage) && !fs::exists(a.storage))
    throw core::InputError("--storage: " + a.storage + " does not exist");
  const std::unique_ptr<store::StudyStore> db = store::open_store(a.storage);
  db->settings(a.study);  // names the studies it holds when absent
  report::StudyReportOptions ro;
  ro.out_dir = a.out.empty() ? "hao-report-" + a.study : a.out;
  export_chosen(*db, a.study, report::write_study_report(*db, a.study, ro, out), out, err);
  return kExitOk;
}

}  // namespace hao::cli
