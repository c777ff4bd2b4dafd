#include "cli/search_command.hpp"

#include <CLI/CLI.hpp>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <ostream>
#include <thread>

#include "cli/app.hpp"
#include "cli/common.hpp"
#include "cli/search_report.hpp"
#include "core/error.hpp"
#include "core/json_file.hpp"
#include "core/text.hpp"
#include "search/hao_strategy.hpp"
#include "search/mbv2_domain.hpp"
#include "search/strategy.hpp"
#include "search/tabular.hpp"
#include "store/study_store.hpp"
#if HAO_HAS_TORCH
#include "data/images.hpp"
#include "nn/sensitivity.hpp"
#include "nn/train.hpp"
#endif

namespace hao::cli {
namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

}  // namespace

CLI::App* add_search_command(CLI::App& app, SearchArgs& a) {
  CLI::App* cmd = app.add_subcommand(
      "search",
      "The co-design search: networks, their bits and their accelerators, traded between "
      "accuracy and speed. Every candidate's accelerator is program 1's optimal dataflow design "
      "on --device (free, exact); only accuracy costs an evaluation: a short training on a "
      "subset judged on the validation split, then each layer's quantization sensitivity "
      "(Fisher trace x quantization error, a feature of the hao strategy's accuracy "
      "predictor); or a table look-up on nb201/anb. Each "
      "evaluation is stored as it finishes (--storage, SQLite), so a killed run resumes where "
      "it stopped with the same candidates. Then the frontier's designs are fine-tuned with "
      "quantization-aware training and measured on the test set, and a report folder is "
      "written. With no arguments: the fmnist-mbv2 space on Fashion-MNIST for a zu3eg.");
  cmd->add_option("--space", a.space,
                  "Built-in space (fmnist-mbv2, nb201, anb) or a YAML file (see examples/spaces)")
      ->capture_default_str();
  cmd->add_option("--strategy", a.strategy, "hao, random, nsga2 or evolution")
      ->capture_default_str();
  cmd->add_option("--budget", a.budget,
                  "Accuracy evaluations, counting stored ones (default 10 trained, 50 tabular)");
  cmd->add_option("--optimism", a.optimism,
                  "hao strategy: rate candidates at predicted accuracy + this many predictive "
                  "standard deviations (0: the mean; the most uncertain when no mean beats the "
                  "front)")
      ->check(CLI::Range(0.0, 10.0))
      ->capture_default_str();
  cmd->add_option("--seed", a.seed, "Seed of the strategy and the training")->capture_default_str();
  cmd->add_option("--study", a.study, "Study name (default SPACE-STRATEGY-sSEED)");
  cmd->add_option("--storage", a.storage, "SQLite study store")->capture_default_str();
  cmd->add_option("--out", a.out, "Report folder (default hao-report-STUDY)");
  cmd->add_option("--device", a.device, "FPGA (built-in name or YAML file)")->capture_default_str();
  cmd->add_option("--data", a.data,
                  "Reference-data folder for tabular spaces (default $HAO_DATA or ../shared/data)");
  cmd->add_option("--latency", a.latency,
                  "Tabular spaces: latency as FILE:COLUMN (joined on arch_index)");
  cmd->add_option("--train-steps", a.train_steps, "Float batches per candidate")
      ->capture_default_str();
  cmd->add_option("--subset", a.subset, "Training images per candidate")->capture_default_str();
  cmd->add_option("--validation", a.validation, "Held-out training images that decide")
      ->capture_default_str();
  cmd->add_option(
         "--qat-steps", a.qat_steps,
         "Quantization-aware batches per candidate (0: judged in float; 4- and 8-bit QAT lose "
         "little, and the finalists are fine-tuned and tested at their bits; above 0 the hao "
         "strategy's predictor also takes the sensitivity as a linear trend)")
      ->capture_default_str();
  cmd->add_option("--finalists", a.finalists,
                  "Designs fine-tuned and tested at the end: the evaluated fronts, best first")
      ->capture_default_str();
  cmd->add_option("--final-qat-steps", a.final_qat_steps, "Quantization-aware batches per finalist")
      ->capture_default_str();
  cmd->add_option(
         "--qat-lr-fraction", a.qat_lr_fraction,
         "Quantization-aware training's peak learning rate, as a fraction of the float 0.1")
      ->check(CLI::Range(1e-4, 10.0))
      ->capture_default_str();
  cmd->add_option("--threads", a.threads, "Training threads (0: all cores)")->capture_default_str();
  cmd->add_option("--population", a.population, "Population of nsga2 and evolution")
      ->capture_default_str();
  cmd->add_option("--json", a.json_out, "Also write the report's JSON here ('-' = stdout)");
  cmd->footer(
      "Examples:\n"
      "  hao search                                   # the default, about 8 minutes on 2 cores\n"
      "  hao search --study mine --budget 24          # a longer one; rerun the same to resume\n"
      "  hao search --space nb201 --strategy nsga2    # a tabular space: table look-ups\n"
      "  hao report fmnist-mbv2-hao-s1                # rebuild the report folder from the store\n"
      "Exit 2 on bad input (the stored study is left untouched); 1 on a store failure.");
  return cmd;
}

