// Search strategies behind one ask/tell interface, so one driver runs, stores and resumes
// every strategy. A strategy's ask is a function of its domain, its seed and the observations
// told so far: replaying a stored run's tells and asking again continues it exactly.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "search/domain.hpp"

namespace hao::search {

struct Observation {
  Genotype genotype;
  double accuracy = 0;
  double latency_ms = 0;
  /// The trained candidate's measured sensitivity: per weighted layer (Domain::layer_bits'
  /// names), per bit-width, Omega of its weights and input activations. Empty when not
  /// measured (tables).
  std::map<std::string, std::map<int, double>> omega;
};

class Strategy {
 public:
  virtual ~Strategy() = default;
  virtual std::string name() const = 0;
  /// The next genotype to evaluate: valid and never one already told. Needs at least one
  /// untold genotype in the domain.
  virtual Genotype ask() = 0;
  void tell(const Observation& o);
  /// The candidates other workers are evaluating now (a shared study), replacing the last
  /// call's: never asked again, and each strategy counts them as it can (every strategy's
  /// random draws move on with them, so that workers asking at once ask apart; hao believes
  /// its Gaussian process about their accuracies, a kriging believer).
  void set_pending(std::vector<Genotype> pending);
  /// Whether asking on makes no sense (autoshrink once its trajectory is complete): the study
  /// then stops before its budget.
  virtual bool finished() const { return false; }
  /// Where the last ask came from, for progress lines and the store (e.g. "program 4 at II
  /// <= 1469 cycles"); empty when the strategy does not say.
  virtual std::string why() const { return {}; }
  const std::vector<Observation>& history() const { return history_; }

 protected:
  Strategy(const Domain& domain, std::uint64_t seed) : domain_(domain), seed_(seed) {}
  /// The generator of the coming ask: seeded by (seed, observations told and pending).
  Rng ask_rng() const { return rng_for(seed_, history_.size() + pending_.size()); }
  /// `g` when valid and untold; otherwise a mutation of it, then a random genotype, that is.
  Genotype untold(Genotype g, Rng& rng) const;
  /// One slot changed to another choice, snapped to the domain.
  Genotype mutate(const Genotype& g, Rng& rng) const;
  /// Told, or pending.
  bool told(const Genotype& g) const { return told_.count(g) != 0 || pending_set_.count(g) != 0; }

  const Domain& domain_;
  std::uint64_t seed_;
  std::vector<Observation> history_;
  std::vector<Genotype> pending_;

 private:
  std::set<Genotype> told_, pending_set_;
};

/// A strategy whose asks walk a trajectory, a function of its seed and the observations
/// (autoshrink, netadapt): the trajectory's first network neither observed nor pending; a
/// random one (of `noun`, for the progress line) once it is complete or waits on other workers.
class TrajectoryStrategy : public Strategy {
 public:
  Genotype ask() override;
  std::string why() const override { return why_; }
  bool finished() const override { return next_step().complete; }

 protected:
  struct Next {
    std::optional<Genotype> genotype;
    std::string why;
    bool complete = false;
  };
  TrajectoryStrategy(const Domain& domain, std::uint64_t seed, std::string noun)
      : Strategy(domain, seed), noun_(std::move(noun)) {}
  /// The trajectory over history_ and pending_.
  virtual Next next_step() const = 0;

