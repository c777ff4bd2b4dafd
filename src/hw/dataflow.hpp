// The dataflow (layer-pipelined) accelerator template as FINN builds it: each layer becomes its
// FINN nodes (finn_nodes.hpp), frames stream through all of them. Per layer and configuration:
// cycles per frame and resources; per design: II, fps, batch-1 latency and totals.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "hw/device.hpp"
#include "hw/finn_nodes.hpp"
#include "ir/network.hpp"

namespace hao::hw {

/// Where a layer's multipliers go.
enum class MacMapping { kDsp, kLut };
/// Where a layer's weights go (FINN's ram_style): block RAM, UltraRAM or LUTRAM
/// (distributed RAM). A per-layer choice: shallow memories are cheap in LUTs, but when LUTs
/// bind and BRAM sits idle a shallow memory in BRAM buys parallelism elsewhere.
enum class WeightMemory { kBram, kUram, kLutram };

/// Which engine a layer becomes: FINN's MVAU (conv, fc), VVAU (depthwise) or a streaming
/// element-wise engine (pool, add, mul, concat, activation).
enum class EngineKind { kMvau, kVvau, kStream };
EngineKind engine_kind(const ir::Layer& layer);

/// A layer's folding: SIMD lanes over its reduction (or window), PE lanes over its outputs.
/// The layer's other FINN nodes (padding, sliding window, thresholds, fork) follow the engine
/// unless a FINN folding file sets them apart (0: tied).
struct LayerConfig {
  std::int64_t simd = 1;
  std::int64_t pe = 1;
  MacMapping mac = MacMapping::kDsp;
  /// Where the weights are kept; on squeeze-excite's multiply (Layer::scaled_by_gate), where
  /// the map waits for its gate.
  WeightMemory memory = WeightMemory::kBram;
  std::int64_t swu_simd = 0;  ///< the sliding-window unit's SIMD (0: gcd(engine lanes, channels))
  std::int64_t pad_simd = 0;  ///< FMPadding's SIMD (0: the sliding-window unit's)
  /// The PE of the DuplicateStreams that forks the layer's output (when several layers read
  /// it) and of an add's requantizing Thresholding node (0: PE).
  std::int64_t aux_pe = 0;
  bool swu_parallel = false;  ///< the window unit in parallel_window mode (a window per cycle)
  /// Where the window unit keeps its line buffer (FINN's ram_style for it; LUTRAM, FINN's
  /// default "distributed", unless a folding file says otherwise).
  WeightMemory swu_memory = WeightMemory::kLutram;
  /// On a fused activation and on the MVAU/VVAU it fuses into: its thresholds in a standalone
  /// Thresholding node after the MVAU/VVAU (FINN's rtl MVAU), not inside it (hao splits them
  /// itself after an add and above DataflowOptions::max_fused_threshold_bits).
  bool split_thresholds = false;
  bool operator==(const LayerConfig& o) const {
    return simd == o.simd && pe == o.pe && mac == o.mac && memory == o.memory &&
           swu_simd == o.swu_simd && pad_simd == o.pad_simd && aux_pe == o.aux_pe &&
           swu_parallel == o.swu_parallel && swu_memory == o.swu_memory &&
           split_thresholds == o.split_thresholds;
  }
};

struct LayerCost {
  std::int64_t cycles = 0;          ///< cycles per frame: its slowest node's
  Resources res;                    ///< DSP, LUT, BRAM36, URAM: all its nodes'
  std::int64_t macs_per_cycle = 0;  ///< multipliers (SIMD x PE) for weighted layers
  std::vector<NodeCost> nodes;      ///< the FINN nodes the layer becomes, in graph order
};

/// Coefficients of the stated cost model: FINN's where FINN estimates (MVAU and VVAU LUTs:
/// c0 + c1 * PE * (...)), hao's engineering estimates for the streaming nodes FINN leaves at
/// zero (see docs/architecture.md).
struct DataflowOptions {
  double lut_per_bit_product = 1.1;      ///< FINN's c1: the MVAU/VVAU LUT scale
  double lut_engine_overhead = 300;      ///< FINN's c0: control per MVAU, VVAU and window unit
  double lut_stream_overhead = 120;      ///< control, handshakes and counters per streaming node
  double lut_per_stream_lane_bit = 2.0;  ///< streaming nodes: LUTs per lane per bit
  bool allow_uram = true;                ///< consider UltraRAM for weights where the device has it
  /// Fused activations wider than this many bits get a standalone Thresholding node (FINN's
  /// rtl thresholding: a binary search over BRAM) instead of MVAU_hls's comparator per step.
  int max_fused_threshold_bits = 4;
  /// Candidates also hold, where threshold_placement_choice allows, the thresholds split off
  /// into a Thresholding node of their own after the MVAU/VVAU (as FINN's separate-thresholds
  /// builds put them). Only for a program that ties the MVAU/VVAU's choice to its
  /// activation's, as make_folding_problem does (FoldingProblem::links).
  bool split_threshold_choice = false;
};

/// Whether `layer` can take its thresholds either way: an MVAU/VVAU with a fused activation
/// (comparators inside it, by its own activation width, at most max_fused_threshold_bits), or
/// such a fused activation itself (not after an add, at most that many bits).
bool threshold_placement_choice(const ir::Layer& layer, const DataflowOptions& options);

/// A layer over a 1 x L feature map with a 1 x K window (a Conv1d or MaxPool1d): FINN's 1-D
/// nodes (the window unit's and StreamingMaxPool's 1-D cost formulas; PE on StreamingMaxPool).
bool one_dimensional(const ir::Layer& layer);

/// The divisors of n, ascending.
std::vector<std::int64_t> divisors(std::int64_t n);

/// Loop bounds of a layer's engine: MVAU (MW, MH), VVAU (K*K, C), stream (1, C).
struct FoldBounds {
  std::int64_t simd_max = 1;  ///< SIMD must divide this
  std::int64_t pe_max = 1;    ///< PE must divide this
};
FoldBounds fold_bounds(const ir::Layer& layer);

/// Words in each PE's weight memory (MW*MH / (SIMD*PE), or K*K*C / (SIMD*PE)); 0 for a
/// layer without weights.
std::int64_t weight_memory_depth(const ir::Layer& layer, const LayerConfig& config);

/// Where the weights go when the memory is not chosen (FINN's ram_style "auto", left to
/// Vivado): LUTRAM for at most kLutramMaxDepth words per PE, else BRAM. For a layer without
/// weights, BRAM (no memory is costed).
WeightMemory auto_weight_memory(const ir::Layer& layer, const LayerConfig& config);

/// Whether `config` is a legal folding of `layer` (SIMD | simd_max, PE | pe_max, memory and
/// MAC mapping meaningful); `why` says what is wrong.
bool config_is_legal(const ir::Layer& layer, const LayerConfig& config, const Device& device,
                     std::string& why);

/// The cycles of the slowest of `cost`'s nodes whose op is one of `ops` (0 when none is).
std::int64_t slowest_node(const LayerCost& cost, std::initializer_list<FinnOp> ops);

/// Cycles and resources of `layer` folded as `config` (no legality check).
LayerCost layer_cost(const ir::Layer& layer, const LayerConfig& config, const Device& device,
                     const DataflowOptions& options);

struct Candidate {
  LayerConfig config;
  LayerCost cost;
};
/// Every legal configuration of `layer` that no other one dominates (none is at least as
/// fast and at most as expensive in every resource), sorted by cycles, fastest first.
std::vector<Candidate> layer_candidates(const ir::Layer& layer, const Device& device,
                                        const DataflowOptions& options);

/// A whole design evaluated against a device.
struct DataflowEval {
  std::vector<LayerCost> layers;
  Resources total;
  std::int64_t ii_cycles = 0;              ///< initiation interval: cycles between frames
  std::int64_t input_transfer_cycles = 0;  ///< cycles to bring one input frame on chip
  int bottleneck = -1;                     ///< layer setting the II, or -1 for the input link
  std::int64_t latency_cycles = 0;         ///< batch-1 latency: II plus pipeline fill
  double fps = 0;
  double latency_ms = 0;
  std::vector<std::string> over_budget;  ///< e.g. "DSP 412 > 306 usable on zu3eg"
  std::vector<NamedNode> extras;         ///< FINN nodes outside the layers (from a folding file)
  int extra_bottleneck = -1;             ///< the extra node setting the II, or -1
  bool fits() const { return over_budget.empty(); }
};

/// DSP slices per multiplier: 0.5 when two <= 8-bit products share a DSP48E2 or DSP58
/// (Xilinx WP486), else 1.
double dsp_per_product(DspKind kind, int weight_bits, int act_bits);

/// Cycles to bring one input frame over the off-chip link.
std::int64_t input_transfer_cycles(const ir::Network& net, const Device& device);

/// Evaluates a design: `configs[i]` folds `net.layers[i]`; `extras` are FINN nodes outside the
/// layers (an input quantizer, LabelSelect, FIFOs) that count toward the II and the totals.
DataflowEval evaluate_dataflow(const ir::Network& net, const std::vector<LayerConfig>& configs,
                               const Device& device, const DataflowOptions& options,
                               const std::vector<NamedNode>& extras = {});

/// Lists each usable resource the totals exceed, naming both numbers and the device.
std::vector<std::string> over_budget(const Resources& used, const Device& device);

/// FINN's ram_style for a memory: "distributed" (LUTRAM), "block" or "ultra".
const char* finn_ram_style(WeightMemory m);

std::string to_string(MacMapping m);
std::string to_string(WeightMemory m);

}  // namespace hao::hw
