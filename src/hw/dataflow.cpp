#include "hw/dataflow.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <tuple>

#include "core/error.hpp"
#include "core/text.hpp"
#include "hw/memory.hpp"

namespace hao::hw {

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

namespace {

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

const char* finn_ram_style(WeightMemory m) {
  switch (m) {
    case WeightMemory::kLutram:
      return "distributed";
    case WeightMemory::kUram:
      return "ultra";
    case WeightMemory::kBram:
      break;
  }
  return "block";
}

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
  if (l.op == ir::OpKind::kUpsample) return {1, 1};  // FINN's node has no folding
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

namespace {

bool padded(const ir::Layer& l) { return l.pad_top + l.pad_bottom + l.pad_left + l.pad_right > 0; }

// FINN lowers a conv to an MVAU over im2col columns, except a 1x1 stride-1 unpadded one
// (qonnx LowerConvsToMatMul).
bool needs_window(const ir::Layer& l) {
  return l.op == ir::OpKind::kConv &&
         !(l.kernel_h == 1 && l.kernel_w == 1 && l.stride_h == 1 && l.stride_w == 1 && !padded(l));
}

}  // namespace

bool one_dimensional(const ir::Layer& l) { return l.in.h == 1 && l.kernel_h == 1; }

namespace {

// FINN turns a max pool with kernel = stride and no padding into StreamingMaxPool; any other
// pooling into a sliding-window unit and a Pool node.
bool streaming_max_pool(const ir::Layer& l) {
  return l.op == ir::OpKind::kMaxPool && !padded(l) && l.kernel_h == l.stride_h &&
         l.kernel_w == l.stride_w && !l.ceil_mode;
}

// The nodes of a layer, in FINN's graph order.
class NodeBuilder {
 public:
  NodeBuilder(const ir::Layer& l, const LayerConfig& c, const Device& device,
              const DataflowOptions& o)
      : l_(l), c_(c), device_(device), o_(o) {}

  LayerCost build() {
    const std::int64_t aux_pe = c_.aux_pe > 0 ? c_.aux_pe : c_.pe;
    if (l_.op == ir::OpKind::kAct && l_.fused_into >= 0)
      fused_thresholds();
    else if (engine_kind(l_) == EngineKind::kStream)
      streaming(aux_pe);
    else
      weighted();
    // An output read by several layers is forked by a DuplicateStreams node (FINN's
    // InsertDuplicateStreams: one per forked tensor, one output stream per reader).
    if (l_.fanout >= 2)
      add(stream_node(FinnOp::kDuplicateStreams, aux_pe, l_.out.c, l_.out.h * l_.out.w));
    return std::move(cost_);
  }

 private:
  const ir::Layer& l_;
  const LayerConfig& c_;
  const Device& device_;
  const DataflowOptions& o_;
  LayerCost cost_;

  void add(const NodeCost& n) {
    cost_.cycles = std::max(cost_.cycles, n.cycles);
    cost_.res += n.res;
    cost_.nodes.push_back(n);
  }

  // The width thresholds compare the accumulator of the layer before at: that of a 1,024-term
  // dot product at the activation's bits (a width of the activation alone: the layer before may
  // take other bits and kernels).
  int accumulator_bits() const {
    return static_cast<int>(finn_accumulator_bits(1024, l_.act_bits, l_.act_bits));
  }

  // The width of each element a standalone activation reads: the accumulator of the conv or fc
  // before it (Layer::reads_accumulator), else an add's requantized sum or an activation.
  int input_bits() const { return l_.reads_accumulator ? accumulator_bits() : l_.act_bits; }

  // A streaming node over `channels` x `pixels`, `pe` channels per cycle: FINN's
  // Channels/PE * pixels (AddStreams, DuplicateStreams, ElementwiseMul, ...); LUTs are
  // hao's estimate (FINN has none for these nodes). `bits`: of each element, when not the
  // layer's activation width.
  NodeCost stream_node(FinnOp op, std::int64_t pe, std::int64_t channels, std::int64_t pixels,
                       int bits = 0) {
    NodeCost n;
    n.op = op;
    n.pe = pe;
    n.cycles = ceil_div(channels, pe) * pixels;
    n.res.lut = o_.lut_stream_overhead + static_cast<double>(pe * (bits > 0 ? bits : l_.act_bits)) *
                                             o_.lut_per_stream_lane_bit;
    return n;
  }

