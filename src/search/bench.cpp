#include "search/bench.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "core/error.hpp"
#include "core/text.hpp"
#include "search/study.hpp"

namespace hao::search {
namespace {

/// Runs study `so` as `workers` forked processes on the store `storage`, each its own
/// connection, as separate `hao search` workers; the stored evaluations.
std::vector<store::EvaluationRecord> run_workers(const TabularDomain& domain,
                                                 const StudyOptions& so,
                                                 const BenchOptions& options,
                                                 const std::string& storage) {
  std::vector<pid_t> children;
  for (int w = 0; w < options.workers; ++w) {
    const pid_t child = fork();
    if (child < 0) throw store::StoreError("hao bench: cannot start a worker process");
    if (child == 0) {
      int code = 0;
      try {
        const auto db = store::open_store(storage);
        TabularEvaluator evaluator(domain, options.evaluation_delay_s);
        run_study(*db, domain, evaluator, {"table", "tabular", ""}, so);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "hao bench: worker %d: %s\n", w, e.what());
        code = 1;
      }
      std::fflush(nullptr);
      _exit(code);
    }
    children.push_back(child);
  }
  bool failed = false;
  for (pid_t child : children) {
    int status = 0;
    waitpid(child, &status, 0);
    failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
  }
  if (failed) throw store::StoreError("hao bench: a worker of study '" + so.name + "' failed");
  return store::open_store(storage)->evaluations(so.name);
}

}  // namespace

void BenchOptions::validate(std::size_t space_size) const {
  core::IssueList issues("hao bench");
  if (strategies.empty()) issues.add("--strategy", "names no strategy");
  if (budget < 1 || static_cast<std::size_t>(budget) > space_size)
    issues.add("--budget", std::to_string(budget) + ", expected 1.." + std::to_string(space_size) +
                               " (the space's size)");
  if (seeds < 1) issues.add("--seeds", std::to_string(seeds) + ", expected >= 1");
  if (strategy.population < 2) issues.add("--population", "expected >= 2");
  if (strategy.tournament < 1) issues.add("--tournament", "expected >= 1");
  if (workers < 1 || workers > 256)
    issues.add("--workers", std::to_string(workers) + ", expected 1..256");
  if (!(evaluation_delay_s >= 0))
    issues.add("--evaluation-delay", core::fixed(evaluation_delay_s, 3) + ", expected >= 0");
  issues.throw_if_any();
}

BenchResult run_bench(const TabularDomain& domain, const BenchOptions& options,
                      const std::function<void(const std::string&, std::uint64_t)>& progress) {
  options.validate(domain.size());
  for (const auto& s : options.strategies)
    make_strategy(s, domain, 0, options.strategy.for_budget(options.budget));
  const bool shared =
      options.workers > 1 || options.evaluation_delay_s > 0 || !options.storage.empty();
  // Many workers share a file or a server; a temporary file is removed at the end.
  std::string storage = options.storage;
  std::string temporary;
  if (shared && storage.empty()) {
    temporary =
        (std::filesystem::temp_directory_path() / ("hao-bench-" + std::to_string(getpid()) + ".db"))
            .string();
    storage = temporary;
  }
  struct RemoveTemporary {
    const std::string& path;
    ~RemoveTemporary() {
      std::error_code ec;
      if (!path.empty())
        for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix, ec);
    }
  } remove_temporary{temporary};
  BenchResult result;
  const std::vector<Objectives> all = domain.all_objectives();
  const Normalizer n = Normalizer::of(all);
  result.space_size = all.size();
  result.exact_front_size = pareto_front(all).size();
  result.exact_hypervolume = hypervolume(all, n);
  for (const auto& name : options.strategies) {
    BenchSummary s;
    s.strategy = name;
    const auto start = std::chrono::steady_clock::now();
    for (int k = 0; k < options.seeds; ++k) {
      const std::uint64_t seed = options.first_seed + static_cast<std::uint64_t>(k);
      StudyOptions so;
      so.name = name + "-s" + std::to_string(seed);
      so.strategy = name;
      so.seed = seed;
      so.budget = options.budget;
      so.strategy_options = options.strategy;
      so.predictor_quality = false;
      so.poll_s = 0.1;  // a worker that waits for the last evaluations looks again soon
      std::vector<Objectives> seen;
      std::vector<std::string> labels;
      std::vector<store::EvaluationRecord> records;
      const auto run_start = std::chrono::steady_clock::now();
      if (shared) {
        // A fresh study per run, also on a server that holds earlier benchmarks.
        so.name = "bench-" + so.name + "-w" + std::to_string(options.workers) + "-" +
                  store::worker_id().substr(store::worker_id().rfind(':') + 1);
        records = run_workers(domain, so, options, storage);
      } else {
        // A study kept in memory: the benchmark needs its evaluations, not a record of them.
        store::SqliteStudyStore store(":memory:");
        TabularEvaluator evaluator(domain);
        records = run_study(store, domain, evaluator, {"table", "tabular", ""}, so).records;
      }
      s.wall_s.push_back(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - run_start).count());
      for (const auto& r : records) {
        seen.push_back({r.latency_ms, r.accuracy});
        labels.push_back(r.label);
      }
      s.evaluated.push_back(std::move(labels));
      s.ratios.push_back(hypervolume(seen, n) / result.exact_hypervolume);
      if (progress) progress(name, seed);
    }
    s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    s.min = s.max = s.ratios[0];
    for (double r : s.ratios) {
      s.mean += r / static_cast<double>(s.ratios.size());
      s.min = std::min(s.min, r);
      s.max = std::max(s.max, r);
    }
    for (double r : s.ratios) s.sd += (r - s.mean) * (r - s.mean);
    s.sd = s.ratios.size() > 1 ? std::sqrt(s.sd / static_cast<double>(s.ratios.size() - 1)) : 0;
    result.strategies.push_back(std::move(s));
  }
  return result;
}

}  // namespace hao::search
