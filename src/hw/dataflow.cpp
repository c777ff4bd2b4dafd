#include "hw/dataflow.hpp"

#include <algorithm>
#include <cmath>
#include <tuple>

#include "core/error.hpp"
#include "core/text.hpp"
#include "hw/memory.hpp"

namespace hao::hw {
namespace {

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }
std::int64_t ceil_log2(std::int64_t v) {
  std::int64_t bits = 0;
  while ((std::int64_t{1} << bits) < v) ++bits;
  return bits;
}

std::vector<std::int64_t> divisors(std::int64_t n) {
  std::vector<std::int64_t> small, large;
  for (std::int64_t d = 1; d * d <= n; ++d) {
    if (n % d) continue;
    small.push_back(d);
    if (d != n / d) large.push_back(n / d);
  }
  small.insert(small.end(), large.rbegin(), large.rend());
  return small;
}

// Vivado's placement where nothing chooses: LUTRAM up to kLutramMaxDepth words, else BRAM.
WeightMemory placed_by_depth(std::int64_t depth) {
  return depth <= kLutramMaxDepth ? WeightMemory::kLutram : WeightMemory::kBram;
}

// `copies` memories of `width_bits` x `depth` in `memory`. Weights of an MVAU/VVAU: one memory
// per PE, SIMD weights wide (FINN's "const" weight memory layout: WMEM = MW*MH / (SIMD*PE)
// words of SIMD*W bits).
void add_memory(Resources& r, std::int64_t copies, std::int64_t width_bits, std::int64_t depth,
                WeightMemory memory) {
  switch (memory) {
    case WeightMemory::kLutram:
      r.lut += static_cast<double>(copies * lutram_luts(width_bits, depth));
      return;
    case WeightMemory::kUram:
      r.uram += static_cast<double>(copies * uram_blocks(width_bits, depth));
      return;
    case WeightMemory::kBram:
      r.bram36 += static_cast<double>(copies * bram36_blocks(width_bits, depth));
      return;
  }
}

// Sliding-window line buffer: a K x K window needs K input rows of every channel
// (DESIGN.md: K * Win * Cin * abits), read `lanes` elements per cycle.
void add_line_buffer(Resources& r, const ir::Layer& l, std::int64_t lanes) {
  if (l.kernel_h <= 1 && l.kernel_w <= 1) return;
  const std::int64_t elements = l.kernel_h * l.in.w * l.in.c;
  const std::int64_t width = lanes * l.act_bits;
  const std::int64_t depth = ceil_div(elements, lanes);
  add_memory(r, 1, width, depth, placed_by_depth(depth));
}

}  // namespace

// DSP slices per product. A DSP48E2 (27x18) computes two products of <= 8-bit operands
// that share one operand (Xilinx WP486, "Deep Learning with INT8 Optimization on Xilinx
// Devices"); in an MVAU the activation is shared across PEs, so the packing applies. A
// DSP48E1 (25x18) has no such packing. Operands up to 16 bits fit one slice on every kind.
double dsp_per_product(DspKind kind, int weight_bits, int act_bits) {
  if (kind != DspKind::kDsp48e1 && weight_bits <= 8 && act_bits <= 8) return 0.5;
  return 1.0;
}

EngineKind engine_kind(const ir::Layer& layer) {
  if (layer.is_depthwise()) return EngineKind::kVvau;
  if (layer.has_weights()) return EngineKind::kMvau;
  return EngineKind::kStream;
}

FoldBounds fold_bounds(const ir::Layer& l) {
  switch (engine_kind(l)) {
    case EngineKind::kMvau:
      return {l.reduction_size(), l.out.c};
    case EngineKind::kVvau:
      return {l.kernel_h * l.kernel_w, l.out.c};
    case EngineKind::kStream:
      break;
  }
  return {1, l.out.c};
}

std::int64_t weight_memory_depth(const ir::Layer& layer, const LayerConfig& c) {
  if (engine_kind(layer) == EngineKind::kStream) return 0;
  const FoldBounds b = fold_bounds(layer);
  return ceil_div(b.simd_max, c.simd) * ceil_div(b.pe_max, c.pe);
}

WeightMemory auto_weight_memory(const ir::Layer& layer, const LayerConfig& c) {
  if (engine_kind(layer) == EngineKind::kStream) return WeightMemory::kBram;
  return placed_by_depth(weight_memory_depth(layer, c));
}

