// FINN's SetFolding rule as a baseline: resource-blind, per layer, for a cycle target.
#pragma once

#include <cstdint>
#include <vector>

#include "hw/dataflow.hpp"

namespace hao::hw {

/// Folds every layer for `target_cycles` the way FINN's SetFolding transform does: an MVAU
/// raises SIMD through the divisors of MW, then PE through those of MH, until its cycles meet
/// the target; a VVAU raises PE over channels, then SIMD over the window; a streaming layer
/// raises PE over channels. It ignores the device. Then FINN's relaxation pass: if some layer
/// could not meet the target, every layer is refolded for the bottleneck actually reached,
/// which frees resources at no loss of speed. MACs go to DSPs when weights and activations
/// have at least 4 bits and to LUTs below (FINN's resType "auto" rule); weights to BRAM.
std::vector<LayerConfig> greedy_fold(const ir::Network& net, std::int64_t target_cycles);

/// Result of the greedy search for the fastest design that fits a device.
struct GreedyResult {
  std::vector<LayerConfig> configs;
  std::int64_t target_cycles = 0;  ///< the target that produced `configs`
  bool fits = false;               ///< false: even the slowest folding is over the device
  int folds_tried = 0;
};

/// Bisects over cycle targets for the smallest one whose greedy folding fits `device`: the
/// fair comparison with the integer program, which also maximizes speed under the device.
GreedyResult greedy_fastest_fit(const ir::Network& net, const Device& device,
                                const DataflowOptions& options);

}  // namespace hao::hw
