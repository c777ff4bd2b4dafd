// Simplicial homology global optimization (SHGO; Endres, Sandrock and Focke, "A simplicial
// homology algorithm for Lipschitz optimisation", J. Global Optimization 72, 2018), with its
// simplicial sampling, as FLASH uses it for network-hardware co-design.
//
// The box is sampled on a grid of 2^k intervals per dimension, triangulated as Freudenthal
// (Kuhn) triangulates the cube: two grid vertices share an edge of the complex when their index
// difference is a non-zero vector with entries all in {0, 1} or all in {0, -1}. A feasible vertex
// lower than every feasible neighbour (ties broken by position) is a minimizer; their number is
// the rank of the homology group SHGO tracks. The grid is refined (k + 1: every vertex stays,
// each interval halves) until that number is the same at two consecutive levels (and at least
// `min_levels` were sampled), the next level would exceed the evaluation budget, or
// `max_levels` is reached. Then a local minimization starts from every minimizer of the last
// level: NLopt's COBYLA within the box and the constraints (continuous), or steepest descent
// over the lattice's own Kuhn neighbours, one step at a time (integer lattice).
//
// On an integer lattice the levels stop refining a dimension once every integer of it is a
// vertex; a level where all dimensions are full is exhaustive, so the result is the lattice's
// exact minimum. Written here: no Debian package has SHGO (SciPy's is Python).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

namespace hao::opt {

struct ShgoOptions {
  /// Levels sampled at least (level k: 2^k intervals per dimension). 0: 4 on a box (two
  /// stable levels at 4 and 8 intervals stopped on the six-hump camel before its second global
  /// minimum), 2 on a lattice (where each minimizer's descent walks the full lattice: on random
  /// smooth 3-D lattices 2 found the exact optimum as often as 3, with 17% of the points
  /// against 28%).
  int min_levels = 0;
  int max_levels = 8;
  /// Objective evaluations, sampling and local minimizations together: a level whose new
  /// vertices would pass this is not sampled.
  std::size_t max_evaluations = 200000;
  int local_max_evaluations = 400;  ///< per continuous local minimization
  double local_xtol = 1e-9;         ///< relative to the box's width
};

/// A constraint c: x is feasible when c(x) <= 0 (every constraint).
using Constraint = std::function<double(const std::vector<double>&)>;

struct ShgoMinimum {
  std::vector<double> x;
  double f = 0;
};

struct ShgoResult {
  std::vector<double> x;  ///< the best point found (empty when no feasible vertex)
  double f = 0;
  bool feasible = false;
  std::vector<ShgoMinimum> minima;  ///< distinct local minima, lowest first
  std::size_t evaluations = 0;      ///< objective calls
  int levels = 0;                   ///< levels sampled
  std::size_t minimizers = 0;       ///< minimizers of the last level (the local searches' starts)
};

/// Minimizes `f` over the box [lower, upper] subject to `constraints`. InputError when the
/// bounds are empty, differ in length, are not finite, or a lower bound exceeds its upper one
/// (naming the dimension and both values); options out of range likewise.
ShgoResult shgo(const std::function<double(const std::vector<double>&)>& f,
                const std::vector<double>& lower, const std::vector<double>& upper,
                const std::vector<Constraint>& constraints = {}, const ShgoOptions& options = {});

/// The integer-lattice variant: x_i in {lower_i, ..., upper_i}; `feasible` (when given) says
/// which points may be taken. The result's x holds integers.
using LatticeObjective = std::function<double(const std::vector<int>&)>;
struct LatticeResult {
  std::vector<int> x;
  double f = 0;
  bool feasible = false;
  std::vector<std::pair<std::vector<int>, double>> minima;  ///< distinct, lowest first
  std::size_t evaluations = 0;                              ///< distinct points evaluated
  int levels = 0;
  std::size_t minimizers = 0;
  bool exhaustive = false;  ///< the last level held every lattice point
};
LatticeResult shgo_lattice(const LatticeObjective& f, const std::vector<int>& lower,
                           const std::vector<int>& upper,
                           const std::function<bool(const std::vector<int>&)>& feasible = {},
                           const ShgoOptions& options = {});

}  // namespace hao::opt
