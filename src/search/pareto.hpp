// Two-objective Pareto fronts (latency minimized, accuracy maximized) and their hypervolume.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

namespace hao::search {

struct Objectives {
  double latency_ms = 0;
  double accuracy = 0;  ///< in percent or any unit where larger is better
};

/// Indices of the points no other point dominates (no slower-or-equal latency with
/// better-or-equal accuracy and one strictly better), ordered by latency. Of identical points
/// the first is kept.
std::vector<std::size_t> pareto_front(const std::vector<Objectives>& points);

/// Up to `n` points, fronts peeled one after another (the front of all points, then the front
/// of the rest, ...), most accurate first within a front. A point whose latency equals (within
/// 1e-6 relative) that of one already taken waits until no new latency is left: of two points at
/// one speed only the more accurate can join a frontier measured later.
std::vector<std::size_t> peel_fronts(const std::vector<Objectives>& points, std::size_t n);

/// The knee of a front: the point with the largest sum of accuracy and -log latency, each
/// normalized to [0, 1] over `front` (a flat objective counts 1); the first of equals in
/// `front`'s order. Needs a non-empty front with positive latencies.
std::size_t knee(const std::vector<Objectives>& front);

/// A sweep's pick against its reference point (latency-aware DARTS's lambdas against plain
/// DARTS, the paper's claim read as a rule): the first point of `sweep`, in its order, whose
/// latency is at least `faster` (a fraction: 0.2 is 20%) below the reference's and whose
/// accuracy is at most `within` below it; nullopt when none is. A point or a reference without
/// a positive latency counts as not measured: never picked, nothing picked against it.
std::optional<std::size_t> first_faster_within(const Objectives& reference,
                                               const std::vector<Objectives>& sweep, double faster,
                                               double within);

/// Maps both objectives to [0, 1] minimized: latency (l - min) / (max - min) and error
/// 1 - (a - min) / (max - min), the bounds being the whole space's (issue 6's definition).
struct Normalizer {
  double latency_min = 0, latency_max = 1, accuracy_min = 0, accuracy_max = 1;
  double latency(double latency_ms) const;
  double error(double accuracy) const;
  static Normalizer of(const std::vector<Objectives>& space);
};

/// Hypervolume dominated by `points` (normalized by `n`) up to the reference point (1, 1).
double hypervolume(const std::vector<Objectives>& points, const Normalizer& n);

/// A normalized front as a staircase, for the hypervolume a new point would add.
class Staircase {
 public:
  /// (latency, error) pairs in [0, 1]; dominated ones are dropped.
  explicit Staircase(std::vector<std::pair<double, double>> points);
  double hypervolume() const;
  /// Hypervolume added by a point at normalized (latency, error); 0 when dominated.
  double gain(double latency, double error) const;
  /// Expected hypervolume added by a point at a known latency whose error is normally
  /// distributed (mean, sd >= 0): the sum over the front's steps right of `latency` of
  /// width x E[max(0, step error - error)], in closed form. Equals gain() at sd = 0.
  double expected_gain(double latency, double error_mean, double error_sd) const;

 private:
  std::vector<std::pair<double, double>> steps_;  ///< latency ascending, error descending
};

}  // namespace hao::search