  // An element-wise multiply over the layer's output (FINN's ElementwiseMul), `pe` lanes of
  // `a_bits` x `b_bits` products in LUTs, each priced as the MVAU's LUT multiplier (FINN-R:
  // (2 ceil((a + b) / 6) - 1) (a + b)); FINN has no estimate of its own for the node.
  NodeCost multiply_node(std::int64_t pe, int a_bits, int b_bits) {
    const int width = a_bits + b_bits;
    NodeCost n = stream_node(FinnOp::kEltwise, pe, l_.out.c, l_.out.h * l_.out.w, width);
    n.res.lut +=
        o_.lut_per_bit_product * static_cast<double>(pe * (2 * ceil_div(width, 6) - 1) * width);
    return n;
  }

  // Hard-swish and SiLU, x times gate(x), as a FINN build has to make them: FINN's streamlining
  // turns only monotonic activations into thresholds, and hao's QONNX export writes these as
  // Mul(x, HardSigmoid(x)) and Mul(x, Sigmoid(x)). A DuplicateStreams forks x, a Thresholding
  // quantizes the gate to the activation's bits, an ElementwiseMul multiplies x by it and a
  // Thresholding requantizes the product. x is the accumulator of the layer before where it
  // reads one (as wide as fused thresholds take it: a function of the activation's bits alone).
  void gated_activation(std::int64_t pe, std::int64_t fork_pe) {
    const int a = l_.act_bits;
    const int x = input_bits();
    const std::int64_t pixels = l_.out.h * l_.out.w, steps = threshold_steps(a);
    add(stream_node(FinnOp::kDuplicateStreams, fork_pe, l_.out.c, pixels, x));
    add(thresholding_node(l_.out.c, pixels, steps, x, pe));
    add(multiply_node(pe, x, a));
    add(thresholding_node(l_.out.c, pixels, steps, x + a, pe));
  }

  // FMPadding and the sliding-window unit in front of a windowed layer.
  // `parallel`: the engine takes more than the unit's default style gives (FINN's SetFolding
  // sets parallel_window then: a VVAU with SIMD > 1, an MVAU reading more than all channels).
  void window(std::int64_t engine_lanes, bool depthwise, bool parallel) {
    const std::int64_t in_h = l_.in.h + l_.pad_top + l_.pad_bottom;
    const std::int64_t in_w = l_.in.w + l_.pad_left + l_.pad_right;
    const std::int64_t swu_simd = c_.swu_simd > 0 ? c_.swu_simd : std::gcd(engine_lanes, l_.in.c);
    if (padded(l_)) {
      const std::int64_t simd = c_.pad_simd > 0 ? c_.pad_simd : swu_simd;
      NodeCost p;
      p.op = FinnOp::kFmPadding;
      p.simd = simd;
      p.cycles = ceil_div(l_.in.c, simd) * in_h * in_w;  // FMPadding.get_exp_cycles
      p.res.lut = o_.lut_stream_overhead +
                  static_cast<double>(simd * l_.act_bits) * o_.lut_per_stream_lane_bit;
      add(p);
    }
    if (l_.kernel_h == 1 && l_.kernel_w == 1 && !padded(l_)) {
      // A strided 1x1 conv reads its input through FINN's DownSampler: every input pixel
      // passes, one in stride^2 goes on (DownSampler.get_exp_cycles: C/SIMD * H*W).
      NodeCost d = stream_node(FinnOp::kDownSampler, swu_simd, l_.in.c, in_h * in_w);
      d.pe = 1;
      d.simd = swu_simd;
      add(d);
      return;
    }
    NodeCost s;
    s.op = FinnOp::kSwu;
    s.simd = swu_simd;
    s.cycles =
        swu_cycles(in_h, in_w, l_.in.c, l_.out.h, l_.out.w, window_of(l_), swu_simd, depthwise);
    // In parallel_window mode the unit emits a whole window per cycle and takes one input word
    // per cycle (get_exp_cycles, "parallel").
    if (c_.swu_parallel || (c_.swu_simd == 0 && parallel)) {
      s.parallel_window = true;
      s.cycles = std::min(s.cycles, in_h * in_w * ceil_div(l_.in.c, swu_simd) + 2);
    }
    // ConvolutionInputGenerator_rtl's lut/bram/uram_estimation for the line buffer's ram_style.
    const std::int64_t depth = swu_buffer_depth(in_w, l_.in.c, window_of(l_), swu_simd);
    s.res = swu_line_buffer(swu_simd * l_.act_bits, depth, finn_ram_style(c_.swu_memory));
    s.res.lut += o_.lut_engine_overhead;
    add(s);
  }

