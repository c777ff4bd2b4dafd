// The layer-sequential engine template as a design (HAO/DPU-like): one conv engine of
// PP x PI x PO MACs per cycle and one depthwise engine of PP x DC, on-chip input, weight and
// output buffers, and DDR transfers overlapped with compute (double buffering). Layers run one
// after another, each in tiles that fit the buffers; an expand -> depthwise -> project chain
// can run fused, its intermediate tensors never leaving the chip. This file gives, per layer
// or fused chain and tiling, the compute and memory cycles, the bytes moved and the buffer
// space needed, and per engine configuration its resources; ilp/engine_program chooses.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hw/device.hpp"
#include "hw/engine.hpp"
#include "ir/network.hpp"

namespace hao::hw {

/// Bytes one BRAM36 holds (36 Kibit).
inline constexpr double kBram36Bytes = 36.0 * 1024 / 8;

/// One engine configuration: the engines' shapes and the buffer sizes.
struct EngineConfig {
  EngineShape shape;             ///< conv engine: PP pixels x PI in x PO out channels
  std::int64_t dw_lanes = 16;    ///< depthwise engine: PP pixels x this many channels
  std::int64_t in_bram = 0;      ///< input buffer, BRAM36 blocks
  std::int64_t weight_bram = 0;  ///< weight buffer, BRAM36 blocks
  std::int64_t out_bram = 0;     ///< output buffer, BRAM36 blocks
  std::int64_t macs() const { return shape.pp * (shape.pi * shape.po + dw_lanes); }
};

/// Coefficients of the engine cost model. They are stated engineering estimates (see
/// docs/architecture.md); the latency ones are what `hao calibrate --kind engine` fits.
struct EngineCostOptions {
  double lut_base = 6000;               ///< instruction fetch, scheduler, DMA, AXI interfaces
  double lut_per_mac = 10;              ///< operand routing, accumulators beyond the DSP
  double lut_per_buffer_bram = 16;      ///< address generation and read muxing per block
  double layer_overhead_cycles = 1500;  ///< per layer or fused chain: dispatch, drain
  double tile_overhead_cycles = 40;     ///< per tile: DMA descriptor, pipeline fill
  double bandwidth_efficiency = 0.8;    ///< share of the device's off-chip bandwidth reached
};

/// What a unit of work runs on.
enum class UnitKind { kConv, kDepthwise, kEltwise, kFused };
std::string to_string(UnitKind kind);

/// A layer the engines run, or a fusable chain of them.
struct EngineUnit {
  UnitKind kind = UnitKind::kConv;
  std::vector<int> layers;  ///< one layer; a chain: [expand,] depthwise, project
  std::string name;
};

/// How a network splits into work for the engines. Activations right after a weighted layer
/// run in its output stage and a concat is free (producers write into its slices): neither
/// is a unit. Every other layer is one unit; `chains` lists the expand -> depthwise ->
/// project runs that may instead execute fused, by the indices of their member units.
struct EngineWork {
  std::vector<EngineUnit> units;
  std::vector<EngineUnit> chains;               ///< kind kFused
  std::vector<std::vector<int>> chain_members;  ///< per chain: indices into units
};
EngineWork engine_work(const ir::Network& net);

/// A tiling: output rows per tile, output channels per tile, and the loop order (weights
/// outer: each weight tile is read once and the input re-read per channel tile; else the
/// input is read once and weights re-read per row tile unless one tile holds them all).
/// A fused chain tiles rows only (all channels of its intermediates stay on chip).
struct Tiling {
  std::int64_t rows = 1;
  std::int64_t channels = 1;
  bool weights_outer = false;
  bool operator==(const Tiling& o) const {
    return rows == o.rows && channels == o.channels && weights_outer == o.weights_outer;
  }
};

/// The cost of one unit under one tiling and engine shape.
struct TileCost {
  Tiling tiling;
  std::int64_t tiles = 0;
  double compute_cycles = 0;   ///< MAC (or element) steps of the engines, all tiles
  double memory_cycles = 0;    ///< DDR transfer cycles at the effective bandwidth
  double prologue_cycles = 0;  ///< loading the first tile, before compute can start
  double overhead_cycles = 0;  ///< per-unit and per-tile fixed costs
  double cycles = 0;           ///< max(compute, memory) + prologue + overhead
  double in_bytes = 0, weight_bytes = 0, out_bytes = 0;  ///< moved over DDR
  double need_in = 0, need_weight = 0, need_out = 0;     ///< buffer bytes required
  bool memory_bound() const { return memory_cycles > compute_cycles; }
};

/// Tilings worth considering for a unit (rows and channels in powers of two and the full
/// extent; both loop orders where they differ).
std::vector<Tiling> unit_tilings(const ir::Network& net, const EngineUnit& unit,
                                 const EngineShape& shape, std::int64_t dw_lanes);

/// Cost of `unit` tiled as `tiling` on engines of `config` (its buffer sizes are not checked).
TileCost unit_cost(const ir::Network& net, const EngineUnit& unit, const Tiling& tiling,
                   const EngineConfig& config, const Device& device,
                   const EngineCostOptions& options);

/// Tilings no other one beats: none is at least as fast and needs no more of every buffer.
/// Sorted by cycles, fastest first.
std::vector<TileCost> tile_candidates(const ir::Network& net, const EngineUnit& unit,
                                      const EngineConfig& config, const Device& device,
                                      const EngineCostOptions& options);

/// Minimum BRAM36 blocks of each buffer so it can deliver its operands every cycle
/// (512 x 72 is the widest aspect ratio).
struct BufferBanks {
  std::int64_t in = 0, weight = 0, out = 0;
};
BufferBanks min_buffer_banks(const EngineConfig& config, int weight_bits, int act_bits);

/// DSP, LUT and BRAM of the engines and buffers. Operands of up to 8 bits pack two products
/// per DSP48E2 (as in the dataflow template). `weight_bits`/`act_bits`: the widest in use.
Resources engine_resources(const EngineConfig& config, const Device& device, int weight_bits,
                           int act_bits, const EngineCostOptions& options);

/// Engine shapes to choose among when the device does not pin one: PP in {1..16}, PI and PO
/// in {4..64}, depthwise lanes in {4..64}, each that fits the device's DSP and LUT.
std::vector<EngineConfig> engine_shape_candidates(const Device& device, int weight_bits,
                                                  int act_bits, const EngineCostOptions& options);

/// A lower bound on the cycles of any design on engines of `config`'s shape (its buffer sizes
/// are not looked at): per unit its compute at one tile (ceilings of the whole extents, never
/// above the sum over tiles), or its weights and output moved once over DDR if that is more,
/// plus one layer's and one tile's overhead; a fused chain likewise (its engines' longer
/// compute), shared equally among its members, each unit counted at the lesser of its own
/// bound and its chains' shares. Microseconds where program 2 takes a tenth of a second.
double engine_cycles_bound(const ir::Network& net, const EngineWork& work,
                           const EngineConfig& config, const Device& device,
                           const EngineCostOptions& options);

/// One step of a design: a unit (or fused chain) with its tiling.
struct EngineStep {
  UnitKind kind = UnitKind::kConv;
  std::vector<int> layers;
  std::string name;
  Tiling tiling;
};

struct EngineDesign {
  EngineConfig config;
  std::vector<EngineStep> steps;
  /// The engines' operand widths when wider than the network's widest layer (an engine built
  /// for bit-widths some layers could take); 0 = the network's.
  int datapath_weight_bits = 0, datapath_act_bits = 0;
};

struct EngineEval {
  std::vector<TileCost> steps;  ///< per design step
  Resources total;
  double cycles = 0;
  double latency_ms = 0;
  double fps = 0;
  double bytes = 0;                      ///< DDR traffic per frame
  std::vector<std::string> over_budget;  ///< resources or buffers exceeded, with numbers
  bool fits() const { return over_budget.empty(); }
};

/// Evaluates a design against a device: per step cost, buffer fit, resources, totals.
EngineEval evaluate_engine(const ir::Network& net, const EngineDesign& design, const Device& device,
                           const EngineCostOptions& options);

/// Widest weight and activation bits among the network's layers (the engines' datapath).
int max_weight_bits(const ir::Network& net);
int max_act_bits(const ir::Network& net);

}  // namespace hao::hw