 private:
  std::string noun_, why_;
};

/// Each slot's choices as numbers (what "smaller" means to netadapt and hurricane; a slot
/// ordered_as_listed counts 0, 1, ...); InputError
/// naming `strategy`, the slot and the choice when one is not a number (a table of cells).
std::vector<std::vector<double>> numeric_choices(const Domain& domain, const std::string& strategy);
/// Every slot at its largest (or smallest) value of `values` (numeric_choices), snapped.
Genotype extreme_genotype(const Domain& domain, const std::vector<std::vector<double>>& values,
                          bool largest);

struct StrategyOptions {
  int population = 10;      ///< nsga2 and evolution: population size
  int tournament = 3;       ///< evolution: sample size of a tournament
  int initial_samples = 5;  ///< hao: random genotypes before the predictor takes over
  /// hao on a space too large to list: the candidates scored per ask are this many random
  /// genotypes plus `pool_mutations` one-slot mutations of each observed front member and
  /// one of every other observation (their hardware is computed, so it is kept small).
  int pool_random = 20;
  int pool_mutations = 4;
  /// hao: of the observations off the front, at most this many (drawn at random) get their one
  /// mutation per ask; -1 all. Cheap evaluations (a supernet) make hundreds of observations,
  /// and every new pool member costs a program 1 solve.
  int pool_others = -1;
  /// hao on a space with a selection program (mbv2): program 4 solved at this many II targets
  /// per ask, its networks added to the candidates.
  int sweep_points = 5;
  /// hao: program 4 runs on every this-many-th ask (counted by observations told), the pool
  /// alone on the others: its solves take seconds, a supernet judgement one.
  int program4_every = 1;
  /// hao: hypervolume gains on log latency (hao search on mbv2 spaces, where fps spans a
  /// factor of ten); the benchmark's linear normalization otherwise.
  bool log_latency = false;
  /// hao: a candidate's predicted gain divided by 1 + the evaluations already at its latency
  /// (within 0.5%), so that asks spread over fps levels (hao search on mbv2 spaces, where many
  /// networks reach the same fastest II); off for tables.
  bool spread = false;
  /// hao: candidates are rated at their predicted accuracy plus this many predictive standard
  /// deviations (an optimistic bound, so that uncertainty and promise are weighed together
  /// instead of falling back to the most uncertain candidate when no mean beats the front);
  /// 0 rates the mean (the tables' benchmark).
  double optimism = 0;
  /// hao: with measured sensitivities (Observation::omega), their feature also enters the
  /// Gaussian process as a linear trend whose weight the marginal likelihood picks. For
  /// accuracies measured at the candidates' bits (QAT in the loop), where quantization loss is
  /// part of what is predicted; off when candidates are judged in float, where the feature
  /// stays one kernel input among the rest (a trend fitted to float accuracies is noise).
  bool sensitivity_trend = false;
  /// flash (--calibration-networks): networks trained for its NN-Degree predictor (a Latin
  /// hypercube) before its co-design steps; 0: 25, or half the budget (rounded up) when that is
  /// less (for_budget).
  int calibration = 0;

  /// autoshrink (search/autoshrink_strategy.hpp): edges drawn per iteration (k), the score's
  /// cost term ("macs" or "latency") and the edge count it stops at (0: the cell's nodes).
  int shrink_candidates = 10;
  std::string shrink_cost = "macs";
  int shrink_min_edges = 0;

  /// netadapt (search/netadapt_strategy.hpp): slots shrunk together per sample (L; 1 is
  /// single-layer descent) and samples per iteration (J).
  int adapt_layers = 4;
  int adapt_samples = 10;

  /// hurricane (search/hurricane_strategy.hpp): operators kept per layer position (K) and the
  /// latency limit in ms (0: the median latency of random networks of the kept pools).
  int hurricane_operators = 3;
  double latency_limit_ms = 0;

  /// The study's evaluations (for_budget): netadapt plans its latency steps over them,
  /// hurricane splits them between its two stages.
  int budget = 150;

  /// These options for a run of `evaluations`: calibration 0 resolved, budget set.
  StrategyOptions for_budget(int evaluations) const;

  /// hao's asks about as cheap as an evaluation of about a second (a supernet's judgement): 6
  /// random candidates, one mutation per front member, 3 of the other observations, program
  /// 4's sweep of 3 targets on every 50th ask. A sweep takes 15-25 s on the default space, and
  /// in a 150-judgement search at every 15th ask its proposals were asked 3 times of 10, none
  /// reaching the front (2026-12-04).
  void cheap_asks();
};

/// "hao", "random", "nsga2", "evolution", "flash", "autoshrink", "netadapt" or "hurricane";
/// InputError listing them otherwise.
std::unique_ptr<Strategy> make_strategy(const std::string& name, const Domain& domain,
                                        std::uint64_t seed, const StrategyOptions& options = {});
const std::vector<std::string>& strategy_names();

/// Whether the strategy reads its observations' measured sensitivities (Observation::omega):
/// only hao's predictor does, so an evaluator that trains candidates measures them for it alone.
bool strategy_reads_sensitivity(const std::string& name);

}  // namespace hao::search
