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

struct SearchArgs {
  std::string space = "fmnist-mbv2";
  std::string strategy = "hao";
  int budget = 0;  ///< 0: 10 on a trained space, 50 on a table
  unsigned seed = 1;
  double optimism = 0;  ///< hao strategy: candidates rated at mean + optimism x sd
  std::string study;    ///< default: SPACE-STRATEGY-sSEED
  std::string storage = "hao-studies.db";
  std::string out;  ///< report folder; default: hao-report-STUDY
  DeviceArgs device;
  std::string data;     ///< reference-data folder for tabular spaces
  std::string latency;  ///< FILE:COLUMN override for tabular spaces
  // Training of each candidate (trained spaces).
  long train_steps = 120;
  std::size_t subset = 12000;
  std::size_t validation = 1000;
  long qat_steps = 0;  ///< 0: candidates are judged in float; the finalists get QAT
  int finalists = 7;
  long final_qat_steps = 40;
  double qat_lr_fraction = 0.02;  ///< QAT's peak learning rate as a fraction of the float one
  std::size_t calibration_images = 512;
  int sensitivity_probes = 8;
  int sensitivity_batch = 128;
  double ilp_time_limit_s = 20;
  int threads = 0;
  int population = 10;
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
