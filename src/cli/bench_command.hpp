// `hao bench`: search strategies compared on a tabular benchmark by hypervolume ratio.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace hao::cli {

struct BenchArgs {
  std::string space;
  std::vector<std::string> strategies{"hao", "random", "nsga2", "evolution"};
  int budget = 50;
  int seeds = 10;
  std::uint64_t first_seed = 0;
  std::string latency;   ///< FILE:COLUMN
  std::string accuracy;  ///< FILE:COLUMN
  std::string data;      ///< shared/data folder
  int population = 10;
  int calibration = 0;
  int workers = 1;
  double evaluation_delay_s = 0;
  std::string storage;  ///< many workers: a postgresql:// URL ("" a temporary SQLite file)
  std::string json_out;
};

CLI::App* add_bench_command(CLI::App& app, BenchArgs& args);
int run_bench(const BenchArgs& args, std::ostream& out, std::ostream& err);

}  // namespace hao::cli