  void weighted() {
    const bool vvau = engine_kind(l_) == EngineKind::kVvau;
    if (needs_window(l_))
      window(vvau ? c_.pe : c_.simd, vvau, vvau ? c_.simd > 1 : c_.simd > l_.in.c);
    const FoldBounds b = fold_bounds(l_);
    const std::int64_t pixels = l_.op == ir::OpKind::kFc ? 1 : l_.out.h * l_.out.w;
    const std::int64_t w = l_.weight_bits, a = l_.act_bits, p = c_.pe, q = c_.simd;
    NodeCost n;
    n.op = vvau ? FinnOp::kVvau : FinnOp::kMvau;
    n.pe = p, n.simd = q;
    // MVAU: MH/PE * MW/SIMD * pixels; VVAU: C/PE * K*K/SIMD * pixels (get_exp_cycles).
    n.cycles = ceil_div(b.simd_max, q) * ceil_div(b.pe_max, p) * pixels;
    cost_.macs_per_cycle = p * q;
    // LUTs: FINN's MVAU_hls / VVAU_hls lut_estimation (FINN-R):
    // c0 + c1 * PE * (multipliers + adder tree + accumulator + thresholds + comparators) + weights.
    const std::int64_t acc =
        finn_accumulator_bits(b.simd_max, static_cast<int>(w), static_cast<int>(a));
    double per_pe = static_cast<double>((w + a) * (2 * q - 1) + acc);
    // Thresholds inside: 2^B - 1 comparators of the accumulator's width per PE (FINN's
    // comp_luts, which FINN counts only with ram_style_thresholds = distributed; the
    // comparators are built whatever memory holds the thresholds, so hao always counts them).
    // B is taken as the layer's own activation width, so that a layer's cost depends on its
    // own bits only (the quantize and search programs price layers one by one): exact where a
    // network keeps one activation width from layer to layer.
    if (l_.has_fused_act && !c_.split_thresholds && a <= o_.max_fused_threshold_bits)
      per_pe += static_cast<double>(threshold_steps(static_cast<int>(a)) * acc);
    if (c_.mac == MacMapping::kLut)
      per_pe += static_cast<double>(q * (2 * ceil_div(w + a, 6) - 1) * (w + a));
    n.res.lut = o_.lut_engine_overhead + o_.lut_per_bit_product * static_cast<double>(p) * per_pe;
    if (c_.mac == MacMapping::kDsp && !vvau && w <= 4 && a <= 4 &&
        device_.dsp_kind == DspKind::kDsp48e2)
      // FINN's rtl MVAU on 4-bit operands (mvu_4sx4u_dsp48e2) packs four PE lanes into one
      // DSP48E2: MVAU_rtl.dsp_estimation's ceil(PE/4) * SIMD.
      n.res.dsp = static_cast<double>(ceil_div(p, 4) * q);
    else if (c_.mac == MacMapping::kDsp)
      n.res.dsp =
          std::ceil(static_cast<double>(p * q) *
                    dsp_per_product(device_.dsp_kind, static_cast<int>(w), static_cast<int>(a)));
    // Weights: one memory PE*SIMD*W bits wide and WMEM deep (FINN's layout and estimates).
    const std::int64_t wmem = weight_memory_depth(l_, c_);
    const std::int64_t width = p * q * w;
    if (c_.memory == WeightMemory::kBram)
      n.res.bram36 = finn_bram36(width, wmem);  // FINN-R's table, not the best aspect ratio
    else
      add_memory(n.res, 1, width, wmem, c_.memory);
    add(n);
  }

  // The thresholds of an activation fused into the conv, fc or add before it: inside the
  // MVAU/VVAU (memory only: C x steps words of the accumulator's width, placed by depth; FINN's
  // estimate counts them only with ram_style_thresholds = distributed, hao always), or a
  // Thresholding node of their own after an add, above max_fused_threshold_bits (FINN's rtl
  // thresholding) or where a folding file puts them. They cost the activation, not the layer
  // before it, so that a layer's cost depends on its own bits only: its bits are the output's.
  void fused_thresholds() {
    const std::int64_t steps = threshold_steps(l_.act_bits);
    const int acc = accumulator_bits();  // the threshold words' width
    if (c_.split_thresholds || l_.fused_after_add || l_.act_bits > o_.max_fused_threshold_bits) {
      add(thresholding_node(l_.out.c, l_.out.h * l_.out.w, steps, acc, c_.pe));
      return;
    }
    const std::int64_t depth = l_.out.c * steps;
    add_memory(cost_.res, 1, acc, depth, placed_by_depth(depth));
  }

