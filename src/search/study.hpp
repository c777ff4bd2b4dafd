// One resumable study: a strategy asks, an evaluator measures, the store keeps each evaluation
// as it finishes; then the finalists (the evaluated fronts, peeled) get their final
// measurement. `hao search` and `hao bench` both run it. A strategy's ask depends only on its
// seed and the observations told, so replaying the stored evaluations and asking again
// continues a killed study exactly where it stopped.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "search/domain.hpp"
#include "search/strategy.hpp"
#include "store/study_store.hpp"

namespace hao::search {

/// The candidate an evaluator is asked to measure.
struct Candidate {
  int index = 0;  ///< 0, 1, ... in the order the strategy asked
  Genotype genotype;
  double ask_seconds = 0;  ///< the strategy's time to propose it
  std::string ask_source;  ///< Strategy::why() of that ask
};

/// What a study measures of a candidate beyond what its domain gives for free: accuracy (a
/// training, a table look-up, inherited weights) and the record's other fields.
class Evaluator {
 public:
  virtual ~Evaluator() = default;
  /// Every setting of this evaluator that changes a result, kept with the study (a resumed
  /// study must repeat them). `finalists` is the study's count, for evaluators that keep it
  /// with their final measurement's settings.
  virtual nlohmann::ordered_json settings(int finalists) const = 0;
  /// The name of the accuracy it measures, for progress lines ("val acc", "accuracy").
  virtual std::string metric() const = 0;
  /// Measures `c`: fills accuracy, latency_ms, fps, resources, bits, hardware and extra of
  /// `record` (index, genotype, label, seed and wall time are the study's).
  virtual void evaluate(const Candidate& c, store::EvaluationRecord& record) = 0;
  /// What the strategy minimizes for a stored record: the table's latency, or a dataflow
  /// design's frame interval; kInfeasibleMs for a design that fits nowhere.
  virtual double objective_ms(const store::EvaluationRecord& record) const = 0;
  /// Whether finalists get a final measurement (finalize); a table's accuracy is final.
  virtual bool has_final() const { return false; }
  /// The final measurement of a stored evaluation (e.g. quantization-aware fine-tuning, then
  /// the test set): JSON with at least "test_accuracy" in percent, kept as note "final/INDEX".
  virtual nlohmann::json finalize(const store::EvaluationRecord& record);
  /// Genotype codes (genotype_code) this evaluator measures without computing, in the order it
  /// learned them (a supernet's judgements kept by earlier studies): a study with
  /// StudyOptions::warm_start evaluates them before it asks its strategy.
  virtual std::vector<std::string> known() const { return {}; }
};

/// A table's evaluator: accuracy and latency looked up, after `delay_s` seconds (as if each
/// evaluation trained: to rehearse and benchmark many workers on one study).
class TabularEvaluator : public Evaluator {
 public:
  explicit TabularEvaluator(const class TabularDomain& domain, double delay_s = 0)
      : domain_(domain), delay_s_(delay_s) {}
  nlohmann::ordered_json settings(int finalists) const override;
  std::string metric() const override { return "accuracy"; }
  void evaluate(const Candidate& c, store::EvaluationRecord& record) override;
  double objective_ms(const store::EvaluationRecord& record) const override;

