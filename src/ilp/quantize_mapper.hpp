// Program 3 on a network: per weighted layer a bit-width from the user's choices, decided
// together with the accelerator (dataflow: every layer's folding; engine: the engine and
// every layer's tiling), minimizing the summed Hessian sensitivity at a target speed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hw/dataflow.hpp"
#include "hw/engine_template.hpp"
#include "ilp/bit_program.hpp"
#include "ilp/engine_program.hpp"
#include "ir/bits.hpp"

namespace hao::ilp {

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
  std::string reason;  ///< why nothing fits, naming the layer or resource
  std::string status;  ///< "optimal", "time limit (feasible)", ...
  ir::Network network;  ///< the model with the chosen bits applied
  std::vector<int> bits;  ///< per network layer, the index into choices; -1 = model's bits
  double omega = 0;       ///< summed Omega of the chosen bits
  double gap = 0;
  double seconds = 0;
  long nodes = 0;
  std::size_t variables = 0;
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

/// The instance for the dataflow template: items are the network's layers; each option is a
/// bit-width with a folding fast enough for the target's II that no other such folding beats
/// on every resource. `configs[i][o]` is option o's folding of layer i.
struct DataflowBitInstance {
  BitProblem problem;
  std::vector<std::vector<hw::LayerConfig>> configs;
  std::int64_t target_ii = 0;
};
DataflowBitInstance make_dataflow_bit_problem(const ir::Network& net, const hw::Device& device,
                                              const hw::DataflowOptions& options,
                                              const QuantizeSpec& spec);

/// Solves program 3 on the dataflow template.
QuantizeResult quantize_dataflow(const ir::Network& net, const hw::Device& device,
                                 const hw::DataflowOptions& options, const QuantizeSpec& spec,
                                 const SolveOptions& solve);

/// The fastest dataflow design at any of the choices (every choosable layer at its cheapest
/// bits): the fps no bit allocation can exceed, for messages and sweeps.
double fastest_dataflow_fps(const ir::Network& net, const hw::Device& device,
                            const hw::DataflowOptions& options, const QuantizeSpec& spec,
                            const SolveOptions& solve);

/// Applies per-layer choices (-1 keeps the layer's bits) to a copy of `net`.
ir::Network with_bits(const ir::Network& net, const std::vector<ir::BitWidths>& choices,
                      const std::vector<int>& bits);

}  // namespace hao::ilp
