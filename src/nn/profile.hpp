// Measured batch-1 inference latency of a network on this CPU (LibTorch, float): the host CPU
// as a hardware target whose numbers are measurements, not a model.
#pragma once

#include <string>
#include <vector>

#include "nn/ir_module.hpp"

namespace hao::nn {

struct ProfileOptions {
  int warmup = 10;    ///< untimed runs first (kernel selection, caches)
  int repeats = 50;   ///< timed whole-network runs
  int threads = 0;    ///< 0: LibTorch's default (all cores)
  unsigned seed = 1;  ///< weights and input (latency does not depend on them)
};

struct LayerTime {
  std::size_t layer = 0;
  double median_ms = 0;
};

struct ProfileResult {
  double median_ms = 0, min_ms = 0, p10_ms = 0, p90_ms = 0, mean_ms = 0;
  int repeats = 0, threads = 0;
  std::vector<LayerTime> layers;  ///< per layer, median over as many layer-by-layer runs
  double layers_sum_ms = 0;       ///< sum of the per-layer medians
};

/// Times `model` (evaluation mode, no gradients) on random batch-1 inputs. Throws
/// core::InputError for warmup < 0 or repeats < 1.
ProfileResult profile(IrNet& model, const ProfileOptions& options);

}  // namespace hao::nn
