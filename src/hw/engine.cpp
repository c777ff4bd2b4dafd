#include "hw/engine.hpp"

#include <algorithm>
#include <cmath>

namespace hao::hw {
namespace {

double ceil_div(std::int64_t a, std::int64_t b) { return static_cast<double>((a + b - 1) / b); }

// Marks squeeze-excite regions: for a multiply whose second operand is a C x 1 x 1 map, the
// chain of single-input layers behind that operand back to (and including) a global pooling.
void mark_host_regions(const ir::Network& net, std::vector<Placement>& placement,
                       std::vector<int>& region_of) {
  int regions = 0;
  for (std::size_t i = 0; i < net.layers.size(); ++i) {
    const ir::Layer& mul = net.layers[i];
    if (mul.op != ir::OpKind::kMul || mul.inputs.size() != 2) continue;
    const int gate = mul.inputs[1];
    if (gate == ir::kNetworkInput) continue;
    const ir::Shape& g = net.layers[static_cast<std::size_t>(gate)].out;
    if (g.h != 1 || g.w != 1) continue;
    std::vector<int> chain;
    int at = gate;
    bool found_pool = false;
    while (at != ir::kNetworkInput) {
      const ir::Layer& l = net.layers[static_cast<std::size_t>(at)];
      chain.push_back(at);
      if (l.op == ir::OpKind::kGlobalAvgPool) {
        found_pool = true;
        break;
      }
      if (l.inputs.size() != 1) break;
      at = l.inputs[0];
    }
    if (!found_pool) continue;
    for (int c : chain) {
      placement[static_cast<std::size_t>(c)] = Placement::kHost;
      region_of[static_cast<std::size_t>(c)] = regions;
    }
    placement[i] = Placement::kHost;
    region_of[i] = regions;
    ++regions;
  }
}

}  // namespace

EngineTerms engine_terms(const ir::Network& net, const EngineShape& s, const EngineOptions& o) {
  EngineTerms t;
  const std::size_t n = net.layers.size();
  t.placement.assign(n, Placement::kEngine);
  std::vector<int> region_of(n, -1);
  mark_host_regions(net, t.placement, region_of);
  std::vector<bool> region_counted(n, false);
  for (std::size_t i = 0; i < n; ++i) {
    const ir::Layer& l = net.layers[i];
    const double act_bytes = l.act_bits / 8.0;
    if (t.placement[i] == Placement::kHost) {
      t.host_macs += static_cast<double>(l.macs());
      if (l.op == ir::OpKind::kMul) {
        // The region's cost grows with the map it scales: the map crosses to the host and back.
        const double elements = static_cast<double>(l.out.elements());
        t.host_elements += elements;
        t.host_pixels += static_cast<double>(l.out.h * l.out.w);
        t.host_elements_over_cache +=
            std::max(0.0, elements * act_bytes - o.host_cache_bytes) / act_bytes;
      }
      const auto r = static_cast<std::size_t>(region_of[i]);
      if (!region_counted[r]) {
        region_counted[r] = true;
        t.host_regions += 1;
      }
      continue;
    }
    // An activation right after a conv or fc runs in that layer's output stage.
    if (l.op == ir::OpKind::kAct && l.inputs.size() == 1 && l.inputs[0] != ir::kNetworkInput &&
        net.layers[static_cast<std::size_t>(l.inputs[0])].has_weights()) {
      t.placement[i] = Placement::kFused;
      continue;
    }
    const double pixels = static_cast<double>(l.out.h * l.out.w);
    double in_elements = 0;
    for (int p : l.inputs) in_elements += static_cast<double>(net.producer_shape(p).elements());
    t.fmap_bytes += (in_elements + static_cast<double>(l.out.elements())) * act_bytes;
    t.engine_layers += 1;
    if (l.is_depthwise()) {
      t.dw_cycles += ceil_div(l.out.h * l.out.w, s.pp) * ceil_div(l.out.c, s.pi) *
                     static_cast<double>(l.kernel_h * l.kernel_w);
      t.weight_bytes += static_cast<double>(l.weights() * l.weight_bits) / 8.0;
    } else if (l.has_weights()) {
      const std::int64_t g = l.op == ir::OpKind::kConv ? l.groups : 1;
      const std::int64_t cin = l.op == ir::OpKind::kFc ? l.in.elements() : l.in.c;
      const std::int64_t k = l.op == ir::OpKind::kFc ? 1 : l.kernel_h * l.kernel_w;
      t.conv_cycles += ceil_div(l.out.h * l.out.w, s.pp) * ceil_div(cin / g, s.pi) *
                       ceil_div(l.out.c / g, s.po) * static_cast<double>(k * g);
      t.weight_bytes += static_cast<double>(l.weights() * l.weight_bits) / 8.0;
    } else {
      const double read_pixels = std::max(pixels, static_cast<double>(l.in.h * l.in.w));
      t.eltwise_cycles +=
          std::ceil(read_pixels / static_cast<double>(s.pp)) * ceil_div(l.out.c, s.pi);
    }
  }
  return t;
}

std::vector<std::string> engine_term_names() {
  return {"conv_cycles", "dw_cycles",     "eltwise_cycles", "weight_bytes",
          "fmap_bytes",  "engine_layers", "host_elements",  "host_elements_over_cache",
          "host_macs",   "host_regions",  "host_pixels"};
}

std::vector<double> as_vector(const EngineTerms& t) {
  return {t.conv_cycles, t.dw_cycles,     t.eltwise_cycles, t.weight_bytes,
          t.fmap_bytes,  t.engine_layers, t.host_elements,  t.host_elements_over_cache,
          t.host_macs,   t.host_regions,  t.host_pixels};
}

}  // namespace hao::hw
