// Program 3 on a network and the dataflow template: per weighted layer a bit-width from the
// user's choices, decided together with every layer's folding, minimizing the summed Hessian
// sensitivity at a target fps. (The engine template's is quantize_engine, engine_program.hpp.)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hw/dataflow.hpp"
#include "ilp/bit_program.hpp"
#include "ilp/engine_program.hpp"

namespace hao::ilp {

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

}  // namespace hao::ilp
