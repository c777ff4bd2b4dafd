// The hao strategy: latency is free (a table or the integer programs), so only accuracy is
// predicted. A Gaussian process fitted on the observations predicts every candidate's
// accuracy; the next evaluation is the candidate whose predicted point would add the most
// hypervolume to the observed front (the predicted frontier's most promising member).
#pragma once

#include <map>
#include <memory>
#include <string>

#include "search/strategy.hpp"

namespace hao::search {

std::unique_ptr<Strategy> make_hao_strategy(const Domain& domain, std::uint64_t seed,
                                            const StrategyOptions& options);

/// Program 4's proposals: ridge regression on the space's additive terms (its surrogate),
/// then the MILP at `points` II targets spaced geometrically from the fastest design to the most
/// folded; per target the network the surrogate rates best among those that reach it, with its
/// predicted accuracy. Empty when the domain has no selection space or `history` is empty.
struct Proposal {
  Genotype genotype;
  std::int64_t target_ii_cycles = 0;
  double predicted = 0;  ///< the surrogate's accuracy
  double seconds = 0;    ///< CBC's time
};
std::vector<Proposal> program4_proposals(const Domain& domain,
                                         const std::vector<Observation>& history, int points);

/// Five-fold cross-validated Kendall tau of the Gaussian process and of ridge regression on
/// `history` (features from `domain`); empty below 10 observations.
std::map<std::string, double> predictor_kendall(const Domain& domain,
                                                const std::vector<Observation>& history,
                                                unsigned seed);

}  // namespace hao::search
