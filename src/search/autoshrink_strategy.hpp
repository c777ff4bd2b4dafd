// AutoShrink (Zhang et al., AAAI 2020; official code lordzth666/AutoShrink) as a strategy: from
// the fully connected cell, each iteration draws k of the current cell's edges (k-candidate
// selection), evaluates the cell without each one (a short proxy training: the study's
// evaluator), keeps the removal that scores best (score = accuracy - 10 (log10 cost - log10
// reference) in points: the paper's acc - 0.1 (log10 MACs - 6) with accuracy in percent), drops
// the edges of nodes left unreached, and continues down to a few edges; the best-scoring cell
// over the whole trajectory wins. Every step is a function of the seed and the observations,
// so a stored study replays to the same point and resumes.
#pragma once

#include <memory>
#include <optional>

#include "search/autoshrink_domain.hpp"
#include "search/strategy.hpp"

namespace hao::search {

/// The cost term of the score: the network's MACs (the paper's; reference 1e6) or the
/// evaluated latency (program 1's frame interval on the device; reference 1 ms).
enum class ShrinkCost { kMacs, kLatency };
ShrinkCost parse_shrink_cost(const std::string& name);  ///< "macs" or "latency"

struct ShrinkOptions {
  int candidates = 10;  ///< k: edges drawn per iteration
  ShrinkCost cost = ShrinkCost::kMacs;
  int min_edges = 0;  ///< stop at this many edges; 0: as many as the cell has nodes (a chain)
};

/// accuracy (percent) - 10 (log10 cost - log10 reference); -infinity when no design fits.
double shrink_score(const AutoShrinkDomain& domain, const ShrinkOptions& options,
                    const Observation& o);

struct ShrinkStep {
  Observation kept;  ///< the cell this iteration kept (the first: the fully connected cell)
  double score = 0;
  std::vector<Genotype> candidates;  ///< the cells this iteration evaluated (none for the first)
};

struct ShrinkTrajectory {
  std::vector<ShrinkStep> steps;  ///< the cells kept, as far as the observations go
  /// The first cell of the trajectory not observed yet (and not pending); nullopt when the
  /// trajectory is complete or waits only on pending evaluations.
  std::optional<Genotype> next;
  std::string why;  ///< where `next` comes from
  bool complete = false;
  std::size_t best = 0;  ///< index in steps of the best-scoring kept cell
};

/// The trajectory as far as `observations` go; `pending` are cells other workers evaluate now.
ShrinkTrajectory shrink_trajectory(const AutoShrinkDomain& domain, const ShrinkOptions& options,
                                   std::uint64_t seed, const std::vector<Observation>& observations,
                                   const std::vector<Genotype>& pending = {});

/// The same over a study's observations (hao search's report of the trajectory).
ShrinkTrajectory shrink_trajectory(const Domain& domain, const StrategyOptions& options,
                                   std::uint64_t seed,
                                   const std::vector<Observation>& observations);

/// Evaluations of a complete trajectory at most: 1 + the sum over iterations of min(k, edges),
/// edges counting down from the full cell's to min_edges + 1.
int shrink_budget(const AutoShrinkDomain& domain, const ShrinkOptions& options);

/// The autoshrink fields of StrategyOptions; InputError for an unknown cost.
ShrinkOptions shrink_options(const StrategyOptions& options);
/// shrink_budget of `domain` (InputError when it is not an AutoShrinkDomain).
int shrink_budget(const Domain& domain, const StrategyOptions& options);

/// InputError when `domain` is not an AutoShrinkDomain. finished() once the trajectory is
/// complete (a study stops there); asked on, it asks random cells.
std::unique_ptr<Strategy> make_autoshrink_strategy(const Domain& domain, std::uint64_t seed,
                                                   const ShrinkOptions& options);

}  // namespace hao::search