  void streaming(std::int64_t aux_pe) {
    const std::int64_t pe = c_.pe;
    const std::int64_t in_pixels = l_.in.h * l_.in.w, out_pixels = l_.out.h * l_.out.w;
    switch (l_.op) {
      case ir::OpKind::kMaxPool:
      case ir::OpKind::kAvgPool: {
        if (streaming_max_pool(l_)) {
          // StreamingMaxPool.get_exp_cycles: 2-D, all channels in parallel, H*W * (1 + 1/K^2);
          // 1-D, PE channels per cycle, Wo * C/PE * (K + 1).
          NodeCost n;
          n.op = FinnOp::kStreamingMaxPool;
          n.pe = one_dimensional(l_) ? pe : l_.in.c;
          n.cycles = one_dimensional(l_)
                         ? l_.out.w * ceil_div(l_.in.c, pe) * (l_.kernel_w + 1)
                         : static_cast<std::int64_t>(std::ceil(
                               static_cast<double>(in_pixels) *
                               (1.0 + 1.0 / static_cast<double>(l_.kernel_h * l_.kernel_w))));
          n.res.lut = o_.lut_stream_overhead +
                      static_cast<double>(l_.in.c * l_.act_bits) * o_.lut_per_stream_lane_bit;
          add_line_buffer(n.res, l_, l_.in.c);
          add(n);
          return;
        }
        window(pe, true, false);
        NodeCost n = stream_node(FinnOp::kPool, pe, l_.out.c, out_pixels);
        n.cycles *= l_.kernel_h * l_.kernel_w;  // Pool: C*K*K/PE * output pixels
        add(n);
        return;
      }
      case ir::OpKind::kGlobalAvgPool: {
        NodeCost n = stream_node(FinnOp::kGlobalAccPool, pe, l_.in.c, in_pixels);
        n.cycles += ceil_div(l_.in.c, pe);  // GlobalAccPool: C/PE * H*W + C/PE
        add(n);
        return;
      }
      case ir::OpKind::kAdd: {
        add(stream_node(FinnOp::kAddStreams, pe, l_.out.c, out_pixels));
        // The sum is requantized for what reads it: a Thresholding node (the activation's,
        // where one follows).
        if (!l_.has_fused_act)
          add(thresholding_node(l_.out.c, out_pixels, threshold_steps(l_.act_bits), l_.act_bits + 1,
                                aux_pe));
        return;
      }
      case ir::OpKind::kMul:
        add(multiply_node(pe, l_.act_bits, l_.act_bits));
        if (l_.scaled_by_gate) {
          // Squeeze-excite (FINN has no node for it): the gate needs the whole map pooled, so
          // the map waits in a FIFO of all its elements, PE lanes wide, as FINN's FIFO sizing
          // would make it between the fork and the multiply; in the configuration's memory
          // (LUTRAM, BRAM or URAM, FINN's ram_style for FIFOs).
          add_memory(cost_.res, 1, pe * l_.act_bits, ceil_div(l_.in.elements(), pe), c_.memory);
        }
        return;
      case ir::OpKind::kConcat:
        add(stream_node(FinnOp::kConcat, pe, l_.out.c, out_pixels));
        return;
      case ir::OpKind::kUpsample: {
        // UpsampleNearestNeighbour (finn-hlslib upsample.hpp, FINN v0.10.1's get_exp_cycles):
        // one output pixel of all channels a cycle, OFMDim^2; it keeps one input row (IFMDim
        // words of C x bits) to repeat it. FINN builds it for square maps and scales only (or
        // 1-D along H); hao prices any integer scales per output pixel alike.
        NodeCost n = stream_node(FinnOp::kUpsample, l_.in.c, l_.in.c, out_pixels);
        const std::int64_t width = l_.in.c * l_.act_bits;
        add_memory(n.res, 1, width, l_.in.w, placed_by_depth(l_.in.w));
        add(n);
        return;
      }
      case ir::OpKind::kPixelPad: {
        // FMPadding_Pixel (FINN v0.10.1, get_exp_cycles): C/SIMD cycles for every pixel of the
        // padded map, data or zero; a transposed conv's pixel padding, before its window unit.
        NodeCost n = stream_node(FinnOp::kFmPaddingPixel, pe, l_.in.c, out_pixels);
        n.simd = pe;
        add(n);
        return;
      }
      case ir::OpKind::kAct:
        if (ir::is_gated(l_.act)) {
          gated_activation(pe, aux_pe);
          return;
        }
        // A monotonic activation left standalone: FINN's thresholds compare what it reads.
        add(thresholding_node(l_.out.c, out_pixels, threshold_steps(l_.act_bits), input_bits(),
                              pe));
        return;
      case ir::OpKind::kConv:
      case ir::OpKind::kFc:
        break;
    }
  }
};

}  // namespace

std::int64_t slowest_node(const LayerCost& cost, std::initializer_list<FinnOp> ops) {
  std::int64_t m = 0;
  for (const NodeCost& n : cost.nodes)
    if (std::find(ops.begin(), ops.end(), n.op) != ops.end()) m = std::max(m, n.cycles);
  return m;
}

LayerCost layer_cost(const ir::Layer& l, const LayerConfig& c, const Device& device,
                     const DataflowOptions& o) {
  return NodeBuilder(l, c, device, o).build();
}

namespace {

// The nodes around a layer's engine (window unit or DownSampler, FMPadding, the fork of its
// output and an add's requantizer) are tied to the engine's lanes by default. FINN folds each on
// its own (SetFolding gives each the least parallelism that meets the target), so the candidates
// also hold each engine folding with those nodes at the least lanes that keep up with the engine:
// as fast, and never more expensive than lanes to spare. The depthwise window unit before a
// VVAU or Pool stays at the engine's PE, as FINN requires.
class Balancer {
 public:
  Balancer(const ir::Layer& l, const Device& device, const DataflowOptions& o) {
    const bool window = engine_kind(l) == EngineKind::kMvau && needs_window(l);
    // The fork after the layer, an add's requantizer and a gated activation's fork of its input
    // take the auxiliary PE.
    const bool requantizer = l.op == ir::OpKind::kAdd && !l.has_fused_act;
    act_ = l.op == ir::OpKind::kAct;
    const bool fork = l.fanout >= 2 || requantizer || (act_ && ir::is_gated(l.act));
    if (!window && !fork && !(engine_kind(l) == EngineKind::kVvau && padded(l))) return;
    auto node_cycles = [&](const LayerConfig& c, std::initializer_list<FinnOp> ops) {
      return slowest_node(layer_cost(l, c, device, o), ops);
    };
    for (std::int64_t d : divisors(l.in.c)) {
      LayerConfig probe;
      probe.swu_simd = probe.pad_simd = d;
      if (window)
        swu_.push_back({d, false, node_cycles(probe, {FinnOp::kSwu, FinnOp::kDownSampler})});
      if (padded(l)) pad_.push_back({d, false, node_cycles(probe, {FinnOp::kFmPadding})});
    }
    if (fork)
      for (std::int64_t d : divisors(l.out.c)) {
        LayerConfig probe;
        probe.aux_pe = d;
        std::int64_t cycles = node_cycles(probe, {FinnOp::kDuplicateStreams});
        if (requantizer) cycles = std::max(cycles, node_cycles(probe, {FinnOp::kThresholding}));
        fork_.push_back({d, false, cycles});
      }
    if (window && !(l.kernel_h == 1 && l.kernel_w == 1)) {
      LayerConfig probe;
      probe.swu_simd = l.in.c;
      probe.swu_parallel = true;
      swu_.push_back({l.in.c, true, node_cycles(probe, {FinnOp::kSwu})});
    }
  }

