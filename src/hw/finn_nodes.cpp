#include "hw/finn_nodes.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "hw/memory.hpp"

namespace hao::hw {
namespace {

struct OpName {
  FinnOp op;
  const char* base;
};
// The first name of each op is the one FINN v0.10 writes; the others older releases wrote.
const OpName kOpNames[] = {
    {FinnOp::kThresholding, "Thresholding"},
    {FinnOp::kFmPadding, "FMPadding"},
    {FinnOp::kSwu, "ConvolutionInputGenerator"},
    {FinnOp::kDownSampler, "DownSampler"},
    {FinnOp::kMvau, "MVAU"},
    {FinnOp::kMvau, "MatrixVectorActivation"},
    {FinnOp::kMvau, "StreamingFCLayer"},
    {FinnOp::kVvau, "VVAU"},
    {FinnOp::kVvau, "VectorVectorActivation"},
    {FinnOp::kStreamingMaxPool, "StreamingMaxPool"},
    {FinnOp::kPool, "Pool"},
    {FinnOp::kGlobalAccPool, "GlobalAccPool"},
    {FinnOp::kAddStreams, "AddStreams"},
    {FinnOp::kDuplicateStreams, "DuplicateStreams"},
    {FinnOp::kEltwise, "ElementwiseMul"},
    {FinnOp::kEltwise, "StreamingEltwise"},
    {FinnOp::kConcat, "StreamingConcat"},
    {FinnOp::kChannelwiseOp, "ChannelwiseOp"},
    {FinnOp::kLabelSelect, "LabelSelect"},
    {FinnOp::kUpsample, "UpsampleNearestNeighbour"},
    {FinnOp::kFmPaddingPixel, "FMPadding_Pixel"},
    {FinnOp::kFifo, "StreamingFIFO"},
    {FinnOp::kDataWidthConverter, "StreamingDataWidthConverter"},
};

}  // namespace

const char* finn_op_base(FinnOp op) {
  for (const auto& n : kOpNames)
    if (n.op == op) return n.base;
  return "?";
}

bool finn_op_of(const std::string& base, FinnOp& op) {
  for (const auto& n : kOpNames)
    if (base == n.base) {
      op = n.op;
      return true;
    }
  return false;
}

bool folds_with_pe(FinnOp op) {
  switch (op) {
    case FinnOp::kFmPadding:
    case FinnOp::kSwu:
    case FinnOp::kDownSampler:
    case FinnOp::kConcat:
    case FinnOp::kUpsample:
    case FinnOp::kFmPaddingPixel:
      return false;
    default:
      return true;
  }
}

Window window_of(const ir::Layer& l) {
  return {l.kernel_h, l.kernel_w, l.stride_h, l.stride_w, l.dilation_h, l.dilation_w};
}

// ConvolutionInputGenerator_rtl.get_buffer_depth and get_exp_cycles, FINN v0.10.1: a dilated
// window holds (K_h - 1) D_h rows and (K_w - 1) D_w + 1 pixels.
std::int64_t swu_buffer_depth(std::int64_t in_w, std::int64_t channels, const Window& w,
                              std::int64_t simd) {
  const std::int64_t cf = ceil_div(channels, simd);
  const std::int64_t window = w.kernel_h * w.kernel_w;
  return ((w.kernel_h - 1) * w.dilation_h * in_w + (w.kernel_w - 1) * w.dilation_w + 1) * cf +
         std::max<std::int64_t>(0, ((w.stride_w - 1) - window) * cf) +
         std::max<std::int64_t>(0, ((w.stride_h - 1) * in_w - window) * cf);
}

std::int64_t swu_cycles(std::int64_t in_h, std::int64_t in_w, std::int64_t channels,
                        std::int64_t out_h, std::int64_t out_w, const Window& win,
                        std::int64_t simd, bool depthwise) {
  const std::int64_t kernel_h = win.kernel_h, kernel_w = win.kernel_w;
  const std::int64_t stride_h = win.stride_h, stride_w = win.stride_w;
  const std::int64_t cf = ceil_div(channels, simd);
  if (kernel_h == 1 && kernel_w == 1) return in_h * in_w * cf + 2;  // "parallel" style
  if (in_h == 1 || in_w == 1) {                                     // 1-D
    const bool along_w = in_h == 1;
    const std::int64_t k = along_w ? kernel_w : kernel_h;
    const std::int64_t s = along_w ? stride_w : stride_h;
    const std::int64_t out = along_w ? out_w : out_h;
    if (depthwise) return out * k * cf + cf * (k - 1) * (s - 1) - (k - 1) + 2;
    return out * k * cf + 2;
  }
  const std::int64_t buffer_min =
      ((kernel_h - 1) * win.dilation_h * in_w + (kernel_w - 1) * win.dilation_w + 1) * cf;
  const std::int64_t write_block = out_w * kernel_w * kernel_h * cf;
  const std::int64_t read_block = stride_w * in_w * cf;
  std::int64_t block = std::max(write_block, read_block);
  if (depthwise) block += out_w * (stride_w - 1) * (cf - 1);
  std::int64_t cycles = buffer_min + out_h * block;
  if (depthwise) cycles += (stride_h - 1) * in_w * cf;
  return cycles;
}

std::int64_t threshold_steps(int bits) { return (std::int64_t{1} << std::min(bits, 16)) - 1; }

// MatrixVectorActivation.bram_estimation (FINN-R's table, RAMB18 units).
Resources swu_line_buffer(std::int64_t width_bits, std::int64_t depth,
                          const std::string& ram_style) {
  Resources r;
  if (width_bits <= 0 || depth <= 0) return r;
  if (ram_style == "distributed") {
    r.lut = static_cast<double>(width_bits * ceil_div(depth, 38));
  } else if (ram_style == "ultra") {
    r.uram = static_cast<double>(ceil_div(depth, 4096) * ceil_div(width_bits, 72));
  } else if (depth > 1) {  // block or auto: RAMB18 columns as wide as the depth allows
    auto ram_width = [](std::int64_t d) -> std::int64_t {
      return d <= 512 ? 36 : d <= 1024 ? 18 : d <= 2048 ? 9 : d <= 4096 ? 4 : d <= 8192 ? 2 : 1;
    };
    const std::int64_t cascade_width = ceil_div(width_bits, ram_width(depth));
    std::int64_t ramb18 = ceil_div(depth, 16384) * cascade_width;
    if (depth > 16384)  // the last, partial 16K step is as wide as its own depth allows
      ramb18 -= cascade_width - ceil_div(width_bits, ram_width(depth % 16384));
    r.bram36 = static_cast<double>(ramb18) / 2.0;
  }
  return r;
}

double finn_bram36(std::int64_t width_bits, std::int64_t depth) {
  if (width_bits <= 0 || depth <= 0) return 0;
  const std::int64_t w = width_bits, d = depth;
  std::int64_t ramb18;
  if (w == 1)
    ramb18 = ceil_div(d, 16384);
  else if (w == 2)
    ramb18 = ceil_div(d, 8192);
  else if (w <= 4)
    ramb18 = ceil_div(d, 4096) * ceil_div(w, 4);
  else if (w <= 9)
    ramb18 = ceil_div(d, 2048) * ceil_div(w, 9);
  else if (w <= 18 || d > 512)
    ramb18 = ceil_div(d, 1024) * ceil_div(w, 18);
  else
    ramb18 = ceil_div(d, 512) * ceil_div(w, 36);
  return static_cast<double>(ramb18) / 2.0;
}

std::int64_t finn_accumulator_bits(std::int64_t length, int weight_bits, int act_bits) {
  const double alpha = std::log2(static_cast<double>(std::max<std::int64_t>(1, length))) +
                       weight_bits + act_bits - 1;
  return static_cast<std::int64_t>(std::ceil(alpha + std::log2(1 + std::pow(2.0, -alpha)) + 1));
}

// Thresholding (FINN's Thresholding_rtl, v0.10.1): a binary search over the thresholds, one
// stage per output bit. Memory by get_memory_estimate: per PE and per stage b, a memory
// in_bits wide and C/PE * 2^b deep, on the primitive that wastes the fewest bits (memutil:
// RAMB18 as 36x512, 18x1024 or 9x2048, or LUTRAM as 64x1; on a tie, in that order). FINN's
// table also holds URAM shapes, but it is Versal's and hao's devices without URAM would then
// not fit; FINN's report also drops the RAMB18s it chose (it sums them under "BRAM18" and
// reads "BRAM"), hao counts them. One comparator per stage: hao's estimate (FINN's rtl
// estimate counts only memory).
NodeCost thresholding_node(std::int64_t channels, std::int64_t pixels, std::int64_t steps,
                           int in_bits, std::int64_t pe) {
  NodeCost n;
  n.op = FinnOp::kThresholding;
  n.pe = pe;
  const std::int64_t tmem = ceil_div(channels, pe);
  n.cycles = tmem * pixels;
  const std::int64_t s = std::max<std::int64_t>(1, steps);
  const auto stages = static_cast<std::int64_t>(std::ceil(std::log2(static_cast<double>(s + 1))));
  n.res.lut = static_cast<double>(in_bits * pe * stages);
  struct Primitive {
    std::int64_t width, depth;
    bool lutram;
  };
  static const Primitive kPrimitives[] = {
      {36, 512, false}, {18, 1024, false}, {9, 2048, false}, {1, 64, true}};
  const std::int64_t width = std::max(1, in_bits);
  for (std::int64_t b = 0; b < stages; ++b) {
    const std::int64_t depth = tmem << b;
    const Primitive* best = nullptr;
    std::int64_t best_count = 0, best_waste = 0;
    for (const Primitive& p : kPrimitives) {
      const std::int64_t count = ceil_div(width, p.width) * ceil_div(depth, p.depth);
      const std::int64_t waste = count * p.width * p.depth - width * depth;
      if (!best || waste < best_waste) best = &p, best_count = count, best_waste = waste;
    }
    if (best->lutram)
      n.res.lut += static_cast<double>(pe * best_count);
    else
      n.res.bram36 += static_cast<double>(pe * best_count) / 2.0;
  }
  return n;
}

NodeCost label_select_node(std::int64_t labels, std::int64_t pe) {
  NodeCost n;
  n.op = FinnOp::kLabelSelect;
  n.pe = pe;
  n.cycles = labels / std::max<std::int64_t>(1, pe);  // LabelSelect.get_exp_cycles
  return n;
}

// StreamingFIFO_rtl's estimations (FINN v0.10.1): an rtl FIFO (shift registers) in LUTs
// whatever its ram_style; a vivado FIFO (depth rounded up to a power of 2, as FINN builds it)
// in LUTs when distributed, BRAM by FINN-R's table when block, URAM when ultra; plus
// 2 log2(depth) address LUTs. For a vivado FIFO at ram_style auto FINN counts no memory (Vivado
// places it); hao places it as Vivado would: LUTRAM up to 64 words, else BRAM.
NodeCost fifo_node(std::int64_t width_bits, std::int64_t depth, const std::string& ram_style,
                   const std::string& impl_style) {
  NodeCost n;
  n.op = FinnOp::kFifo;
  if (depth <= 0) return n;
  const bool vivado = impl_style == "vivado";
  if (vivado) {
    std::int64_t pow2 = 1;
    while (pow2 < depth) pow2 *= 2;
    depth = pow2;
  }
  n.res.lut = 2.0 * std::ceil(std::log2(static_cast<double>(std::max<std::int64_t>(2, depth))));
  std::string style = vivado ? ram_style : "distributed";
  if (style == "auto") style = depth <= kLutramMaxDepth ? "distributed" : "block";
  if (style == "block")
    n.res.bram36 = finn_bram36(width_bits, depth);
  else if (style == "ultra")
    n.res.uram = static_cast<double>(uram_blocks(width_bits, depth));
  else
    n.res.lut += static_cast<double>(ceil_div(depth, 32) * ceil_div(width_bits, 2));
  return n;
}

}  // namespace hao::hw
