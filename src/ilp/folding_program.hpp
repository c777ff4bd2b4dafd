// Program 1 of DESIGN.md: dataflow folding. Choose one precomputed configuration per layer;
// minimize the initiation interval under the device's resources, or the resources for a
// target interval; sweep targets for the fps-resource Pareto front.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hw/dataflow.hpp"
#include "ilp/model.hpp"

namespace hao::ilp {

/// The data of one folding instance: per layer its candidate configurations (cycles and
/// resources), the usable resources and a lower bound on the II (the input transfer).
struct FoldingProblem {
  std::vector<std::vector<hw::Candidate>> candidates;
  hw::Resources capacity;
  std::int64_t min_ii_cycles = 0;
  /// Layer pairs (an MVAU/VVAU, the activation fused into it) whose chosen candidates must
  /// agree on LayerConfig::split_thresholds: the thresholds are inside the MVAU/VVAU or in a
  /// Thresholding node of their own, for both or neither.
  std::vector<std::pair<std::size_t, std::size_t>> links;
};

/// Whether `choice` agrees on every link.
bool links_agree(const FoldingProblem& problem, const std::vector<int>& choice);

/// Builds the instance for `net` on `device`: every layer's non-dominated configurations.
/// With options.split_threshold_choice, each MVAU/VVAU with a fused activation and that
/// activation also take their thresholds split off, tied by `links` (a layer whose partner
/// has no such choice keeps them inside).
FoldingProblem make_folding_problem(const ir::Network& net, const hw::Device& device,
                                    const hw::DataflowOptions& options);

struct FoldingSolution {
  SolveStats stats;            ///< gap and best_bound of the II
  std::vector<int> choice;     ///< per layer, the index into its candidates
  std::int64_t ii_cycles = 0;  ///< max(layer cycles, min_ii_cycles) of `choice`
  hw::Resources used;
  double resource_gap = 0;  ///< of the tie-break: least resources at that II
  bool has_solution() const { return !choice.empty(); }
};

/// Minimum II under the capacity. `start`, if given, is a feasible choice used as the
/// first incumbent. Candidates slower than the start's II are left out (they cannot be in a
/// better solution). A second pass then minimizes the resources among the fastest designs.
FoldingSolution minimize_ii(const FoldingProblem& problem, const SolveOptions& options,
                            const std::vector<int>* start = nullptr);

/// Minimum II by bisection over the distinct cycle counts of the candidates: feasibility at a
/// target II is monotone in the target, and each probe is minimize_resources, whose linear
/// relaxation is far tighter than that of the min-II program. The last feasible probe is the
/// leanest design at the optimal II. `start` (optional) gives an upper bound.
FoldingSolution minimize_ii_bisect(const FoldingProblem& problem, const SolveOptions& options,
                                   const std::vector<int>* start = nullptr);

/// A lower bound on the minimum II, without a solver: the smallest II at which, resource by
/// resource, the layers' cheapest configurations within that II fit the capacity (a layer may
/// take a different configuration for each resource, hence a relaxation); never above the
/// optimum, and numeric_limits max when nothing fits even so. Microseconds, where program 1
/// takes a tenth of a second: the search screens candidates with it.
std::int64_t relaxed_ii_bound(const FoldingProblem& problem);

/// Minimum resource use (the sum over DSP, LUT, BRAM36 and URAM of used / capacity) with
/// every layer at most `target_ii_cycles` and within the capacity.
FoldingSolution minimize_resources(const FoldingProblem& problem, std::int64_t target_ii_cycles,
                                   const SolveOptions& options);

/// II and totals of a choice.
std::int64_t choice_ii(const FoldingProblem& problem, const std::vector<int>& choice);
hw::Resources choice_resources(const FoldingProblem& problem, const std::vector<int>& choice);
bool fits(const hw::Resources& used, const hw::Resources& capacity);
/// `a` needs no more than `b` of any resource (exactly, no tolerance).
bool cheaper_or_equal(const hw::Resources& a, const hw::Resources& b);
/// Indices of the candidates within `target_ii` cycles that no other such candidate beats on
/// every resource (of equals, the first: the faster, as candidates are sorted). Once a target
/// is met, speed no longer matters.
std::vector<int> cheapest_within(const std::vector<hw::Candidate>& candidates,
                                 std::int64_t target_ii);

/// For each layer, a candidate at least as fast and as cheap as `given[l]` (any legal
/// folding, e.g. FINN's SetFolding's), so that the result is as good a start. A given folding
/// no candidate matches (its window unit folded for another target than its engine's) joins
/// the layer's candidates, so that the program's optimum is never worse than it.
std::vector<int> start_choice(FoldingProblem& problem, const std::vector<hw::Candidate>& given);

/// Exhaustive reference: tries every combination (for tests on small instances).
/// Returns the minimum II and, among those, the minimum resource objective.
FoldingSolution brute_force_min_ii(const FoldingProblem& problem);

/// The design closest to fitting: capacities become soft and the summed relative excess
/// (excess / usable, per resource) is minimized. Used to explain infeasibility.
FoldingSolution least_excess(const FoldingProblem& problem, const SolveOptions& options);

/// Why no configuration fits: names the resource, the minimum the network needs, the
/// capacity, and the layers that need most of it.
std::string explain_infeasible(const FoldingProblem& problem, const ir::Network& net,
                               const hw::Device& device);

/// One point of the fps-resource front.
struct ParetoPoint {
  std::int64_t ii_cycles = 0;
  double fps = 0;
  hw::Resources used;
  std::vector<int> choice;
  double gap = 0;
};
/// Minimum resources for `points` II targets spaced geometrically from the fastest design to
/// the fully folded one; dominated points are dropped.
std::vector<ParetoPoint> pareto_sweep(const FoldingProblem& problem, double clock_mhz,
                                      std::int64_t fastest_ii, int points,
                                      const SolveOptions& options);

}  // namespace hao::ilp
