// Measured batch-1 inference latency of a network on this CPU (LibTorch, float): the host CPU
// as a hardware target whose numbers are measurements, not a model.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "nn/ir_module.hpp"
#include "predict/samples.hpp"

namespace hao::nn {

struct ProfileOptions {
  int warmup = 10;        ///< untimed runs first (kernel selection, caches)
  int repeats = 50;       ///< timed whole-network runs
  int threads = 0;        ///< 0: all cores (use_threads)
  unsigned seed = 1;      ///< weights and input (latency does not depend on them)
  bool per_layer = true;  ///< also time each layer (as many layer-by-layer runs again)
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

/// One genotype of a search space, measured.
struct GenotypeLatency {
  std::size_t line = 0;             ///< in the genotype file (header = 1)
  std::vector<std::string> fields;  ///< that row of the file
  ProfileResult result;
};

/// The genotype file's header and its measured rows.
struct GenotypeProfile {
  std::vector<std::string> header;
  std::vector<GenotypeLatency> rows;
};

/// The host CPU as a latency column: each genotype in the arch column of `archs_csv`
/// (arch_str for nb201, arch_mnasnet_blocks for anb), or `sample` of them drawn with `seed`
/// (0: all, in file order), expanded into its network and timed whole (options.per_layer is
/// ignored). `progress(done, total)` after each. Throws core::InputError naming the file and
/// line for a missing column or a bad genotype, or a sample larger than the file.
GenotypeProfile profile_genotypes(
    predict::Space space, const std::string& archs_csv, std::size_t sample, unsigned seed,
    const ProfileOptions& options,
    const std::function<void(std::size_t, std::size_t)>& progress = {});

}  // namespace hao::nn
