#include "search/bench.hpp"

#include <chrono>
#include <cmath>

#include "core/error.hpp"
#include "search/study.hpp"

namespace hao::search {

void BenchOptions::validate(std::size_t space_size) const {
  core::IssueList issues("hao bench");
  if (strategies.empty()) issues.add("--strategy", "names no strategy");
  if (budget < 1 || static_cast<std::size_t>(budget) > space_size)
    issues.add("--budget", std::to_string(budget) + ", expected 1.." + std::to_string(space_size) +
                               " (the space's size)");
  if (seeds < 1) issues.add("--seeds", std::to_string(seeds) + ", expected >= 1");
  if (strategy.population < 2) issues.add("--population", "expected >= 2");
  if (strategy.tournament < 1) issues.add("--tournament", "expected >= 1");
  issues.throw_if_any();
}

BenchResult run_bench(const TabularDomain& domain, const BenchOptions& options,
                      const std::function<void(const std::string&, std::uint64_t)>& progress) {
  options.validate(domain.size());
  for (const auto& s : options.strategies) make_strategy(s, domain, 0, options.strategy);
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
      // A study kept in memory: the benchmark needs its evaluations, not a record of them.
      store::SqliteStudyStore store(":memory:");
      TabularEvaluator evaluator(domain);
      StudyOptions so;
      so.name = name + "-s" + std::to_string(seed);
      so.strategy = name;
      so.seed = seed;
      so.budget = options.budget;
      so.strategy_options = options.strategy;
      so.predictor_quality = false;
      std::vector<Objectives> seen;
      std::vector<std::string> labels;
      const StudyResult run = run_study(store, domain, evaluator, {"table", "tabular", ""}, so);
      for (const auto& r : run.records) {
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
