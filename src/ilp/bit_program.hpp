// Program 3 of DESIGN.md: bit allocation with the hardware. Every item (a layer) is run by
// exactly one option, a bit-width together with a hardware configuration; options too slow
// for the target were left out when the instance was built. Minimize the summed sensitivity
// under the device's resources and any extra budgets (HAWQ-V3's latency table, bit
// operations, model size); tied items take the same bit-width.
//
//   x[i,o] in {0,1}, sum_o x[i,o] = 1                             one option per item
//   sum_{o: bits(o)=b} x[i,o] = sum_{o: bits(o)=b} x[j,o]         (i, j) tied, every b
//   sum_{i,o} R(i,o) x[i,o] <= usable R,  R in DSP, LUT, BRAM36, URAM (when limited)
//   sum_{i,o} use_k(i,o) x[i,o] <= budget_k                        per extra budget k
//   minimize sum_{i,o} Omega(i,o) x[i,o]
//
// A second pass keeps the summed Omega at its optimum and takes the leanest design.
#pragma once

#include <string>
#include <vector>

#include "hw/device.hpp"
#include "ilp/model.hpp"

namespace hao::ilp {

/// One way to run an item: a bit-width and a hardware configuration.
struct BitOption {
  int bits = 0;             ///< index into BitProblem::bit_names (what ties compare)
  int config = -1;          ///< template-specific hardware configuration, -1 when none
  double omega = 0;         ///< sensitivity cost of the item at these bits
  hw::Resources res;        ///< resources this option takes
  std::vector<double> use;  ///< per extra budget: what this option adds to it
};

struct BitProblem {
  std::vector<std::string> items;               ///< names, for messages
  std::vector<std::string> bit_names;           ///< e.g. "w4a4", indexed by BitOption::bits
  std::vector<std::vector<BitOption>> options;  ///< per item
  std::vector<std::vector<int>> ties;           ///< groups of items that share a bit-width
  bool limit_resources = false;
  hw::Resources capacity;
  std::vector<std::string> budget_names;  ///< e.g. "latency_ms", "bops", "size_bits"
  std::vector<double> budgets;
};

struct BitSolution {
  SolveStatus status = SolveStatus::kError;
  std::vector<int> choice;  ///< per item, the index into its options
  double omega = 0;         ///< summed Omega of `choice`
  double best_bound = 0;
  double gap = 0;
  hw::Resources used;
  std::vector<double> budget_use;
  double seconds = 0;
  long nodes = 0;
  std::string message;
  bool has_solution() const { return !choice.empty(); }
};

/// Solves program 3 with CBC. Throws core::InputError for a malformed instance (a tie that
/// names an item out of range, options whose budget uses do not match the budgets).
BitSolution solve_bits(const BitProblem& problem, const SolveOptions& options);

/// The same optimum by enumerating every combination of options that honours the ties
/// (tests on small instances).
BitSolution brute_force_bits(const BitProblem& problem);

/// Summed Omega, resources and budget uses of a choice, and whether it honours the
/// capacity, the budgets and the ties.
void fill_bit_solution(const BitProblem& problem, BitSolution& s);
bool bit_choice_feasible(const BitProblem& problem, const std::vector<int>& choice);

}  // namespace hao::ilp
