// FINN's SetFolding rule as a baseline: resource-blind, per layer, for a cycle target.
#pragma once

#include <cstdint>
#include <vector>

#include "hw/dataflow.hpp"

namespace hao::hw {

/// Folds every layer for `target_cycles` the way FINN v0.10.1's SetFolding transform does,
/// node by node, each node at the smallest parallelism (through the divisors of its bound)
/// whose cycles are strictly below the target: an MVAU raises SIMD through the divisors of MW
/// while weight bits x SIMD stays within 36 (mvau_wwidth_max), then PE through those of MH;
/// its sliding-window unit (or DownSampler) and FMPadding raise SIMD over the input channels
/// on their own (the window unit goes to parallel_window when full SIMD is not enough); a VVAU
/// raises PE over channels, then SIMD over the window, its window unit taking SIMD = PE; the
/// streaming nodes SetFolding knows (Thresholding, AddStreams, DuplicateStreams,
/// GlobalAccPool, Pool) raise PE over channels, the others stay at 1. It ignores the device.
/// Then FINN's relaxation pass: if some node could not meet the target, every layer is
/// refolded for the bottleneck actually reached, which frees resources at no loss of speed.
/// MACs go to DSPs when weights and activations have at least 4 bits and to LUTs below
/// (FINN's resType "auto" rule); weights where ram_style "auto" puts them.
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
