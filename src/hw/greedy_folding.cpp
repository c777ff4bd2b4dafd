#include "hw/greedy_folding.hpp"

#include <algorithm>

namespace hao::hw {
namespace {

// Smallest divisor d of n with d >= need (n itself when none smaller works).
std::int64_t next_divisor(std::int64_t n, std::int64_t need) {
  for (std::int64_t d = std::max<std::int64_t>(1, need); d < n; ++d)
    if (n % d == 0) return d;
  return n;
}

LayerConfig fold_layer(const ir::Layer& l, std::int64_t target) {
  LayerConfig c;
  c.mac = (l.weight_bits >= 4 && l.act_bits >= 4) ? MacMapping::kDsp : MacMapping::kLut;
  const FoldBounds b = fold_bounds(l);
  const EngineKind kind = engine_kind(l);
  if (kind == EngineKind::kStream) c.mac = MacMapping::kLut;
  // The layer's FINN nodes (its sliding-window unit and padding follow the engine's lanes).
  auto cycles = [&](const LayerConfig& x) { return layer_cost(l, x, Device{}, {}).cycles; };
  // Walk one parallelism through its divisors, smallest first, until the target is met.
  auto raise = [&](std::int64_t& lanes, std::int64_t bound) {
    while (cycles(c) > target && lanes < bound) lanes = next_divisor(bound, lanes + 1);
  };
  if (kind == EngineKind::kMvau) {
    raise(c.simd, b.simd_max);
    raise(c.pe, b.pe_max);
  } else {
    raise(c.pe, b.pe_max);
    raise(c.simd, b.simd_max);
  }
  // FINN's SetFolding leaves ram_style at "auto": Vivado places the weights.
  c.memory = auto_weight_memory(l, c);
  return c;
}

std::int64_t max_cycles(const ir::Network& net, const std::vector<LayerConfig>& configs) {
  Device any;
  DataflowOptions o;
  std::int64_t m = 0;
  for (std::size_t i = 0; i < net.layers.size(); ++i)
    m = std::max(m, layer_cost(net.layers[i], configs[i], any, o).cycles);
  return m;
}

}  // namespace

std::vector<LayerConfig> greedy_fold(const ir::Network& net, std::int64_t target_cycles) {
  std::vector<LayerConfig> configs;
  for (const auto& l : net.layers) configs.push_back(fold_layer(l, target_cycles));
  const std::int64_t reached = max_cycles(net, configs);
  if (reached > target_cycles) {
    configs.clear();
    for (const auto& l : net.layers) configs.push_back(fold_layer(l, reached));
  }
  return configs;
}

GreedyResult greedy_fastest_fit(const ir::Network& net, const Device& device,
                                const DataflowOptions& options) {
  GreedyResult r;
  // Slowest sensible target: every layer unfolded (PE = SIMD = 1).
  std::vector<LayerConfig> unfolded;
  for (const auto& l : net.layers) {
    LayerConfig c;
    c.mac = fold_layer(l, 0).mac;
    c.memory = auto_weight_memory(l, c);
    unfolded.push_back(c);
  }
  std::int64_t hi = max_cycles(net, unfolded);
  std::int64_t lo = 1;
  auto fits = [&](std::int64_t target, std::vector<LayerConfig>& out) {
    out = greedy_fold(net, target);
    ++r.folds_tried;
    return evaluate_dataflow(net, out, device, options).fits();
  };
  std::vector<LayerConfig> best;
  if (!fits(hi, best)) {
    r.configs = best;
    r.target_cycles = hi;
    return r;
  }
  r.fits = true;
  r.target_cycles = hi;
  // Greedy resource use shrinks as the target grows (more folding), so bisect on the target.
  while (lo < hi) {
    const std::int64_t mid = lo + (hi - lo) / 2;
    std::vector<LayerConfig> trial;
    if (fits(mid, trial)) {
      hi = mid;
      best = trial;
      r.target_cycles = mid;
    } else {
      lo = mid + 1;
    }
  }
  r.configs = best;
  return r;
}

}  // namespace hao::hw
