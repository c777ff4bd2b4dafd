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
//   sum_{o requires (j,b)} x[i,o] <= sum_{o': bits(o')=b} x[j,o']    linked precisions
//   sum_{o split} x[e,o] = sum_{o split} x[a,o]                    (e, a) linked thresholds
//   minimize sum_{i,o} Omega(i,o) x[i,o]
//
// A second pass keeps the summed Omega at its optimum and takes the leanest design.
#pragma once

#include <string>
#include <vector>

#include "hw/dataflow.hpp"
#include "hw/device.hpp"
#include "hw/engine_template.hpp"
#include "ilp/model.hpp"
#include "ir/bits.hpp"
#include "ir/network.hpp"

namespace hao::ilp {

/// One way to run an item: a bit-width and a hardware configuration.
struct BitOption {
  int bits = 0;             ///< index into BitProblem::bit_names (what ties compare)
  int config = -1;          ///< template-specific hardware configuration, -1 when none
  double omega = 0;         ///< sensitivity cost of the item at these bits
  hw::Resources res;        ///< resources this option takes
  std::vector<double> use;  ///< per extra budget: what this option adds to it
  /// (item, bits): this option may be chosen only where that item takes those bits (an
  /// element-wise layer's precision follows the layers it feeds).
  std::vector<std::pair<int, int>> requires_bits;
  /// The option's thresholds split off into a Thresholding node of their own (items in
  /// BitProblem::links place them alike).
  bool split = false;
};

struct BitProblem {
  std::vector<std::string> items;               ///< names, for messages
  std::vector<std::string> bit_names;           ///< e.g. "w4a4", indexed by BitOption::bits
  std::vector<std::vector<BitOption>> options;  ///< per item
  std::vector<std::vector<int>> ties;           ///< groups of items that share a bit-width
  /// (MVAU/VVAU item, item of the activation fused into it): both split their thresholds off or
  /// neither does (an option that cannot split has split = false).
  std::vector<std::pair<int, int>> links;
  bool limit_resources = false;
  hw::Resources capacity;
  std::vector<std::string> budget_names;  ///< e.g. "latency_ms", "bops", "size_bits"
  std::vector<double> budgets;
};

struct BitSolution {
  SolveStats stats;         ///< best_bound in summed Omega
  std::vector<int> choice;  ///< per item, the index into its options
  double omega = 0;         ///< summed Omega of `choice`
  hw::Resources used;
  std::vector<double> budget_use;
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

// ---- Program 3 on a network (the templates' instances: quantize_mapper, engine_program) ----

struct QuantizeSpec {
  std::vector<ir::BitWidths> choices;  ///< bit-widths a layer may take, e.g. w2a2, w4a4, w8a8
  /// Per network layer, Omega per choice; an empty row keeps the layer at the model's bits
  /// (element-wise layers, and by default the first and last weighted layers).
  std::vector<std::vector<double>> omega;
  std::vector<std::vector<int>> ties;  ///< groups of network layer indices sharing bits
  double target_fps = 0;               ///< the design must reach this (dataflow: the II)
  double max_weight_bytes = 0;         ///< HAWQ-V3's model-size budget; 0 = none
  double max_bops = 0;                 ///< bit operations (MACs x weight x act bits); 0 = none
};

/// Human name of a bit choice: "w4a4".
std::string bits_name(const ir::BitWidths& b);

struct QuantizeResult {
  bool feasible = false;
  std::string reason;     ///< why nothing fits, naming the layer or resource
  SolveStats stats;       ///< of every solve behind the design
  ir::Network network;    ///< the model with the chosen bits applied
  std::vector<int> bits;  ///< per network layer, the index into choices; -1 = model's bits
  double omega = 0;       ///< summed Omega of the chosen bits
  std::size_t variables = 0;
  std::size_t shapes = 0;  ///< engine: the shapes chosen among
  // Dataflow: the folding per layer and its evaluation.
  std::vector<hw::LayerConfig> configs;
  hw::DataflowEval dataflow;
  // Engine: the design and its evaluation.
  hw::EngineDesign engine;
  hw::EngineEval engine_eval;
  double fps = 0, latency_ms = 0;
  hw::Resources used;
};

/// The weight bytes and bit operations of a layer at bits `b`.
double weight_bytes(const ir::Layer& layer, const ir::BitWidths& b);
double bit_operations(const ir::Layer& layer, const ir::BitWidths& b);

/// Applies per-layer choices (-1 keeps the layer's bits) to a copy of `net`.
ir::Network with_bits(const ir::Network& net, const std::vector<ir::BitWidths>& choices,
                      const std::vector<int>& bits);

/// `net` with every chosen layer at the narrowest choice (least weight plus activation bits):
/// the fastest allocation on either template.
ir::Network at_narrowest(const ir::Network& net, const QuantizeSpec& spec);

/// Whether layer `layer`'s bits are chosen (it has a row of Omega).
bool choosable(const QuantizeSpec& spec, std::size_t layer);

/// Every combination of one choice index (of `choices`) per layer in `layers` that gives tied
/// layers the same choice.
std::vector<std::vector<int>> tie_consistent_contexts(const std::vector<std::size_t>& layers,
                                                      std::size_t choices,
                                                      const std::vector<std::vector<int>>& ties);

/// The weighted layers an element-wise layer's output reaches through element-wise layers only
/// (whose input precision its own follows, see ir::derive_elementwise_bits).
std::vector<std::size_t> fed_layers(const ir::Network& net, std::size_t layer);
/// Checks the spec against the network (Omega rows, ties); throws core::InputError.
void check_quantize_spec(const ir::Network& net, const QuantizeSpec& spec);

}  // namespace hao::ilp
