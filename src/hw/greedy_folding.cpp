#include "hw/greedy_folding.hpp"

#include <algorithm>
#include <initializer_list>
#include <vector>

namespace hao::hw {
namespace {

// SetFolding's bound on an MVAU's weight stream while it raises SIMD: weight bits x SIMD
// (FINN v0.10.1 set_folding.py, mvau_wwidth_max = 36).
constexpr std::int64_t kMvauWeightWidthMax = 36;

// FINN's SetFolding for one layer, node by node: each of the layer's FINN nodes gets the
// smallest parallelism (through the divisors of its bound) whose cycles are strictly below
// the target, as SetFolding.optimize_attribute_val does.
class LayerFolder {
 public:
  LayerFolder(const ir::Layer& l, std::int64_t target) : l_(l), target_(target) {}

  LayerConfig fold() {
    c_.mac = (l_.weight_bits >= 4 && l_.act_bits >= 4) ? MacMapping::kDsp : MacMapping::kLut;
    const FoldBounds b = fold_bounds(l_);
    switch (engine_kind(l_)) {
      case EngineKind::kMvau:
        mvau(b);
        break;
      case EngineKind::kVvau:
        // PE over the channels; SIMD over the window only once PE is exhausted. The window
        // unit before it takes SIMD = PE, in parallel_window mode when SIMD > 1.
        optimize(c_.pe, b.pe_max, {FinnOp::kVvau});
        if (c_.pe == b.pe_max && cycles({FinnOp::kVvau}) > target_)
          optimize(c_.simd, b.simd_max, {FinnOp::kVvau});
        c_.swu_simd = c_.pe;
        c_.swu_parallel = c_.simd > 1;
        optimize(c_.pad_simd, l_.in.c, {FinnOp::kFmPadding});
        break;
      case EngineKind::kStream:
        c_.mac = MacMapping::kLut;
        stream();
        break;
    }
    // The DuplicateStreams forking its output (an add's shares its PE with the requantizer), and
    // a gated activation's fork of its input (the same PE).
    const bool gated = l_.op == ir::OpKind::kAct && ir::is_gated(l_.act);
    if ((l_.fanout >= 2 && l_.op != ir::OpKind::kAdd) || gated)
      optimize(c_.aux_pe, l_.out.c, {FinnOp::kDuplicateStreams});
    // SetFolding leaves ram_style at "auto": Vivado places the weights.
    c_.memory = auto_weight_memory(l_, c_);
    return c_;
  }

 private:
  const ir::Layer& l_;
  const std::int64_t target_;
  LayerConfig c_;

  // The slowest of the layer's nodes of these ops (0 when it has none).
  std::int64_t cycles(std::initializer_list<FinnOp> ops) const {
    return slowest_node(layer_cost(l_, c_, Device{}, {}), ops);
  }
  void optimize(std::int64_t& value, std::int64_t bound, std::initializer_list<FinnOp> ops) {
    for (std::int64_t d : divisors(bound)) {
      value = d;
      if (cycles(ops) < target_) break;
    }
  }

  void mvau(const FoldBounds& b) {
    // SIMD first while the weight stream stays within kMvauWeightWidthMax, then PE.
    for (std::int64_t d : divisors(b.simd_max)) {
      const std::int64_t previous = c_.simd;
      c_.simd = d;
      if (cycles({FinnOp::kMvau}) < target_) break;
      if (l_.weight_bits * d > kMvauWeightWidthMax) {
        c_.simd = previous;
        break;
      }
    }
    optimize(c_.pe, b.pe_max, {FinnOp::kMvau});
    // Its window unit (or DownSampler) and padding are folded on their own, over the channels;
    // a window unit at full SIMD that still misses the target goes to parallel_window.
    optimize(c_.swu_simd, l_.in.c, {FinnOp::kSwu, FinnOp::kDownSampler});
    if (c_.swu_simd == l_.in.c && cycles({FinnOp::kSwu}) > target_) c_.swu_parallel = true;
    optimize(c_.pad_simd, l_.in.c, {FinnOp::kFmPadding});
  }

  void stream() {
    switch (l_.op) {
      case ir::OpKind::kAdd:
        optimize(c_.pe, l_.out.c, {FinnOp::kAddStreams});
        optimize(c_.aux_pe, l_.out.c, {FinnOp::kDuplicateStreams, FinnOp::kThresholding});
        return;
      case ir::OpKind::kAct:  // a gated one's multiply at its thresholds' PE
      case ir::OpKind::kGlobalAvgPool:
        optimize(c_.pe, l_.out.c,
                 {FinnOp::kThresholding, FinnOp::kEltwise, FinnOp::kGlobalAccPool});
        return;
      case ir::OpKind::kMaxPool:
      case ir::OpKind::kAvgPool:
        // Pool after a depthwise window unit: PE over the channels, the unit's SIMD = PE.
        // StreamingMaxPool is none of SetFolding's ops (it warns and leaves a 1-D one at PE 1).
        optimize(c_.pe, l_.out.c, {FinnOp::kPool});
        return;
      case ir::OpKind::kPixelPad:  // FMPadding_Pixel is one of SetFolding's SIMD ops
        optimize(c_.pe, l_.in.c, {FinnOp::kFmPaddingPixel});
        return;
      default:
        // ElementwiseMul and StreamingConcat: SetFolding does not fold them (it warns and
        // leaves PE = 1).
        return;
    }
  }
};

LayerConfig fold_layer(const ir::Layer& l, std::int64_t target) {
  return LayerFolder(l, target).fold();
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
