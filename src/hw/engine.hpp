// The layer-sequential engine template (HAO/DPU-like): one set of engines runs every layer in
// turn, with feature maps and weights in DDR. This file gives the physical terms of a network
// on an engine; a latency model is linear in them (predict/engine_model fits the
// coefficients to measurements).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/network.hpp"

namespace hao::hw {

/// The conv engine computes PP output pixels x PI input channels x PO output channels MACs per
/// cycle; depthwise convolutions use PP pixels x PI channels (one window tap per cycle);
/// element-wise layers (add, pooling) PP pixels x PI channels.
struct EngineShape {
  std::int64_t pp = 8, pi = 16, po = 16;
  bool operator==(const EngineShape& o) const { return pp == o.pp && pi == o.pi && po == o.po; }
};

/// Vitis AI's DPUCZDX8G B4096 (8 pixels x 16 input x 16 output channels, 2 ops per MAC).
inline constexpr EngineShape kDpuB4096{8, 16, 16};

/// Where each layer runs.
enum class Placement { kEngine, kFused, kHost };

/// The terms of the latency model for one network (batch 1).
struct EngineTerms {
  double conv_cycles = 0;     ///< conv and fc: ceil(HoWo/PP) ceil(Cin/PI) ceil(Cout/PO) K*K
  double dw_cycles = 0;       ///< depthwise: ceil(HoWo/PP) ceil(C/PI) K*K
  double eltwise_cycles = 0;  ///< add, pooling: ceil(pixels/PP) ceil(C/PI)
  double weight_bytes = 0;    ///< weights read from DDR
  double fmap_bytes = 0;      ///< feature maps read and written (every engine layer)
  double engine_layers = 0;   ///< layers the engine runs (per-layer set-up)
  double host_elements = 0;   ///< feature-map elements the host processes (fallback regions)
  double host_elements_over_cache = 0;  ///< the part of each region's map beyond the cache
  double host_macs = 0;                 ///< MACs computed on the host
  double host_regions = 0;              ///< engine-host round trips
  double host_pixels = 0;               ///< pixels of the maps the host scales
  std::vector<Placement> placement;     ///< per layer
};

struct EngineOptions {
  /// Host cache: a fallback region whose feature map exceeds it pays per element beyond it.
  double host_cache_bytes = 256 * 1024;
};

/// Computes the terms. Activations directly after a conv run fused in it (as on the DPU).
/// A squeeze-excite region (global pooling, convs on 1x1 maps and activations, ending in a
/// broadcast multiply) runs on the host CPU, as Vitis AI partitions it off the DPU.
EngineTerms engine_terms(const ir::Network& net, const EngineShape& shape,
                         const EngineOptions& options = {});

/// Names of the terms in the order of as_vector() (for model files and reports).
std::vector<std::string> engine_term_names();
std::vector<double> as_vector(const EngineTerms& t);

}  // namespace hao::hw