  LayerConfig operator()(const LayerConfig& tied, const LayerCost& cost) const {
    LayerConfig c = tied;
    std::int64_t engine =
        slowest_node(cost, {FinnOp::kMvau, FinnOp::kVvau, FinnOp::kAddStreams, FinnOp::kEltwise,
                            FinnOp::kConcat, FinnOp::kPool, FinnOp::kGlobalAccPool,
                            FinnOp::kStreamingMaxPool, FinnOp::kUpsample, FinnOp::kFmPaddingPixel});
    if (act_) engine = std::max(engine, slowest_node(cost, {FinnOp::kThresholding}));
    if (const Option* o = least(swu_, engine)) c.swu_simd = o->lanes, c.swu_parallel = o->parallel;
    if (const Option* o = least(pad_, engine)) c.pad_simd = o->lanes;
    if (const Option* o = least(fork_, engine)) c.aux_pe = o->lanes;
    return c;
  }

 private:
  struct Option {
    std::int64_t lanes;
    bool parallel;
    std::int64_t cycles;
  };
  std::vector<Option> swu_, pad_, fork_;  // fewest lanes first
  bool act_ = false;                      // the layer's own Thresholding is its engine

  // The first (fewest lanes) option within `cycles`, else the fastest.
  static const Option* least(const std::vector<Option>& options, std::int64_t cycles) {
    if (options.empty()) return nullptr;
    for (const Option& o : options)
      if (o.cycles <= cycles) return &o;
    return &*std::min_element(options.begin(), options.end(),
                              [](const Option& a, const Option& b) { return a.cycles < b.cycles; });
  }
};

}  // namespace

bool threshold_placement_choice(const ir::Layer& l, const DataflowOptions& o) {
  if (l.act_bits > o.max_fused_threshold_bits) return false;
  if (engine_kind(l) != EngineKind::kStream) return l.has_fused_act;
  return l.op == ir::OpKind::kAct && l.fused_into >= 0 && !l.fused_after_add;
}

namespace {

// The candidates no other dominates, sorted by cycles (fastest first).
std::vector<Candidate> non_dominated(std::vector<Candidate> all) {
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

}  // namespace

std::vector<Candidate> layer_candidates(const ir::Layer& layer, const Device& device,
                                        const DataflowOptions& options) {
  const FoldBounds b = fold_bounds(layer);
  const EngineKind kind = engine_kind(layer);
  std::vector<MacMapping> macs = {MacMapping::kLut};
  std::vector<WeightMemory> memories = {WeightMemory::kBram};
  if (kind != EngineKind::kStream) macs.push_back(MacMapping::kDsp);
  // Where the weights are kept, or where squeeze-excite's map waits for its gate.
  if (kind != EngineKind::kStream || layer.scaled_by_gate) {
    memories.push_back(WeightMemory::kLutram);
    if (options.allow_uram && device.uram > 0) memories.push_back(WeightMemory::kUram);
  }
  // A sliding-window unit keeps its line buffer in LUTRAM (FINN's default), BRAM or URAM.
  std::vector<WeightMemory> line_buffers = {WeightMemory::kLutram};
  const bool window = (kind != EngineKind::kStream && needs_window(layer) &&
                       !(layer.kernel_h == 1 && layer.kernel_w == 1)) ||
                      ((layer.op == ir::OpKind::kMaxPool || layer.op == ir::OpKind::kAvgPool) &&
                       !streaming_max_pool(layer));
  if (window) {
    line_buffers.push_back(WeightMemory::kBram);
    if (options.allow_uram && device.uram > 0) line_buffers.push_back(WeightMemory::kUram);
  }
  const Balancer balance(layer, device, options);
  std::vector<Candidate> all;
  for (std::int64_t simd : divisors(b.simd_max))
    for (std::int64_t pe : divisors(b.pe_max))
      for (MacMapping mac : macs)
        for (WeightMemory mem : memories)
          for (WeightMemory line_buffer : line_buffers) {
            LayerConfig c{simd, pe, mac, mem};
            c.swu_memory = line_buffer;
            all.push_back({c, layer_cost(layer, c, device, options)});
            LayerConfig lean = balance(c, all.back().cost);
            if (!(lean == c)) all.push_back({lean, layer_cost(layer, lean, device, options)});
          }
  if (!options.split_threshold_choice || !threshold_placement_choice(layer, options))
    return non_dominated(std::move(all));
  // Each placement of the thresholds is a family of its own: the program chooses between them
  // together with the other layer of the pair, so neither may crowd out the other.
  std::vector<Candidate> split;
  for (const Candidate& c : all) {
    LayerConfig s = c.config;
    s.split_thresholds = true;
    split.push_back({s, layer_cost(layer, s, device, options)});
  }
  std::vector<Candidate> kept = non_dominated(std::move(all));
  for (Candidate& c : non_dominated(std::move(split))) kept.push_back(std::move(c));
  std::stable_sort(kept.begin(), kept.end(), [](const Candidate& x, const Candidate& y) {
    return x.cost.cycles < y.cost.cycles;
  });
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
                               const Device& device, const DataflowOptions& options,
                               const std::vector<NamedNode>& extras) {
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
  for (std::size_t k = 0; k < extras.size(); ++k) {
    e.total += extras[k].cost.res;
    if (extras[k].cost.cycles > e.ii_cycles) {
      e.ii_cycles = extras[k].cost.cycles;
      e.bottleneck = -1;
      e.extra_bottleneck = static_cast<int>(k);
    }
  }
  e.extras = extras;
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
