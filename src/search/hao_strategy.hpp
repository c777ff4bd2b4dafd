// The hao strategy: latency is free (a table or the integer programs), so only accuracy is
// predicted. A Gaussian process fitted on the observations predicts every candidate's
// accuracy; the next evaluation is the candidate whose predicted point would add the most
// hypervolume to the observed front (the predicted frontier's most promising member).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "search/strategy.hpp"

namespace hao::search {

std::unique_ptr<Strategy> make_hao_strategy(const Domain& domain, std::uint64_t seed,
                                            const StrategyOptions& options);

/// Sensitivity carried from the trained candidates to any genotype: a layer's Omega at some
/// bits is the mean measured for that layer name at those bits, or else for its role (the name
/// past its block prefix: "s2b1_dw" is a "dw"), or else 0; a genotype's is the sum over its
/// weighted layers at their bits (Domain::layer_bits). The quantization half of the
/// accuracy predictor's features: what the candidate's bits cost, in HAWQ's measure.
class OmegaTable {
 public:
  OmegaTable(const Domain& domain, const std::vector<Observation>& history);
  bool empty() const { return by_name_.empty(); }
  double layer(const std::string& name, int bits) const;
  double network(const Domain& domain, const Genotype& g) const;
  /// The predictor's feature: log10 of network() over the median measured genotype's summed
  /// Omega, so that the feature is near 0 for a typical candidate and one unit is a factor 10.
  double feature(const Domain& domain, const Genotype& g) const;

 private:
  struct Mean {
    double sum = 0;
    int count = 0;
  };
  std::map<std::pair<std::string, int>, Mean> by_name_, by_role_;
  double median_ = 1;
};

/// Of `candidates`, the first of those with the largest positive `exact` gain, computing
/// `exact` for as few as it can: in the order of `upper` (an upper bound of each exact gain,
/// indexed by candidate), it stops when the bound falls below the best exact gain so far.
/// `exact` returns -infinity for a candidate that cannot be asked (its design fits nowhere).
/// npos (std::size_t max) when no exact gain is positive.
std::size_t best_by_bounds(const std::vector<std::size_t>& candidates,
                           const std::vector<double>& upper,
                           const std::function<double(std::size_t)>& exact);

/// Program 4's proposals: ridge regression on the space's additive terms (its surrogate),
/// then the MILP at `points` II targets spaced geometrically from the fastest design to the most
/// folded; per target the network the surrogate rates best among those that reach it, with its
/// predicted accuracy. Empty when the domain has no selection space or `history` is empty.
struct Proposal {
  Genotype genotype;
  std::int64_t target_ii_cycles = 0;
  double predicted = 0;   ///< the surrogate's accuracy
  ilp::SolveStats stats;  ///< program 4's
};
std::vector<Proposal> program4_proposals(const Domain& domain,
                                         const std::vector<Observation>& history, int points);

/// Five-fold cross-validated Kendall tau of the Gaussian process and of ridge regression on
/// `history` (features from `domain` and the sensitivity the history measured: keys "gp" and
/// "ridge"; when it measured some, also without it: "gp_no_sensitivity", "ridge_no_sensitivity");
/// the process as the strategy fits it (StrategyOptions::sensitivity_trend); where the domain
/// has a topology, "nn_degree": Kendall tau-b of NN-Degree against the accuracies (no fit);
/// empty below 10 observations.
std::map<std::string, double> predictor_kendall(const Domain& domain,
                                                const std::vector<Observation>& history,
                                                unsigned seed, bool sensitivity_trend);

}  // namespace hao::search