bool config_is_legal(const ir::Layer& layer, const LayerConfig& c, const Device& device,
                     std::string& why) {
  const FoldBounds b = fold_bounds(layer);
  if (c.simd < 1 || b.simd_max % c.simd != 0) {
    why = "SIMD " + std::to_string(c.simd) + " does not divide " + std::to_string(b.simd_max);
    return false;
  }
  if (c.pe < 1 || b.pe_max % c.pe != 0) {
    why = "PE " + std::to_string(c.pe) + " does not divide " + std::to_string(b.pe_max);
    return false;
  }
  if (engine_kind(layer) == EngineKind::kStream && c.mac == MacMapping::kDsp) {
    why = "a " + ir::op_name(layer.op) + " layer has no multipliers to map to DSPs";
    return false;
  }
  if (c.memory == WeightMemory::kUram && device.uram == 0) {
    why = "device " + device.name + " has no UltraRAM";
    return false;
  }
  return true;
}

LayerCost layer_cost(const ir::Layer& l, const LayerConfig& c, const Device& device,
                     const DataflowOptions& o) {
  LayerCost cost;
  const FoldBounds b = fold_bounds(l);
  const std::int64_t pixels = l.op == ir::OpKind::kFc ? 1 : l.out.h * l.out.w;
  const int w = l.weight_bits, a = l.act_bits;
  Resources& r = cost.res;
  r.lut = o.lut_engine_overhead;
  const EngineKind kind = engine_kind(l);
  if (kind == EngineKind::kStream) {
    // Element-wise engine, PE channels per cycle; it must read every input pixel once,
    // so pooling layers are bound by their input size (FINN StreamingMaxPool, AddStreams,
    // GlobalAccPool all consume one input pixel per PE group and cycle).
    const std::int64_t in_pixels = std::max(l.in.h * l.in.w, l.out.h * l.out.w);
    cost.cycles = ceil_div(l.out.c, c.pe) * in_pixels;
    double ops_per_lane = 1;
    if (l.op == ir::OpKind::kMaxPool || l.op == ir::OpKind::kAvgPool)
      ops_per_lane = static_cast<double>(l.kernel_h * l.kernel_w);
    double lane_bits = a;
    if (l.op == ir::OpKind::kGlobalAvgPool)
      lane_bits = static_cast<double>(a + ceil_log2(l.in.h * l.in.w));
    r.lut += static_cast<double>(c.pe) * lane_bits * ops_per_lane * o.lut_per_stream_lane_bit;
    if (l.op == ir::OpKind::kMaxPool || l.op == ir::OpKind::kAvgPool) add_line_buffer(r, l, c.pe);
    return cost;
  }
  // MVAU (FINN MatrixVectorActivation): cycles = MW/SIMD * MH/PE * output pixels.
  // VVAU (FINN VectorVectorActivation): cycles = K*K/SIMD * C/PE * output pixels.
  cost.cycles = ceil_div(b.simd_max, c.simd) * ceil_div(b.pe_max, c.pe) * pixels;
  const std::int64_t lanes = c.simd * c.pe;
  cost.macs_per_cycle = lanes;
  const std::int64_t acc_bits =
      w + a + ceil_log2(kind == EngineKind::kMvau ? l.reduction_size() : l.kernel_h * l.kernel_w);
  // accumulator and output (threshold) stage per PE
  r.lut += static_cast<double>(c.pe * acc_bits) * o.lut_per_adder_bit;
  if (c.mac == MacMapping::kDsp) {
    // products and the adder tree live in the DSP cascade
    r.dsp = std::ceil(static_cast<double>(lanes) * dsp_per_product(device.dsp_kind, w, a));
  } else {
    // LUT multipliers grow with weight bits x activation bits; SIMD-1 adders per PE of
    // width w + a + log2(SIMD) reduce their products.
    r.lut += static_cast<double>(lanes * w * a) * o.lut_per_bit_product;
    r.lut += static_cast<double>(c.pe * (c.simd - 1) * (w + a + ceil_log2(c.simd))) *
             o.lut_per_adder_bit;
  }
  add_memory(r, c.pe, c.simd * w, weight_memory_depth(l, c), c.memory);
  if (l.op == ir::OpKind::kConv) add_line_buffer(r, l, kind == EngineKind::kVvau ? c.pe : c.simd);
  return cost;
}