CLI::App* add_report_command(CLI::App& app, ReportArgs& a) {
  CLI::App* cmd = app.add_subcommand(
      "report",
      "Rebuild a study's report folder from the store: the Pareto table, pareto.csv, "
      "pareto.json, the Pareto plot (PNG and SVG, gnuplot) and index.html with the chosen "
      "design's per-layer table and FINN-style folding file.");
  cmd->add_option("study", a.study, "Study name")->required();
  cmd->add_option("--storage", a.storage, "SQLite study store")->capture_default_str();
  cmd->add_option("--out", a.out, "Report folder (default hao-report-STUDY)");
  return cmd;
}

int run_search(const SearchArgs& a, std::ostream& out, std::ostream& err) {
  const std::string data_dir = a.data.empty() ? default_data_dir() : a.data;
  const std::string yaml = search::space_yaml(a.space);
  search::SpaceSpec spec = search::parse_space(yaml, a.space, data_dir);
  const bool tabular = spec.kind == "tabular";
  if (!a.latency.empty()) {
    if (!tabular)
      throw core::InputError("--latency applies to tabular spaces; " + spec.name + " is trained");
    std::tie(spec.table.latency_file, spec.table.latency_column) =
        split_file_column(a.latency, "--latency");
  }
  {
    core::IssueList issues("hao search");
    const auto& names = search::strategy_names();
    if (std::find(names.begin(), names.end(), a.strategy) == names.end())
      issues.add("--strategy", "unknown strategy '" + a.strategy + "', expected one of " +
                                   core::join(names, ", "));
    if (a.budget < 0) issues.add("--budget", std::to_string(a.budget) + ", expected >= 1");
    if (a.finalists < 1) issues.add("--finalists", "expected >= 1");
    if (a.train_steps < 1) issues.add("--train-steps", "expected >= 1");
    if (a.qat_steps < 0 || a.final_qat_steps < 0) issues.add("--qat-steps", "expected >= 0");
    if (a.population < 2) issues.add("--population", "expected >= 2");
    issues.throw_if_any();
  }
  const int budget = a.budget > 0 ? a.budget : (tabular ? 50 : 10);
  const std::string study =
      a.study.empty() ? spec.name + "-" + a.strategy + "-s" + std::to_string(a.seed) : a.study;

  // What makes a study the same study: everything but the budget (a study may be extended).
  nlohmann::ordered_json settings{{"space", spec.name}, {"kind", spec.kind},
                                  {"space_yaml", yaml}, {"strategy", a.strategy},
                                  {"seed", a.seed},     {"population", a.population}};
  std::unique_ptr<search::Domain> domain;
  search::TabularDomain* table = nullptr;
  search::Mbv2Domain* mbv2 = nullptr;
  if (tabular) {
    settings["accuracy"] = spec.table.accuracy_file + ":" + spec.table.accuracy_column;
    settings["latency"] = spec.table.latency_file + ":" + spec.table.latency_column;
    auto t = std::make_unique<search::TabularDomain>(spec.table);
    table = t.get();
    domain = std::move(t);
    if (static_cast<std::size_t>(budget) > table->size())
      throw core::InputError("--budget " + std::to_string(budget) + " exceeds the space's " +
                             std::to_string(table->size()) + " architectures");
  } else {
#if !HAO_HAS_TORCH
    throw core::InputError("space " + spec.name +
                           " trains its candidates, and this hao was built "
                           "without LibTorch (apt-get install libtorch-dev, then rebuild)");
#endif
    const hw::Device device = hw::load_device(a.device);
    settings["device"] = a.device;
    settings["training"] = {{"train_steps", a.train_steps},
                            {"subset", a.subset},
                            {"validation", a.validation},
                            {"qat_steps", a.qat_steps},
                            {"finalists", a.finalists},
                            {"final_qat_steps", a.final_qat_steps},
                            {"qat_lr_fraction", a.qat_lr_fraction}};
    ilp::MapOptions map;
    map.solve.time_limit_s = 20;
    auto m = std::make_unique<search::Mbv2Domain>(spec.mbv2, device, map);
    mbv2 = m.get();
    domain = std::move(m);
  }

  // The hao strategy's optimism (StrategyOptions::optimism); kept with the study when used.
  if (a.strategy == "hao" && a.optimism != 0) settings["optimism"] = a.optimism;
  store::StudyStore db(a.storage);
  const bool resumed = db.open_study(study, settings.dump());
  std::vector<store::EvaluationRecord> records = db.evaluations(study);
  search::StrategyOptions so;
  so.population = a.population;
  so.log_latency = so.spread = mbv2 != nullptr;  // see StrategyOptions
  so.optimism = a.optimism;
  so.sensitivity_trend = mbv2 != nullptr && a.qat_steps > 0;  // judged at their bits
  auto strategy = search::make_strategy(a.strategy, *domain, a.seed, so);
  for (const auto& r : records) {
    const search::Genotype g = parse_code(
        r.genotype, a.storage + ": study '" + study + "' evaluation " + std::to_string(r.index));
    if (!domain->valid(g))
      throw core::InputError(a.storage + ": study '" + study + "' evaluation " +
                             std::to_string(r.index) + ": genotype '" + r.label +
                             "' is not in the space");
    strategy->tell(observation_of(r, g));
  }
  out << (resumed ? "resuming" : "new") << " study '" << study << "' in " << a.storage << ": "
      << records.size() << " of " << budget << " evaluations stored; space " << spec.name
      << ", strategy " << a.strategy << ", seed " << a.seed
      << (mbv2 ? ", device " + mbv2->device().name : std::string()) << "\n";

#if HAO_HAS_TORCH
  std::unique_ptr<data::DataSet> ds;
  if (mbv2) ds = std::make_unique<data::DataSet>(data::load_dataset(spec.mbv2.data));
  const fs::path checkpoints = fs::path(a.storage + ".d") / study;
  if (mbv2) fs::create_directories(checkpoints);
#endif
  // LibTorch may default to one thread where cgroups hide the cores; training wants them all.
  const int threads = a.threads > 0
                          ? a.threads
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const auto start = Clock::now();
  const std::size_t first_new = records.size();
  for (int i = static_cast<int>(records.size()); i < budget; ++i) {
    const auto t0 = Clock::now();
    const search::Genotype g = strategy->ask();
    const double ask_s = std::chrono::duration<double>(Clock::now() - t0).count();
    store::EvaluationRecord r;
    r.index = i;
    r.genotype = genotype_code(g);
    r.label = domain->label(g);
    r.seed = a.seed;
    if (table) {
      r.accuracy = table->accuracy(g);
      r.latency_ms = table->latency_ms(g);
      r.fps = 1000.0 / r.latency_ms;
    }
#if HAO_HAS_TORCH
    if (mbv2) {
      const auto th = Clock::now();
      const search::Hardware h = mbv2->hardware(g);
      const double hardware_s = std::chrono::duration<double>(Clock::now() - th).count();
      r.bits = bits_summary(mbv2->network(g));
      if (!h.feasible) {
        r.accuracy = 0;
        r.latency_ms = search::kInfeasibleMs;
        r.extra = nlohmann::json{{"infeasible", h.reason}}.dump();
      } else {
        r.latency_ms = h.latency_ms;
        r.fps = h.fps;
        r.dsp = h.resources.dsp, r.lut = h.resources.lut, r.bram36 = h.resources.bram36;
        nn::seed_torch(a.seed + static_cast<unsigned>(i));
        nn::IrNet model(mbv2->network(g, "candidate" + std::to_string(i)));
        nn::TrainOptions o;
        o.steps = a.train_steps;
        o.subset = a.subset;
        o.validation = a.validation;
        o.qat_steps = a.qat_steps;
        o.qat_lr_fraction = a.qat_lr_fraction;
        o.test = false;
        o.threads = threads;
        o.seed = a.seed;  // one validation split for every candidate
        o.float_validation = false;
        o.calibration_images = 512;
        const nn::TrainResult t = nn::train(model, *ds, o);
        const std::string ckpt = (checkpoints / ("eval-" + std::to_string(i) + ".pt")).string();
        nn::save_checkpoint(model, ckpt);
        r.accuracy = 100 * t.val_accuracy;
        // The predictor's sensitivity features: per weighted layer, Omega of its weights and
        // inputs at each bit choice, with the Fisher information (never negative; briefly
        // trained networks are far from a minimum, where Hessian traces often are).
        const auto ts = Clock::now();
        nn::SensitivityOptions sens;
        sens.curvature = nn::Curvature::Fisher;
        sens.batches = 1, sens.batch_size = 128;
        sens.min_iterations = sens.max_iterations = 8;
        sens.bits = spec.mbv2.bits;
        sens.seed = a.seed;
        sens.threads = threads;
        const nn::SensitivityResult sr = nn::layer_sensitivity(model, *ds, sens);
        nlohmann::json omega = nlohmann::json::object();
        for (const auto& l : sr.layers)
          for (std::size_t k = 0; k < sens.bits.size(); ++k)
            omega[model->network().layers[l.layer].name][std::to_string(sens.bits[k])] =
                l.omega[k] + l.omega_act[k];
        r.extra = nlohmann::json{{"checkpoint", ckpt},
                                 {"float_val_accuracy", 100 * t.float_val_accuracy},
                                 {"train_seconds", t.seconds},
                                 {"images_per_s", t.images_per_s},
                                 {"ask_seconds", ask_s},
                                 {"hardware_seconds", hardware_s},
                                 {"ask_source", strategy->why()},
                                 {"sensitivity", omega},
                                 {"sensitivity_probes", sr.iterations},
                                 {"sensitivity_seconds",
                                  std::chrono::duration<double>(Clock::now() - ts).count()}}
                      .dump();
      }
      r.hardware =
          nlohmann::json{{"device", mbv2->device().name}, {"ilp_seconds", h.solve_seconds}}.dump();
    }
#endif
    r.wall_s = std::chrono::duration<double>(Clock::now() - t0).count();
    db.add(study, r);
    strategy->tell(observation_of(r, g));
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    const double per = elapsed / static_cast<double>(static_cast<std::size_t>(i) + 1 - first_new);
    err << "[" << i + 1 << "/" << budget << "] " << (table ? "accuracy " : "val acc ")
        << core::fixed(r.accuracy, 2) << "%  " << core::fixed(r.fps, 0) << " fps  "
        << core::fixed(r.wall_s, 1) << " s  ETA " << clock_text(per * (budget - i - 1)) << "  "
        << r.label << (strategy->why().empty() ? "" : "  (" + strategy->why() + ")") << "\n";
    records.push_back(r);
  }

  // Predictor quality on what was evaluated (cross-validated), kept with the study.
  if (records.size() >= 10) {
    std::vector<search::Observation> history;
    for (const auto& r : records)
      history.push_back(observation_of(r, parse_code(r.genotype, a.storage)));
    nlohmann::json tau = search::predictor_kendall(*domain, history, a.seed, so.sensitivity_trend);
    db.put_note(study, "predictor_kendall", tau.dump());
  }

#if HAO_HAS_TORCH
  if (mbv2) {
    const std::vector<std::size_t> finalists =
        pick_finalists(records, static_cast<std::size_t>(a.finalists));
    std::size_t done = 0;
    for (std::size_t k : finalists) {
      ++done;
      const std::string key = "final/" + std::to_string(records[k].index);
      if (!db.note(study, key).empty()) continue;
      const auto t0 = Clock::now();
      const search::Genotype g = parse_code(records[k].genotype, a.storage);
      nn::seed_torch(a.seed);
      nn::IrNet model(mbv2->network(g, "candidate" + std::to_string(records[k].index)));
      nn::load_checkpoint(model, nlohmann::json::parse(records[k].extra).at("checkpoint"));
      nn::TrainOptions o;
      o.epochs = 0;
      o.qat_steps = a.final_qat_steps;
      o.qat_lr_fraction = a.qat_lr_fraction;
      o.subset = a.subset;
      o.validation = a.validation;
      o.threads = threads;
      o.seed = a.seed;
      o.float_test = false;
      o.float_validation = false;
      o.calibration_images = 512;
      const nn::TrainResult t =
          a.final_qat_steps > 0 ? nn::train(model, *ds, o) : nn::TrainResult{};
      const double test = a.final_qat_steps > 0 ? t.test_accuracy : 0;
      db.put_note(
          study, key,
          nlohmann::json{{"test_accuracy", 100 * test},
                         {"val_accuracy", 100 * t.val_accuracy},
                         {"qat_steps", a.final_qat_steps},
                         {"seconds", std::chrono::duration<double>(Clock::now() - t0).count()}}
              .dump());
      err << "[final " << done << "/" << finalists.size() << "] design " << records[k].index
          << ": test acc " << core::fixed(100 * test, 2) << "% after " << a.final_qat_steps
          << " QAT batches\n";
    }
  }
#endif
  ReportOptions ro;
  ro.out_dir = a.out.empty() ? "hao-report-" + study : a.out;
  ro.json_out = a.json_out;
  write_search_report(db, study, ro, out, err);
  out << "total " << core::fixed(std::chrono::duration<double>(Clock::now() - start).count(), 1)
      << " s this run\n";
  return kExitOk;
}

int run_report(const ReportArgs& a, std::ostream& out, std::ostream& err) {
  if (!fs::exists(a.storage)) throw core::InputError("--storage: " + a.storage + " does not exist");
  store::StudyStore db(a.storage);
  db.settings(a.study);  // names the studies it holds when absent
  ReportOptions ro;
  ro.out_dir = a.out.empty() ? "hao-report-" + a.study : a.out;
  write_search_report(db, a.study, ro, out, err);
  return kExitOk;
}

}  // namespace hao::cli
