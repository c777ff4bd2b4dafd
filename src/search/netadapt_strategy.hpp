// NetAdaptV2's multi-layer coordinate descent (Yang et al., CVPR 2021) as a strategy, with
// NetAdapt's single-layer descent (Yang et al., ECCV 2018) as its L = 1 case. From the largest
// network of the space, each iteration lowers the latency target by a step that decays from one
// iteration to the next (planned afresh each iteration so that the steps left add up to the way
// down to the smallest network within the budget's evaluations), draws J random sets of L slots and
// shrinks each set jointly (one choice down per slot in turn, numerically smaller: narrower,
// shallower, a smaller kernel or expansion, fewer bits) until the network meets the target; each
// such sample is judged by the study's evaluator (on the supernet: inherited weights, batch norms
// re-estimated) and the most accurate one is kept for the next iteration. Single-layer descent
// shrinks every slot alone, one sample per slot. Latency is the domain's (program 1's frame
// interval on the device, or a table's); a start that fits nowhere first shrinks until it fits.
// Every step is a function of the seed and the observations, so a stored study replays to the same
// point and resumes.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "search/strategy.hpp"

namespace hao::search {

/// The latency target of an iteration whose network fits nowhere: any design that fits
/// (every latency below kInfeasibleMs meets it).
inline constexpr double kFitTargetMs = kInfeasibleMs / 2;

struct AdaptOptions {
  /// L: slots shrunk together in a sample; 1 is single-layer descent (one sample per slot that
  /// reaches the target alone; where fewer than `samples` slots do, the target rises to what
  /// the `samples`-th best slot reaches).
  int layers = 4;
  int samples = 10;    ///< J: samples per iteration (multi-layer descent)
  double decay = 0.9;  ///< each iteration's step (in log latency) is the last one's times this
  int budget = 150;    ///< evaluations the steps are planned for (see adapt_steps)
};

/// The steps in log latency of `iterations` iterations, decaying by `decay` and adding up to
/// `span` (log of the first fitting network's latency over the smallest network's).
std::vector<double> adapt_steps(double span, int iterations, double decay);

struct AdaptStep {
  Genotype kept;                  ///< the network this iteration kept (the first: the start)
  double latency_ms = 0;          ///< its latency (kInfeasibleMs for a start that fits nowhere)
  double accuracy = 0;            ///< its judged accuracy (0 for a start that was not judged)
  double target_ms = 0;           ///< what its samples were shrunk to (0 for the first step)
  std::vector<Genotype> samples;  ///< the networks this iteration judged (none for the first)
  /// Per sample, the slots shrunk; `layers` of them each (L, or more where no set of L > 1
  /// slots reached the target: sets of 2L, 4L, ... are drawn then; single-layer descent
  /// instead raises its target to the latency the J-th best slot reaches alone).
  std::vector<std::vector<std::size_t>> sets;
  int layers = 0;
};

struct AdaptTrajectory {
  std::vector<AdaptStep> steps;  ///< the networks kept, as far as the observations go
  /// The first network of the trajectory not observed yet (and not pending); nullopt when the
  /// trajectory is complete or waits only on pending evaluations.
  std::optional<Genotype> next;
  std::string why;  ///< where `next` comes from
  bool complete = false;
};

/// The trajectory as far as `observations` go; `pending` are networks other workers judge now.
/// InputError when a slot's choices are not numbers (nothing to shrink by).
AdaptTrajectory adapt_trajectory(const Domain& domain, const AdaptOptions& options,
                                 std::uint64_t seed, const std::vector<Observation>& observations,
                                 const std::vector<Genotype>& pending = {});

/// The netadapt fields of StrategyOptions.
AdaptOptions adapt_options(const StrategyOptions& options);

/// InputError for a space whose choices are not numbers (a table of cells), for one whose
/// largest network has no neighbour one choice smaller in a single slot (a table of sampled
/// networks), for layers or samples below 1 and for layers above the space's slots.
/// finished() once the trajectory reaches the smallest network (a study stops there); asked on,
/// it asks random networks.
std::unique_ptr<Strategy> make_netadapt_strategy(const Domain& domain, std::uint64_t seed,
                                                 const AdaptOptions& options);

}  // namespace hao::search
