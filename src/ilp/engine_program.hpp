// Program 2: the engine configuration. One engine shape (PP, PI, PO, depthwise lanes) and
// three buffer sizes for the whole network, and per layer or fused chain a tiling that fits
// the buffers, minimizing the summed latency under the device's DSP, LUT and BRAM.
//
//   z[s] in {0,1}, sum_s z[s] = 1                        one shape
//   y[u,t,s] in {0,1}, sum_t y[u,t,s] <= z[s]             tilings only on the chosen shape
//   g[c,t,s] in {0,1}, sum_t g[c,t,s] <= z[s]             a fused chain, likewise
//   sum_{t,s} y[u,t,s] + sum_{c owns u} g[c,t,s] = 1      each unit runs once, alone or fused
//   sum need_b(.) (y or g) <= 4608 n_b, per unit           tiles fit buffer b in {in, w, out}
//   n_b >= sum_s banks_b(s) z[s]                          buffers wide enough for the shape
//   n_in + n_w + n_out <= BRAM;  sum_s LUT(s) z[s] + lut_per_block (n_in+n_w+n_out) <= LUT
//   minimize sum cycles(u,t,s) y[u,t,s] + sum cycles(c,t,s) g[c,t,s]
//
// Tilings dominated for their shape (slower and needing more of every buffer) and shapes
// dominated by another (more resources, never faster on any unit and tiling) are dropped
// first; both drops keep the optimum.
#pragma once

#include <string>
#include <vector>

#include "hw/engine_template.hpp"
#include "ilp/bit_program.hpp"
#include "ilp/model.hpp"

namespace hao::ilp {

struct EngineMapOptions {
  SolveOptions solve;
  hw::EngineCostOptions cost;
  bool fusion = true;  ///< consider running expand -> depthwise -> project chains fused
  /// Shapes to choose among; empty = the device's pinned shape, or every shape that fits.
  std::vector<hw::EngineConfig> shapes;
  /// Build the engines for operands this wide even when every layer is narrower (0 = the
  /// network's widest), as bit allocation does for the widest choice it offers.
  int datapath_weight_bits = 0, datapath_act_bits = 0;
};

/// How an engine design was found: program 2, the grid sweep a person would script, or
/// enumeration (tests).
enum class EngineMethod { kIlp, kGrid, kEnumerated };
std::string to_string(EngineMethod m);

struct EngineMapResult {
  hw::EngineDesign design;
  hw::EngineEval eval;
  bool feasible = false;
  std::string reason;  ///< why nothing fits, naming the layer, resource and numbers
  EngineMethod method = EngineMethod::kIlp;
  SolveStats stats;           ///< kNotSolved for the grid and enumeration; best_bound in cycles
  double bound_ms = 0;        ///< proven lower bound on the latency
  std::size_t shapes = 0;     ///< shapes the program chose among (after dropping dominated)
  std::size_t variables = 0;  ///< binaries for tilings and fused chains
};

/// Solves program 2 with CBC. A pinned engine that the device cannot hold throws
/// core::InputError; a network whose tiles fit no buffer split comes back infeasible with a
/// reason.
EngineMapResult map_engine(const ir::Network& net, const hw::Device& device,
                           const EngineMapOptions& options);

/// The shapes program 2 chooses among for `net` after dropping those that cannot beat the grid
/// design and those another shape dominates (both exact for program 2).
std::vector<hw::EngineConfig> engine_shape_menu(const ir::Network& net, const hw::Device& device,
                                                const EngineMapOptions& options);

/// The baseline a person would script: every shape, buffer splits in eighths of the BRAM left
/// after the banks, the best tilings for each, chains fused greedily. Feasible, not optimal;
/// map_engine starts from it.
EngineMapResult grid_engine(const ir::Network& net, const hw::Device& device,
                            const EngineMapOptions& options);

/// The same optimum by exhaustive enumeration (shapes x buffer sizes x tilings x which chains
/// run fused), for differential tests on small networks.
EngineMapResult brute_force_engine(const ir::Network& net, const hw::Device& device,
                                   const EngineMapOptions& options);

/// Program 3 on the engine template: per chosen layer a bit-width, with the engine shape,
/// buffer sizes, tilings and fused chains, minimizing the summed Omega with the latency at
/// most 1/spec.target_fps (none when 0) and the design within the device. The engines are
/// built for the widest bits on offer (choices and kept layers); a narrower layer moves fewer
/// DDR bytes and needs less buffer, and computes at the same rate. Shapes: options.shapes, the
/// device's pinned one, or else the union of engine_shape_menu at each uniform choice (the
/// program is exact over the shapes it is given).
///
/// A unit's (or chain's) cost depends on the bits of its own layers and of its readers (the
/// precision it writes), so its tilings are priced per context, one combination of those
/// layers' bits (an element-wise layer feeding chosen layers outside them: a precision at least
/// theirs), and linked to the bits chosen:
///   b[l,c] in {0,1}, sum_c b[l,c] = 1, tied layers equal    bits per chosen layer
///   sum_{ctx: ctx(l) = c} sum_{s,t} x[j,ctx,s,t] <= b[l,c]  a job runs in its layers' context
///   program 2's rows over x (one shape, buffers, each unit once, DSP, LUT, BRAM)
///   sum cycles x <= target;  minimize sum Omega(l,c) b[l,c]
/// then, at that Omega, the fastest such design.
QuantizeResult quantize_engine(const ir::Network& net, const hw::Device& device,
                               const EngineMapOptions& options, const QuantizeSpec& spec);

/// `base` with the engines' datapath as wide as the widest of spec's choices: what
/// quantize_engine builds, and what map_engine needs to price a design at some of them.
EngineMapOptions engine_options_for(const QuantizeSpec& spec, EngineMapOptions base = {});

}  // namespace hao::ilp