std::vector<Candidate> layer_candidates(const ir::Layer& layer, const Device& device,
                                        const DataflowOptions& options) {
  const FoldBounds b = fold_bounds(layer);
  const EngineKind kind = engine_kind(layer);
  std::vector<MacMapping> macs = {MacMapping::kLut};
  std::vector<WeightMemory> memories = {WeightMemory::kBram};
  if (kind != EngineKind::kStream) {
    macs.push_back(MacMapping::kDsp);
    memories.push_back(WeightMemory::kLutram);
    if (options.allow_uram && device.uram > 0) memories.push_back(WeightMemory::kUram);
  }
  std::vector<Candidate> all;
  for (std::int64_t simd : divisors(b.simd_max))
    for (std::int64_t pe : divisors(b.pe_max))
      for (MacMapping mac : macs)
        for (WeightMemory mem : memories) {
          LayerConfig c{simd, pe, mac, mem};
          all.push_back({c, layer_cost(layer, c, device, options)});
        }
  auto key = [](const Candidate& c) {
    return std::make_tuple(c.cost.cycles, c.cost.res.dsp, c.cost.res.lut, c.cost.res.bram36,
                           c.cost.res.uram);
  };
  std::stable_sort(all.begin(), all.end(),
                   [&](const Candidate& x, const Candidate& y) { return key(x) < key(y); });
  // Sorted by cycles, every kept candidate is at least as fast as the next one, so the next
  // one survives only if it is strictly cheaper than each kept one in some resource.
  std::vector<Candidate> kept;
  for (const auto& c : all) {
    bool dominated = false;
    for (const auto& k : kept) {
      const Resources& p = k.cost.res;
      const Resources& q = c.cost.res;
      if (p.dsp <= q.dsp && p.lut <= q.lut && p.bram36 <= q.bram36 && p.uram <= q.uram) {
        dominated = true;
        break;
      }
    }
    if (!dominated) kept.push_back(c);
  }
  return kept;
}

std::int64_t input_transfer_cycles(const ir::Network& net, const Device& device) {
  const double bytes = static_cast<double>(net.input.elements() * net.input_bits) / 8.0;
  const double bytes_per_cycle = device.offchip_gbps * 1e9 / (device.clock_mhz * 1e6);
  return static_cast<std::int64_t>(std::ceil(bytes / bytes_per_cycle));
}

std::vector<std::string> over_budget(const Resources& used, const Device& device) {
  const Resources cap = device.usable();
  std::vector<std::string> out;
  auto check = [&](const char* what, double u, double c, std::int64_t total) {
    if (u > c + 1e-9)
      out.push_back(std::string(what) + " " + core::fixed(u, 0) + " > " + core::fixed(c, 0) +
                    " usable on " + device.name + " (" + std::to_string(total) + " x " +
                    core::fixed(device.usable_fraction, 2) + ")");
  };
  check("DSP", used.dsp, cap.dsp, device.dsp);
  check("LUT", used.lut, cap.lut, device.lut);
  check("BRAM36", used.bram36, cap.bram36, device.bram36);
  check("URAM", used.uram, cap.uram, device.uram);
  return out;
}

DataflowEval evaluate_dataflow(const ir::Network& net, const std::vector<LayerConfig>& configs,
                               const Device& device, const DataflowOptions& options) {
  HAO_CHECK(configs.size() == net.layers.size(), "one configuration per layer");
  DataflowEval e;
  e.input_transfer_cycles = input_transfer_cycles(net, device);
  e.ii_cycles = e.input_transfer_cycles;
  std::vector<double> done(net.layers.size(), 0.0);
  double longest_fill = 0;
  for (std::size_t i = 0; i < net.layers.size(); ++i) {
    const ir::Layer& l = net.layers[i];
    LayerCost c = layer_cost(l, configs[i], device, options);
    e.total += c.res;
    if (c.cycles > e.ii_cycles) {
      e.ii_cycles = c.cycles;
      e.bottleneck = static_cast<int>(i);
    }
    // Pipeline fill (DESIGN.md): a layer starts once it holds K input rows, about
    // cycles * K / H after its producer started; fc and global pooling need the whole input.
    double fraction = 1.0;
    if (l.op != ir::OpKind::kFc && l.op != ir::OpKind::kGlobalAvgPool && l.in.h > 0)
      fraction = std::min(1.0, static_cast<double>(l.kernel_h) / static_cast<double>(l.in.h));
    double start = 0;
    for (int p : l.inputs)
      if (p != ir::kNetworkInput) start = std::max(start, done[static_cast<std::size_t>(p)]);
    done[i] = start + fraction * static_cast<double>(c.cycles);
    longest_fill = std::max(longest_fill, done[i]);
    e.layers.push_back(c);
  }
  e.latency_cycles = e.ii_cycles + static_cast<std::int64_t>(std::ceil(longest_fill));
  e.fps = device.clock_mhz * 1e6 / static_cast<double>(e.ii_cycles);
  e.latency_ms = static_cast<double>(e.latency_cycles) / (device.clock_mhz * 1e3);
  e.over_budget = over_budget(e.total, device);
  return e;
}

std::string to_string(MacMapping m) { return m == MacMapping::kDsp ? "dsp" : "lut"; }
std::string to_string(WeightMemory m) {
  switch (m) {
    case WeightMemory::kUram:
      return "uram";
    case WeightMemory::kLutram:
      return "lutram";
    case WeightMemory::kBram:
      break;
  }
  return "bram";
}

}  // namespace hao::hw
