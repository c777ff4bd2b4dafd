// Many worker processes on one study, as `hao search` runs them on a shared store: the check
// that the SQLite tests (search_tests) and the PostgreSQL tests (postgres_tests) both run.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "search/study.hpp"
#include "search/tabular.hpp"

namespace hao::search {

/// A table's evaluator that takes `delay_ms` per evaluation (so that evaluation dominates);
/// with `hang_at` >= 0, it writes this worker's name to `hang_file` at that evaluation and
/// waits to be killed. Its final measurement appends the evaluation's index to `finals_log`.
class SlowEvaluator : public TabularEvaluator {
 public:
  SlowEvaluator(const TabularDomain& d, int delay_ms, std::string finals_log, int hang_at = -1,
                std::string hang_file = {})
      : TabularEvaluator(d),
        delay_ms_(delay_ms),
        hang_at_(hang_at),
        hang_file_(std::move(hang_file)),
        finals_log_(std::move(finals_log)) {}
  bool has_final() const override { return true; }
  nlohmann::json finalize(const store::EvaluationRecord& r) override {
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms_));
    std::ofstream(finals_log_, std::ios::app) << std::to_string(r.index) + "\n" << std::flush;
    return {{"test_accuracy", r.accuracy - 1}};
  }
  void evaluate(const Candidate& c, store::EvaluationRecord& r) override {
    if (count_++ == hang_at_) {
      std::ofstream(hang_file_ + ".tmp") << store::worker_id();
      std::filesystem::rename(hang_file_ + ".tmp", hang_file_);
      for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms_));
    TabularEvaluator::evaluate(c, r);
  }

 private:
  int delay_ms_, hang_at_, count_ = 0;
  std::string hang_file_, finals_log_;
};

/// `workers` processes run one study of `domain` (budget `budget`, strategy `strategy`) on
/// the store `open` returns; the first hangs at its third evaluation and is killed with
/// SIGKILL. Then: exactly `budget` evaluations, indices 0..budget-1, no genotype twice, the
/// killed worker's candidate evaluated by another, each finalist measured by one worker, and a
/// worker started after the budget is reached returns at once having evaluated nothing.
inline void check_workers(const std::function<std::unique_ptr<store::StudyStore>()>& open,
                          const TabularDomain& domain, const std::string& strategy, int budget,
                          int workers, const std::string& scratch_dir) {
  StudyOptions o;
  o.name = "shared";
  o.strategy = strategy;
  o.seed = 5;
  o.budget = budget;
  o.predictor_quality = false;
  const StudySpace space{"nb201", "tabular", "name: nb201"};
  const std::string hang_file = scratch_dir + "/hung-worker";
  const std::string finals_log = scratch_dir + "/finals.log";
  std::filesystem::remove(hang_file);
  std::filesystem::remove(finals_log);
  std::vector<pid_t> children;
  auto start_worker = [&](int w) {
    const pid_t child = fork();
    if (child == 0) {
      int code = 0;
      try {
        auto db = open();  // each worker its own connection, opened after the fork
        SlowEvaluator e(domain, 20, finals_log, w == 0 ? 2 : -1, hang_file);
        run_study(*db, domain, e, space, o);
      } catch (const std::exception& err) {
        std::fprintf(stderr, "worker %d: %s\n", w, err.what());
        code = 1;
      }
      _exit(code);
    }
    children.push_back(child);
  };
  // The first worker alone until it hangs holding its third claim (so that it surely gets
  // one, however loaded the machine), then the others, then it is killed.
  start_worker(0);
  ASSERT_GT(children[0], 0);
  std::string hung;
  for (int wait = 0; wait < 6000 && hung.empty(); ++wait) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::ifstream in(hang_file);
    std::getline(in, hung);
  }
  ASSERT_FALSE(hung.empty()) << "the first worker never reached its third evaluation";
  for (int w = 1; w < workers; ++w) start_worker(w);
  for (pid_t child : children) ASSERT_GT(child, 0);
  kill(children[0], SIGKILL);
  for (std::size_t w = 0; w < children.size(); ++w) {
    int status = 0;
    waitpid(children[w], &status, 0);
    if (w > 0) {
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "worker " << w;
    }
  }

  auto db = open();
  const auto records = db->evaluations("shared");
  ASSERT_EQ(records.size(), static_cast<std::size_t>(budget));
  std::set<std::string> genotypes;
  int taken_over = 0, by_killed = 0;
  for (std::size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(records[i].index, static_cast<int>(i));
    EXPECT_TRUE(genotypes.insert(records[i].genotype).second)
        << "genotype " << records[i].label << " evaluated twice";
    const auto extra = nlohmann::json::parse(records[i].extra);
    by_killed += extra.value("worker", "") == hung;
    if (extra.value("taken_over_from", "") == hung) ++taken_over;
  }
  EXPECT_EQ(by_killed, 2);  // its two evaluations before it hung, and no more
  EXPECT_EQ(taken_over, 1) << "the killed worker's candidate was not taken over once";

  std::ifstream log(finals_log);
  std::multiset<std::string> finals;
  for (std::string line; std::getline(log, line);) finals.insert(line);
  const auto picked = pick_finalists(records, static_cast<std::size_t>(o.finalists));
  EXPECT_EQ(finals.size(), picked.size()) << "finalists measured more than once, or not at all";
  for (std::size_t k : picked) {
    EXPECT_EQ(finals.count(std::to_string(records[k].index)), 1u);
    EXPECT_FALSE(db->note("shared", "final/" + std::to_string(records[k].index)).empty());
  }

  SlowEvaluator late_evaluator(domain, 20, finals_log);
  const auto start = std::chrono::steady_clock::now();
  const StudyResult late = run_study(*db, domain, late_evaluator, space, o);
  EXPECT_EQ(late.evaluated, 0u);
  EXPECT_EQ(late.finalists.size(), picked.size());
  EXPECT_EQ(late.records.size(), static_cast<std::size_t>(budget));
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 5.0);
}

}  // namespace hao::search
