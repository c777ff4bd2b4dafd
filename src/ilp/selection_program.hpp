// Program 4 of DESIGN.md: network selection. A space of networks is a set of categorical slots
// (one choice each); the hardware is a set of parts, each present exactly when its conditions
// on the slots hold, each bringing layers with their precomputed dataflow configurations. With
// an additive accuracy surrogate (a gain per slot choice and per part), choosing the network,
// and every present layer's hardware, is one MILP:
//
//   y[s,c] in {0,1}, sum_c y[s,c] = 1                               one choice per slot
//   p[q] = AND_i (sum_{c in C_qi} y[s_qi,c])                         part q present:
//      p[q] <= sum_{c in C_qi} y[s_qi,c] for every condition i,
//      p[q] >= sum_i sum_{c in C_qi} y[s_qi,c] - (n_q - 1)
//   sum_{c in A} y[a,c] <= sum_{c in B} y[b,c]                       (a in A) implies (b in B)
//   x[q,l,k] in {0,1}, sum_k x[q,l,k] = p[q]                         present layers configured,
//      only configurations k within the II target (cycles <= T)     so II <= T
//   sum R(q,l,k) x[q,l,k] <= usable R,  R in DSP, LUT, BRAM36, URAM
//   maximize sum gain(s,c) y[s,c] + sum gain(q) p[q]
//
// At a fixed target T the layers are independent but for the resources, so a configuration no
// cheaper in any resource than another one within T is dropped first. Sweeping T from the
// fastest design to the most folded traces the surrogate's predicted accuracy-fps frontier.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hw/dataflow.hpp"
#include "ilp/model.hpp"

namespace hao::ilp {

/// "Slot `slot` takes one of `choices`."
struct SlotCondition {
  int slot = 0;
  std::vector<int> choices;
};

struct SelectionPart {
  std::string name;                 ///< for messages, e.g. "s1b0_dw [s0.width=0.5,...]"
  std::vector<SlotCondition> when;  ///< all hold; empty: always present
  double gain = 0;                  ///< surrogate contribution while present
  std::vector<std::vector<hw::Candidate>> layers;  ///< per layer, its configurations
};

/// Parts of which exactly one is present while `when` holds (at most one condition) and none
/// otherwise, such as the contexts of one layer. Redundant for integer solutions, these rows
/// tighten the linear relaxation: sum_{q in group} p[q] = [when], and per slot choice (s, c),
/// the group's parts that require exactly s = c sum to at most y[s,c].
struct PartGroup {
  std::vector<std::size_t> parts;
  std::vector<SlotCondition> when;
};

struct SelectionProblem {
  std::vector<int> slot_sizes;            ///< choices per slot
  std::vector<std::vector<double>> gain;  ///< per slot and choice; empty: no gains on slots
  std::vector<SelectionPart> parts;
  /// (a, b): a choice allowed by a requires one allowed by b (e.g. a removed block's slots
  /// stay at their first choice).
  std::vector<std::pair<SlotCondition, SlotCondition>> implications;
  std::vector<PartGroup> groups;
  hw::Resources capacity;
  std::int64_t min_ii_cycles = 0;  ///< the input transfer
};

struct SelectionSolution {
  SolveStats stats;                       ///< best_bound in the surrogate's gain
  std::vector<int> choice;                ///< per slot
  std::vector<std::vector<int>> configs;  ///< per part and layer, a candidate; -1: absent
  double gain = 0;                        ///< the surrogate's value of `choice`
  std::int64_t ii_cycles = 0;             ///< of the chosen configurations
  hw::Resources used;
  std::size_t variables = 0;
  bool has_solution() const { return !choice.empty(); }
};

/// Whether `part` is present for the slot choices `choice`.
bool part_present(const SelectionPart& part, const std::vector<int>& choice);
/// Whether `choice` honours every implication.
bool selection_valid(const SelectionProblem& problem, const std::vector<int>& choice);
/// The surrogate's value of `choice`.
double selection_gain(const SelectionProblem& problem, const std::vector<int>& choice);

/// The best choice with II at most `target_ii_cycles` that fits the capacity. `start`, if
/// given, is a solution at a tighter or equal target, handed to CBC as its first incumbent
/// (sweeping from tight to loose targets, each solution starts the next). Throws
/// core::InputError for a malformed instance (a condition on an unknown slot or choice).
SelectionSolution solve_selection(const SelectionProblem& problem, std::int64_t target_ii_cycles,
                                  const SolveOptions& options,
                                  const SelectionSolution* start = nullptr);

/// The same optimum by enumerating every valid slot assignment and, for each, searching the
/// present layers' configurations depth first (tests on small instances).
SelectionSolution brute_force_selection(const SelectionProblem& problem,
                                        std::int64_t target_ii_cycles);

/// Program 1's instance for the network `choice` selects: its present parts' layers.
struct FoldingProblem;
FoldingProblem selection_folding(const SelectionProblem& problem, const std::vector<int>& choice);

/// The network `choice` selects, priced alone: program 1's leanest design within the target
/// (no solution when none fits). A start for solve_selection.
SelectionSolution selection_design(const SelectionProblem& problem, const std::vector<int>& choice,
                                   std::int64_t target_ii_cycles, const SolveOptions& options);

/// Bounds for a sweep: no design is faster than `lower` (the input transfer, and every
/// always-present layer's fastest configuration that fits); every design fits in II `upper`
/// cycles if it fits at all (every layer's slowest configuration).
std::pair<std::int64_t, std::int64_t> selection_ii_range(const SelectionProblem& problem);

}  // namespace hao::ilp
