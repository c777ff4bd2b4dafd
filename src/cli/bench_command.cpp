#include "cli/bench_command.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli/app.hpp"
#include "cli/common.hpp"
#include "cli/options.hpp"
#include "core/text.hpp"
#include "report/table.hpp"
#include "search/bench.hpp"

namespace hao::cli {

CLI::App* add_bench_command(CLI::App& app, BenchArgs& a) {
  CLI::App* cmd = app.add_subcommand(
      "bench",
      "Compare search strategies on a tabular benchmark. Each strategy runs --seeds times with "
      "--budget accuracy look-ups (latency is free to every strategy); a run scores the "
      "hypervolume of every architecture it evaluated divided by that of the whole space, both "
      "objectives normalized by the space's bounds (latency to [0,1], error = 1 - normalized "
      "accuracy), reference point (1, 1). Prints per strategy the mean, standard deviation, "
      "minimum and maximum of that ratio over the seeds.");
  cmd->add_option("space", a.space, "nb201 (NAS-Bench-201) or anb (the Accel-NASBench sample)")
      ->required()
      ->check(CLI::IsMember({"nb201", "anb"}));
  cmd->add_option("--strategy", a.strategies,
                  "Strategies, comma-separated: hao, random, nsga2, evolution, flash "
                  "(autoshrink, netadapt and hurricane descend, shrink or pick operators in a "
                  "generative space: hao search; on these tables they stop with exit 2)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--budget", a.budget, "Accuracy evaluations per run")->capture_default_str();
  cmd->add_option("--seeds", a.seeds, "Runs per strategy")->capture_default_str();
  cmd->add_option("--first-seed", a.first_seed, "Seed of the first run (then +1 per run)")
      ->capture_default_str();
  cmd->add_option("--latency", a.latency,
                  "Latency as FILE:COLUMN in ms, joined on arch_index (or result_id) "
                  "(default: nb201/latency_ms.csv:fpga; anb: calibration.csv:zcu102_latency_ms)");
  cmd->add_option("--accuracy", a.accuracy,
                  "Accuracy as FILE:COLUMN with the genotype column (default: "
                  "nb201/accuracy.csv:cifar10_test_acc; anb: calibration.csv:val_top1_proxy)");
  cmd->add_option("--data", a.data, "Reference-data folder (default: $HAO_DATA or ../shared/data)");
  cmd->add_option("--population", a.population, "Population of nsga2 and evolution")
      ->capture_default_str();
  cmd->add_option(
         "--calibration-networks", a.calibration,
         "flash: networks trained (a Latin hypercube) to fit its NN-Degree accuracy predictor "
         "before its co-design steps (default: 25, or half the budget when less; >= 3)")
      ->check(CLI::Range(3, 100000));
  cmd->add_option("--workers", a.workers,
                  "Worker processes per run, sharing one study as hao search workers do (with "
                  "more than 1, or a delay, each run is that many processes on --storage)")
      ->capture_default_str();
  cmd->add_option("--evaluation-delay", a.evaluation_delay_s,
                  "Seconds each look-up waits, as if it trained (so that evaluation dominates)")
      ->check(CLI::Range(0.0, 86400.0));
  cmd->add_option("--storage", a.storage,
                  "Many workers: the shared store, a postgresql:// URL (default: a temporary "
                  "SQLite file)");
  add_json_option(*cmd, a.json_out, "the per-seed ratios and summaries");
  cmd->footer(
      "Examples:\n"
      "  hao bench nb201 --budget 50 --seeds 10 --latency "
      "../shared/data/nb201/latency_ms.csv:raspi4\n"
      "  hao bench nb201 --strategy hao --workers 4 --evaluation-delay 1   # four workers\n"
      "Rows without a latency (empty or NaN) are left out of the space. Exit 2 on bad input.");
  return cmd;
}

int run_bench(const BenchArgs& a, std::ostream& out, std::ostream& err) {
  search::TabularSource source =
      search::default_source(a.space, a.data.empty() ? default_data_dir() : a.data);
  if (!a.latency.empty())
    std::tie(source.latency_file, source.latency_column) =
        split_file_column(a.latency, "--latency");
  if (!a.accuracy.empty())
    std::tie(source.accuracy_file, source.accuracy_column) =
        split_file_column(a.accuracy, "--accuracy");
  const search::TabularDomain domain(source);
  if (domain.skipped())
    err << "hao: note: " << domain.skipped() << " rows have no latency in " << source.latency_file
        << ":" << source.latency_column << "; left out\n";
  if (domain.merged())
    err << "hao: note: " << domain.merged() << " rows repeat an earlier genotype; averaged\n";
  search::BenchOptions options;
  options.strategies = a.strategies;
  options.budget = a.budget;
  options.seeds = a.seeds;
  options.first_seed = a.first_seed;
  options.strategy.population = a.population;
  options.strategy.calibration = a.calibration;
  options.workers = a.workers;
  options.evaluation_delay_s = a.evaluation_delay_s;
  options.storage = a.storage;
  const std::size_t runs =
      options.strategies.size() * static_cast<std::size_t>(std::max(0, a.seeds));
  std::size_t done = 0;
  const search::BenchResult r =
      search::run_bench(domain, options, [&](const std::string& s, std::uint64_t seed) {
        ++done;
        if (!is_terminal(err)) return;
        err << "\r[" << done << "/" << runs << "] " << s << " seed " << seed << "      "
            << std::flush;
        if (done == runs) err << "\n";
      });

  out << a.space << ": " << r.space_size << " architectures, exact front " << r.exact_front_size
      << " points, hypervolume " << core::fixed(r.exact_hypervolume, 4) << "\n"
      << "accuracy " << source.accuracy_file << ":" << source.accuracy_column << ", latency "
      << source.latency_file << ":" << source.latency_column << "\n"
      << "budget " << a.budget << " evaluations, " << a.seeds << " seeds from " << a.first_seed
      << (a.workers > 1 || a.evaluation_delay_s > 0
              ? ", " + std::to_string(a.workers) + " worker(s) per run, " +
                    core::fixed(a.evaluation_delay_s, 2) + " s per evaluation"
              : std::string())
      << "\n";
  report::Table t;
  t.add_column("strategy", report::Table::Align::kLeft);
  t.add_column("HV ratio mean");
  t.add_column("sd");
  t.add_column("min");
  t.add_column("max");
  t.add_column("time s");
  t.add_column("s per run");
  for (const auto& s : r.strategies)
    t.add_row({s.strategy, core::fixed(s.mean, 4), core::fixed(s.sd, 4), core::fixed(s.min, 4),
               core::fixed(s.max, 4), core::fixed(s.seconds, 1),
               core::fixed(
                   s.seconds / static_cast<double>(std::max<std::size_t>(1, s.wall_s.size())), 2)});
  out << t.render();
  if (!a.json_out.empty()) {
    nlohmann::json j{{"space", a.space},
                     {"space_size", r.space_size},
                     {"exact_front_size", r.exact_front_size},
                     {"exact_hypervolume", r.exact_hypervolume},
                     {"accuracy", source.accuracy_file + ":" + source.accuracy_column},
                     {"latency", source.latency_file + ":" + source.latency_column},
                     {"budget", a.budget},
                     {"seeds", a.seeds},
                     {"first_seed", a.first_seed},
                     {"workers", a.workers},
                     {"evaluation_delay_s", a.evaluation_delay_s},
                     {"definition",
                      "hypervolume of every evaluated architecture over that of all, both "
                      "objectives normalized by the space's min and max (latency minimized, "
                      "error = 1 - normalized accuracy), reference point (1, 1)"}};
    for (const auto& s : r.strategies)
      j["strategies"].push_back({{"strategy", s.strategy},
                                 {"ratios", s.ratios},
                                 {"evaluated", s.evaluated},
                                 {"mean", s.mean},
                                 {"sd", s.sd},
                                 {"min", s.min},
                                 {"max", s.max},
                                 {"seconds", s.seconds},
                                 {"wall_seconds", s.wall_s}});
    write_output(a.json_out, j.dump(2) + "\n", out);
  }
  return kExitOk;
}

}  // namespace hao::cli
