// What programs 2 and 3 share on the engine template (ilp's own, not part of its interface):
// the instance (the network's engine work, the candidate engine shapes and per shape the
// non-dominated tilings of every unit and fused chain), the heuristics that give a first
// design and prune shapes, and the engine's rows of both programs.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "hw/device.hpp"
#include "hw/engine_template.hpp"
#include "ilp/engine_program.hpp"
#include "ilp/model.hpp"

namespace hao::ilp {

/// Cycles of a candidate with no design.
inline constexpr double kNoDesign = std::numeric_limits<double>::infinity();

/// BRAM36 blocks that hold `bytes`.
std::int64_t blocks_for(double bytes);

struct EngineInstance {
  hw::EngineWork work;
  std::vector<hw::EngineConfig> shapes;  ///< buffer sizes at the shape's bank minimum
  std::vector<hw::BufferBanks> banks;
  std::vector<hw::Resources> base;  ///< per shape: DSP, LUT at zero buffer blocks
  /// [shape][unit or chain][candidate], fastest first.
  std::vector<std::vector<std::vector<hw::TileCost>>> units, chains;
  std::vector<std::vector<int>> chains_of;  ///< per unit: the chains owning it
  hw::Resources cap;                        ///< the device's usable resources
  int wb = 8, ab = 8;                       ///< the datapath's weight and activation bits
};

/// The instance of `net` on `device`: the shapes of `o.shapes`, else the pinned engine
/// (InputError when it does not fit), else every candidate shape; shapes whose engines and
/// minimal buffers do not fit are dropped.
EngineInstance make_engine_instance(const ir::Network& net, const hw::Device& device,
                                    const EngineMapOptions& o);

/// `c` with these buffer sizes in BRAM36.
hw::EngineConfig with_buffers(hw::EngineConfig c, std::int64_t in, std::int64_t w,
                              std::int64_t out);

/// Whether shape `s` with `blocks` BRAM36 of buffers fits the DSP, LUT and BRAM.
bool fits_resources(const EngineInstance& p, std::size_t s, std::int64_t blocks,
                    const hw::EngineCostOptions& o);

/// Per unit and chain the tiling chosen for one shape and buffer sizes.
struct TilingChoice {
  double cycles = kNoDesign;
  std::vector<int> unit_choice;   ///< candidate index, -1 when fused or none fits
  std::vector<int> chain_choice;  ///< candidate index, -1 when not fused
};

/// The best design for shape `s` and fixed buffer sizes: per unit the fastest tiling that
/// fits, per chain likewise, then which chains run fused. `exact` decides the chains by
/// enumerating disjoint sets (small cases); otherwise they are taken greedily in order.
TilingChoice best_tilings(const EngineInstance& p, std::size_t s, std::int64_t n_in,
                          std::int64_t n_w, std::int64_t n_out, bool exact);

/// Lower bound on shape `s`'s cycles: each unit at the lesser of its fastest tiling and its
/// share of a fused chain, buffers ignored.
double shape_lower_bound(const EngineInstance& p, std::size_t s);

/// A design of the instance: a shape, buffer sizes in BRAM36 and the tilings.
struct EngineCandidate {
  std::size_t shape = 0;
  std::int64_t n_in = 0, n_w = 0, n_out = 0;
  TilingChoice tilings;
};

/// A good feasible design quickly: for each shape, buffer splits on a grid of the free BRAM
/// (the baseline a person would script).
EngineCandidate grid_candidate(const EngineInstance& p, const hw::EngineCostOptions& o);

/// Drops shapes that cannot beat `upper` cycles, then shapes another one dominates.
void prune_shapes(EngineInstance& p, double upper);

/// The steps and buffers of a candidate: each buffer sized to the largest tile it holds
/// (never below the shape's bank minimum).
hw::EngineDesign design_of(const EngineInstance& p, const EngineCandidate& d);

/// Why no design exists: no shape fits, or the unit whose smallest tiles need the most BRAM.
std::string why_nothing_fits(const EngineInstance& p, const hw::Device& device,
                             const hw::EngineCostOptions& o);

/// The candidate evaluated on the device, as map_engine returns it (method and statistics
/// left to the caller).
EngineMapResult engine_result(const ir::Network& net, const hw::Device& device,
                              const EngineInstance& p, const EngineCandidate& d,
                              const EngineMapOptions& o);

/// A candidate found without the solver (`method` says how; status kNotSolved), or, when it
/// has no design, why nothing fits (status kInfeasible).
EngineMapResult result_without_solver(const ir::Network& net, const hw::Device& device,
                                      const EngineInstance& p, const EngineCandidate& d,
                                      const EngineMapOptions& o, EngineMethod method);

/// Program 2's and 3's rows on the engine itself: one shape z[s], buffer sizes n_in, n_w,
/// n_out within the BRAM and at least the chosen shape's banks, the shape's DSP and LUT plus
/// the buffers'.
struct EngineRows {
  std::vector<int> z;
  int n_in = -1, n_w = -1, n_out = -1;
};
EngineRows add_engine_rows(Model& m, const EngineInstance& p, const hw::EngineCostOptions& cost);

}  // namespace hao::ilp
