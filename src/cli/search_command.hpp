// `hao search` (the co-design search, stored and resumable) and `hao report` (its report
// folder, rebuilt from the store).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>

#include "cli/options.hpp"

namespace CLI {
class App;
}

namespace hao::cli {

/// `hao search`'s supernet steps (when it trains one) for a single-operator space.
inline constexpr long kSearchSupernetSteps = 240, kSearchSupernetQatSteps = 60;

struct SearchArgs {
  std::string space = "fmnist-mbv2";
  std::string strategy = "hao";
  /// 0: 150 judged on a supernet, 10 trained from scratch, 50 on a table; autoshrink: its
  /// trajectory's length
  int budget = 0;
  unsigned seed = 1;
  double optimism = 0;  ///< hao strategy: candidates rated at mean + optimism x sd
  std::string study;    ///< default: SPACE-STRATEGY[-supernet][-DEVICE]-sSEED
  std::string storage = "hao-studies.db";  ///< an SQLite file or a postgresql:// URL
  std::string files;  ///< checkpoints and supernets; default STORAGE.d, or hao-files for a server
  double evaluation_delay_s = 0;  ///< tabular spaces: seconds each evaluation waits
  double stale_after_s = 60;      ///< a claim not renewed this long is taken over
  std::string out;                ///< report folder; default: hao-report-STUDY
  DeviceArgs device;
  std::string data;     ///< reference-data folder for tabular spaces
  std::string latency;  ///< FILE:COLUMN override for tabular spaces
  /// Generative spaces: scratch (each trained) or supernet (judged with inherited weights);
  /// empty: supernet on mbv2 spaces (the only kind supernets are built for), else scratch.
  std::string evaluator;
  /// Supernet steps; -1: kSearchSupernetSteps and kSearchSupernetQatSteps per operator of the
  /// space's largest pool (search::Mbv2Spec::supernet_steps).
  long supernet_steps = -1;
  long supernet_qat_steps = -1;
  double supernet_distillation = 0;        ///< nn::SupernetTrainOptions::distillation
  std::string supernet_mode = "sandwich";  ///< nn::SupernetMode
  std::size_t recalibration_images = 500;
  std::string supernet;     ///< a supernet from hao supernet train instead of the kept one
  bool no_reuse = false;    ///< compute what the supernet memo holds again
  bool warm_start = false;  ///< evaluate the memo's judged genotypes first
  // Training of each candidate (trained spaces, --evaluator scratch).
  long train_steps = 120;
  std::size_t subset = 12000;
  std::size_t validation = 1000;
  long qat_steps = 0;  ///< 0: candidates are judged in float; the finalists get QAT
  int finalists = 7;
  long final_qat_steps = 40;
  long final_steps = -1;          ///< -1: the evaluator's default (120 on a supernet, else 0)
  double qat_lr_fraction = 0.02;  ///< QAT's peak learning rate as a fraction of the float one
  std::size_t calibration_images = 512;
  int sensitivity_probes = 8;
  int sensitivity_batch = 128;
  double ilp_time_limit_s = 20;
  int threads = 0;
  int population = 10;
  int calibration = 0;
  int shrink_candidates = 10;  ///< autoshrink: edges drawn per iteration
  std::string shrink_cost = "macs";
  int shrink_min_edges = 0;
  int adapt_layers = 4;             ///< netadapt: slots shrunk together per sample (L)
  int adapt_samples = 10;           ///< netadapt: samples per iteration (J)
  std::string target = "dataflow";  ///< what latency is: dataflow, engine or cpu
  std::string cpu_table;            ///< --target cpu: the piece table (default STORE.d/...)
  std::string latency_model;        ///< --target engine: a calibrated model of a pinned engine
  int hurricane_operators = 3;      ///< hurricane: operators kept per layer position (K)
  double latency_limit_ms = 0;      ///< hurricane: the constraint (0: automatic)
  std::string json_out;
};

struct ReportArgs {
  std::string study;
  std::string storage = "hao-studies.db";
  std::string out;
};

CLI::App* add_search_command(CLI::App& app, SearchArgs& args);
CLI::App* add_report_command(CLI::App& app, ReportArgs& args);
int run_search(const SearchArgs& args, std::ostream& out, std::ostream& err);
int run_report(const ReportArgs& args, std::ostream& out, std::ostream& err);

}  // namespace hao::cli
