#include "ir/network.hpp"

#include <algorithm>
#include <set>

#include "core/error.hpp"
#include "core/text.hpp"

namespace hao::ir {

int Network::find(const std::string& layer_name) const {
  for (std::size_t i = 0; i < layers.size(); ++i)
    if (layers[i].name == layer_name) return static_cast<int>(i);
  return -1;
}

const Shape& Network::producer_shape(int index) const {
  return index == kNetworkInput ? input : layers[static_cast<std::size_t>(index)].out;
}

std::vector<int> Network::consumers(int index) const {
  std::vector<int> out;
  for (std::size_t i = 0; i < layers.size(); ++i)
    for (int p : layers[i].inputs)
      if (p == index) {
        out.push_back(static_cast<int>(i));
        break;
      }
  return out;
}

std::int64_t Network::total_macs() const {
  std::int64_t s = 0;
  for (const auto& l : layers) s += l.macs();
  return s;
}
std::int64_t Network::total_params_deployed() const {
  std::int64_t s = 0;
  for (const auto& l : layers) s += l.params_deployed();
  return s;
}
std::int64_t Network::total_params_trained() const {
  std::int64_t s = 0;
  for (const auto& l : layers) s += l.params_trained();
  return s;
}
std::int64_t Network::total_weight_bits() const {
  std::int64_t s = 0;
  for (const auto& l : layers) s += l.weights() * l.weight_bits;
  return s;
}

namespace {

std::string layer_path(std::size_t i, const Layer& l) {
  return "layers[" + std::to_string(i) + "] '" + l.name + "'";
}

// Output extent of a sliding window spanning `k` (ONNX Conv/Pool semantics; a dilated window's
// span is (kernel - 1) dilation + 1).
std::int64_t window_out(std::int64_t in, std::int64_t pad_begin, std::int64_t pad_end,
                        std::int64_t k, std::int64_t s, bool ceil_mode) {
  std::int64_t span = in + pad_begin + pad_end - k;
  if (span < 0) return 0;
  std::int64_t out = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
  // PyTorch ceil_mode: the last window must start inside the input or the leading padding.
  if (ceil_mode && (out - 1) * s >= in + pad_begin) --out;
  return out;
}

// Bounds that keep every count hao derives (elements, MACs, weight bits, buffer bits) far
// inside 64-bit integers; real networks are orders of magnitude below them.
constexpr std::int64_t kMaxDimension = std::int64_t{1} << 20;
constexpr double kMaxElements = 1e12;
constexpr double kMaxMacs = 1e15;

bool within_limits(const Shape& s) {
  return s.c <= kMaxDimension && s.h <= kMaxDimension && s.w <= kMaxDimension &&
         static_cast<double>(s.c) * static_cast<double>(s.h) * static_cast<double>(s.w) <=
             kMaxElements;
}

std::string limits_text() {
  return "the modelled limits (each dimension <= 1048576, at most 1e12 elements)";
}

}  // namespace

void infer_shapes(Network& net, const std::string& where) {
  core::IssueList issues(where);
  if (net.input.c < 1 || net.input.h < 1 || net.input.w < 1)
    issues.add("input", "shape " + to_string(net.input) + ", expected every dimension >= 1");
  else if (!within_limits(net.input))
    issues.add("input", "shape " + to_string(net.input) + " exceeds " + limits_text());
  if (net.input_bits < 1 || net.input_bits > 16)
    issues.add("input", "bits = " + std::to_string(net.input_bits) + ", expected 1..16");
  if (net.layers.empty()) issues.add("layers", "no layers");
  issues.throw_if_any();  // nothing below makes sense without a valid input

  std::set<std::string> names;
  for (std::size_t i = 0; i < net.layers.size(); ++i) {
    Layer& l = net.layers[i];
    const std::string path = layer_path(i, l);
    bool ok = true;
    auto bad = [&](const std::string& what) {
      issues.add(path, what);
      ok = false;
    };
    // An upsample's scales, a pixel padding's strides or a conv's dilations: integers 1..2^20.
    auto factors_ok = [&](const char* what, std::int64_t h, std::int64_t w) {
      if (h >= 1 && w >= 1 && h <= kMaxDimension && w <= kMaxDimension) return true;
      bad(std::string(what) + " = " + std::to_string(h) + "x" + std::to_string(w) +
          ", expected integers 1..1048576");
      return false;
    };
    if (l.name.empty()) bad("empty name");
    if (!names.insert(l.name).second) bad("duplicate name");
    if (l.weight_bits < 1 || l.weight_bits > 16)
      bad("weight_bits = " + std::to_string(l.weight_bits) + ", expected 1..16");
    if (l.act_bits < 1 || l.act_bits > 16)
      bad("act_bits = " + std::to_string(l.act_bits) + ", expected 1..16");

    const bool multi = l.op == OpKind::kAdd || l.op == OpKind::kMul || l.op == OpKind::kConcat;
    if (multi && l.inputs.size() < 2)
      bad(op_name(l.op) + " needs at least 2 inputs, has " + std::to_string(l.inputs.size()));
    if (!multi && l.inputs.size() != 1)
      bad(op_name(l.op) + " needs exactly 1 input, has " + std::to_string(l.inputs.size()));
    for (int p : l.inputs)
      if (p < kNetworkInput || p >= static_cast<int>(i))
        bad("input index " + std::to_string(p) + " is not an earlier layer");
    if (!ok) continue;

    l.in = net.producer_shape(l.inputs[0]);
    if (l.in.elements() <= 0) continue;  // a broken producer was reported already
    const bool windowed =
        l.op == OpKind::kConv || l.op == OpKind::kMaxPool || l.op == OpKind::kAvgPool;
    if (l.dilation_h != 1 || l.dilation_w != 1) {
      if (l.op != OpKind::kConv)
        bad("dilation = " + std::to_string(l.dilation_h) + "x" + std::to_string(l.dilation_w) +
            ": only a conv has one");
      else if (!factors_ok("dilation", l.dilation_h, l.dilation_w))
        continue;
      if (!ok) continue;
    }
    if (windowed) {
      if (l.kernel_h < 1 || l.kernel_w < 1)
        bad("kernel = " + std::to_string(l.kernel_h) + "x" + std::to_string(l.kernel_w) +
            ", expected >= 1");
      if (l.stride_h < 1 || l.stride_w < 1)
        bad("stride = " + std::to_string(l.stride_h) + "x" + std::to_string(l.stride_w) +
            ", expected >= 1");
      if (l.pad_top < 0 || l.pad_left < 0 || l.pad_bottom < 0 || l.pad_right < 0)
        bad("padding is negative, expected >= 0");
      for (std::int64_t v : {l.kernel_h, l.kernel_w, l.stride_h, l.stride_w, l.pad_top, l.pad_left,
                             l.pad_bottom, l.pad_right})
        if (v > kMaxDimension) {
          bad("kernel, stride or padding " + std::to_string(v) + " exceeds 1048576");
          break;
        }
      if (!ok) continue;
    }

    switch (l.op) {
      case OpKind::kConv: {
        if (l.out_channels > kMaxDimension || l.groups > kMaxDimension) {
          bad("out_channels or groups exceeds 1048576");
          break;
        }
        if (l.depthwise) {
          l.groups = l.in.c;
          if (l.out_channels == 0) l.out_channels = l.in.c;
        }
        if (l.groups < 1) bad("groups = " + std::to_string(l.groups) + ", expected >= 1");
        if (l.out_channels < 1)
          bad("out_channels = " + std::to_string(l.out_channels) + ", expected >= 1");
        if (!ok) break;
        if (l.in.c % l.groups != 0)
          bad("input channels " + std::to_string(l.in.c) + " not divisible by groups " +
              std::to_string(l.groups));
        if (l.out_channels % l.groups != 0)
          bad("out_channels " + std::to_string(l.out_channels) + " not divisible by groups " +
              std::to_string(l.groups));
        l.out = {l.out_channels,
                 window_out(l.in.h, l.pad_top, l.pad_bottom, l.span_h(), l.stride_h, false),
                 window_out(l.in.w, l.pad_left, l.pad_right, l.span_w(), l.stride_w, false)};
        break;
      }
      case OpKind::kFc:
        if (l.out_channels > kMaxDimension) bad("out_channels exceeds 1048576");
        if (l.out_channels < 1)
          bad("out_channels = " + std::to_string(l.out_channels) + ", expected >= 1");
        l.out = {l.out_channels, 1, 1};
        break;
      case OpKind::kMaxPool:
      case OpKind::kAvgPool:
        l.out = {l.in.c,
                 window_out(l.in.h, l.pad_top, l.pad_bottom, l.kernel_h, l.stride_h, l.ceil_mode),
                 window_out(l.in.w, l.pad_left, l.pad_right, l.kernel_w, l.stride_w, l.ceil_mode)};
        break;
      case OpKind::kGlobalAvgPool:
        l.out = {l.in.c, 1, 1};
        break;
      case OpKind::kAct:
        l.out = l.in;
        break;
      case OpKind::kUpsample:
        if (factors_ok("scale", l.scale_h, l.scale_w))
          l.out = {l.in.c, l.in.h * l.scale_h, l.in.w * l.scale_w};
        break;
      case OpKind::kPixelPad:
        if (factors_ok("stride", l.stride_h, l.stride_w))
          l.out = {l.in.c, (l.in.h - 1) * l.stride_h + 1, (l.in.w - 1) * l.stride_w + 1};
        break;
      case OpKind::kAdd:
      case OpKind::kMul: {
        l.out = l.in;
        l.scaled_by_gate = false;
        for (std::size_t k = 1; k < l.inputs.size(); ++k) {
          Shape s = net.producer_shape(l.inputs[k]);
          bool broadcast = l.op == OpKind::kMul && s.c == l.out.c &&
                           ((s.h == 1 && s.w == 1) || (l.out.h == 1 && l.out.w == 1));
          if (l.op == OpKind::kMul && broadcast && s.h * s.w == 1 && l.in.h * l.in.w > 1)
            l.scaled_by_gate = true;
          if (!(s == l.out) && !broadcast)
            bad("input " + std::to_string(k) + " has shape " + to_string(s) + ", expected " +
                to_string(l.out));
          if (broadcast && s.h > l.out.h) l.out = s;
        }
        break;
      }
      case OpKind::kConcat: {
        l.out = l.in;
        for (std::size_t k = 1; k < l.inputs.size(); ++k) {
          Shape s = net.producer_shape(l.inputs[k]);
          if (s.h != l.out.h || s.w != l.out.w)
            bad("input " + std::to_string(k) + " is " + to_string(s) +
                ", expected the same height and width as " + to_string(l.out));
          l.out.c += s.c;
        }
        break;
      }
    }
    if (ok && (l.out.h < 1 || l.out.w < 1))
      bad("output would be " + to_string(l.out) + " from input " + to_string(l.in) +
          ": the kernel is larger than the padded input");
    if (ok && !within_limits(l.out))
      bad("output " + to_string(l.out) + " exceeds " + limits_text());
    if (ok && l.has_weights()) {
      const double reduction =
          l.op == OpKind::kFc
              ? static_cast<double>(l.in.elements())
              : static_cast<double>(l.kernel_h) * static_cast<double>(l.kernel_w) *
                    static_cast<double>(l.in.c / std::max<std::int64_t>(1, l.groups));
      const double outputs = l.op == OpKind::kFc ? static_cast<double>(l.out.c)
                                                 : static_cast<double>(l.out.elements());
      if (reduction * outputs > kMaxMacs || reduction * static_cast<double>(l.out.c) > kMaxMacs)
        bad("about " + core::fixed(reduction * outputs, 0) +
            " MACs exceeds the modelled limit of 1e15");
    }
    if (l.op != OpKind::kConv && l.op != OpKind::kFc) l.out_channels = l.out.c;
  }
  issues.throw_if_any();
  mark_fused_activations(net);
}

void note_finn_limits(Network& net) {
  for (const Layer& l : net.layers) {
    // FINN lowers a ConvTranspose (InferPixelPaddingDeconv) padding every side of the conv by
    // kernel_h - 1 - pads[0], without output_padding.
    const Layer* pad = l.op == OpKind::kConv && l.inputs.front() != kNetworkInput
                           ? &net.layers[static_cast<std::size_t>(l.inputs.front())]
                           : nullptr;
    if (pad && pad->op == OpKind::kPixelPad &&
        !(l.kernel_h == l.kernel_w && l.pad_top == l.pad_left && l.pad_top == l.pad_bottom &&
          l.pad_top == l.pad_right))
      net.notes.push_back("transposed conv '" + l.name + "' (pixel_pad '" + pad->name + "' and a " +
                          std::to_string(l.kernel_h) + "x" + std::to_string(l.kernel_w) +
                          " conv padded " + std::to_string(l.pad_top) + ", " +
                          std::to_string(l.pad_left) + ", " + std::to_string(l.pad_bottom) + ", " +
                          std::to_string(l.pad_right) +
                          "): FINN v0.10's "
                          "ConvTranspose lowering takes square kernels, equal pads and no "
                          "output_padding; hao prices it as if FINN built it");
    if (l.op != OpKind::kUpsample) continue;
    const bool square = l.in.h == l.in.w && l.scale_h == l.scale_w;
    const bool along_h = l.in.w == 1 && l.scale_w == 1;
    if (!square && !along_h)
      net.notes.push_back("upsample '" + l.name + "' (" + to_string(l.in) + " by " +
                          std::to_string(l.scale_h) + "x" + std::to_string(l.scale_w) +
                          "): FINN v0.10's UpsampleNearestNeighbour takes square maps scaled "
                          "alike (or 1-D maps along H); hao prices it per output pixel as if "
                          "FINN built it");
  }
}

// FINN's streamlining turns a quantized monotonic activation (ReLU, ReLU6, clip, sigmoid, hard
// sigmoid) into per-channel thresholds and absorbs them into the conv, fc or add before it
// when nothing else reads that layer's output. It does not merge consecutive MultiThresholds:
// an activation after another one stays a Thresholding node of its own.
void mark_fused_activations(Network& net) {
  for (auto& l : net.layers) {
    l.fused_into = -1;
    l.fused_after_add = false;
    l.has_fused_act = false;
    l.reads_accumulator = false;
    l.fanout = 0;
  }
  for (const auto& l : net.layers)
    for (int p : l.inputs)
      if (p != kNetworkInput) ++net.layers[static_cast<std::size_t>(p)].fanout;
  for (auto& l : net.layers) {
    if (l.op != OpKind::kAct || l.inputs.size() != 1 || l.inputs[0] == kNetworkInput) continue;
    Layer& producer = net.layers[static_cast<std::size_t>(l.inputs[0])];
    const bool accumulates = producer.has_weights() || producer.op == OpKind::kAdd;
    if (!accumulates || producer.fanout != 1 || is_gated(l.act)) {
      // Left standalone. Nothing was fused into its producer: a fused activation is the
      // producer's only reader. A conv or fc then streams out its accumulator; an add
      // requantizes its sum itself (an AddStreams' own Thresholding).
      l.reads_accumulator = producer.has_weights();
      continue;
    }
    l.fused_into = l.inputs[0];
    producer.has_fused_act = true;
    l.fused_after_add = producer.op == OpKind::kAdd;
  }
}

}  // namespace hao::ir