 private:
  const TabularDomain& domain_;
  double delay_s_;
};

struct StudyOptions {
  std::string name;  ///< the study's name in the store
  std::string strategy = "hao";
  std::uint64_t seed = 1;
  int budget = 10;    ///< evaluations, counting stored ones
  int finalists = 7;  ///< designs given the final measurement (Evaluator::has_final)
  StrategyOptions strategy_options;
  /// Store the cross-validated rank quality of the accuracy predictors (note
  /// "predictor_kendall") once 10 evaluations are there.
  bool predictor_quality = true;
  /// Evaluate the evaluator's known genotypes first (Evaluator::known, fixed when the study
  /// begins and kept as its note "warm_start"), then ask the strategy; all within the budget.
  bool warm_start = false;
  /// Many workers on one study (a shared store): a worker renews its claim every
  /// `heartbeat_s` while it evaluates; a claim not renewed for `stale_after_s` is taken over
  /// by another worker; a worker with nothing to claim while others evaluate looks again
  /// every `poll_s`.
  double heartbeat_s = 10, stale_after_s = 60, poll_s = 1;
  /// InputError naming the option; `where` prefixes it (e.g. "hao search").
  void validate(const std::string& where = "study") const;
};

/// The space a study searches, as kept with it.
struct StudySpace {
  std::string name, kind, yaml;
};

/// Called as the study goes; any member may be empty.
struct StudyProgress {
  /// After replaying `stored` evaluations (`resumed`: the study was in the store).
  std::function<void(bool resumed, std::size_t stored)> started;
  /// After evaluation `record` was stored; `eta_s` estimates the time left.
  std::function<void(const store::EvaluationRecord& record, const std::string& why, double eta_s)>
      evaluated;
  /// After another worker's evaluation `record` was found in the store.
  std::function<void(const store::EvaluationRecord& record)> landed;
  /// This worker took over evaluation `index`, abandoned by worker `from`.
  std::function<void(int index, const std::string& from)> taken_over;
  /// The budget is reached counting `pending` evaluations of other workers: this one waits
  /// (once per wait).
  std::function<void(std::size_t pending)> waiting;
  /// After finalist `done` of `total` was measured.
  std::function<void(std::size_t done, std::size_t total, const store::EvaluationRecord& record,
                     const nlohmann::json& final_note)>
      finalized;
};

struct StudyResult {
  bool resumed = false;
  std::size_t replayed = 0;   ///< evaluations found in the store when the run began
  std::size_t evaluated = 0;  ///< evaluations this run stored (other workers' not counted)
  std::vector<store::EvaluationRecord> records;
  std::vector<std::size_t> finalists;  ///< indices into records (Evaluator::has_final)
  std::vector<Observation> observations;
  double seconds = 0;
};

/// The settings a study is kept with: the space, strategy, seed, population, the evaluator's
/// settings, and the hao strategy's optimism when not 0.
nlohmann::ordered_json study_settings(const StudySpace& space, const StudyOptions& options,
                                      const Evaluator& evaluator);

/// Runs (or resumes, or joins) the study: opens it in `store` (InputError when stored with
/// other settings), replays its evaluations, then claims, evaluates and stores candidates up
/// to the budget: each claim tells the strategy the evaluations other workers stored since,
/// sets the ones they are evaluating as pending, and asks; an abandoned claim is taken over
/// with its genotype. Then it measures the finalists not yet measured. With one worker this is
/// the sequential study: the same candidates after a kill and a resume. A stored genotype the
/// domain does not hold is InputError naming the store and the evaluation.
StudyResult run_study(store::StudyStore& store, const Domain& domain, Evaluator& evaluator,
                      const StudySpace& space, const StudyOptions& options,
                      const StudyProgress& progress = {});

/// A genotype as the store keeps it ("3,0,2,...") and back; a damaged code throws InputError
/// naming `where`.
std::string genotype_code(const Genotype& g);
Genotype parse_code(const std::string& code, const std::string& where);

/// The frame interval of a stored dataflow design, 1000 / fps ms (the frontier is over it; a
/// pipeline's latency also counts its depth); kInfeasibleMs for a design that fits nowhere.
double frame_interval_ms(const store::EvaluationRecord& r);

/// What a strategy is told of a stored evaluation of `g` whose objective is `latency_ms`: its
/// accuracy and the per-layer sensitivity measured after training (extra's "sensitivity":
/// layer name -> bits -> Omega; absent for tables and older studies).
Observation observation_of(const store::EvaluationRecord& r, const Genotype& g, double latency_ms);

/// The designs given the final measurement: the evaluated fronts over (frame interval,
/// accuracy) peeled as search::peel_fronts does, infeasible designs left out.
std::vector<std::size_t> pick_finalists(const std::vector<store::EvaluationRecord>& records,
                                        std::size_t n);

}  // namespace hao::search
