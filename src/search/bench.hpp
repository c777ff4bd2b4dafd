// Strategies compared on a tabular benchmark by the hypervolume ratio to the exact front
// (issue 6's definition): both objectives normalized by the whole space's bounds, reference
// point (1, 1), hypervolume of every architecture a strategy evaluated divided by that of all.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "search/strategy.hpp"
#include "search/tabular.hpp"

namespace hao::search {

struct BenchOptions {
  std::vector<std::string> strategies{"hao", "random", "nsga2", "evolution"};
  int budget = 50;  ///< accuracy look-ups per run
  int seeds = 10;   ///< runs per strategy, seeds first_seed .. first_seed + seeds - 1
  std::uint64_t first_seed = 0;
  StrategyOptions strategy;
  /// Worker processes per run. 1 with no delay and no storage: the study runs in this process
  /// on an in-memory store. Otherwise each run is that many forked processes on one shared
  /// store, as `hao search` workers are: wall time and hypervolume with many workers.
  int workers = 1;
  double evaluation_delay_s = 0;                ///< seconds each look-up waits, as if it trained
  std::string storage;                          ///< a postgresql:// URL; "" a temporary SQLite file
  void validate(std::size_t space_size) const;  ///< InputError naming the option
};

struct BenchSummary {
  std::string strategy;
  std::vector<double> ratios;                       ///< per seed
  std::vector<std::vector<std::string>> evaluated;  ///< per seed, the labels in order
  double mean = 0, sd = 0, min = 0, max = 0;
  double seconds = 0;          ///< wall time of all its runs
  std::vector<double> wall_s;  ///< per seed, the run's wall time
};

struct BenchResult {
  std::size_t space_size = 0, exact_front_size = 0;
  double exact_hypervolume = 0;
  std::vector<BenchSummary> strategies;
};

/// Runs every strategy for every seed, each run a search::run_study (kept in memory, or by
/// BenchOptions::workers processes on a shared store); `progress(strategy, seed)` after each.
BenchResult run_bench(const TabularDomain& domain, const BenchOptions& options,
                      const std::function<void(const std::string&, std::uint64_t)>& progress = {});

}  // namespace hao::search
