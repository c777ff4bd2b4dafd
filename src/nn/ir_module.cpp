#include "nn/ir_module.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "core/error.hpp"
#include "core/text.hpp"

namespace hao::nn {
namespace {

namespace F = torch::nn::functional;

bool symmetric(const ir::Layer& l) {
  return l.pad_top == l.pad_bottom && l.pad_left == l.pad_right;
}

// Pads asymmetric windows explicitly (torch's conv and pooling take one pad per side pair).
torch::Tensor pad_input(const ir::Layer& l, const torch::Tensor& x, double value) {
  if (symmetric(l)) return x;
  return F::pad(x,
                F::PadFuncOptions({l.pad_left, l.pad_right, l.pad_top, l.pad_bottom}).value(value));
}

}  // namespace

namespace {

// Clipping ratios tried below 7 bits: at 2-4 bits the largest weight or activation is a poor
// end of the range (at 2 bits it would round most values to zero).
constexpr int kClipSearchBelowBits = 7;
constexpr int kClipRatios = 20;

// Below 4 bits signed values take the whole two's-complement grid, -2^(bits-1) .. 2^(bits-1) - 1
// steps: at 2 bits a symmetric grid has three levels (ternary) where the width holds four. From
// 4 bits the grid stays symmetric (narrow range, as TFLite's weights): one level in 16 or more,
// and 4-bit QAT measured the same either way.
constexpr int kFullRangeBelowBits = 4;
double below_zero(int bits) {  // the grid's most negative step, as a positive count
  const double qmax = static_cast<double>((1 << (bits - 1)) - 1);
  return bits < kFullRangeBelowBits ? qmax + 1 : qmax;
}

}  // namespace

torch::Tensor weight_scale(const torch::Tensor& rows, int bits) {
  torch::NoGradGuard no_grad;
  const double qmax = static_cast<double>((1 << (bits - 1)) - 1);
  const torch::Tensor largest = rows.abs().amax(1).clamp_min(1e-12);
  if (bits >= kClipSearchBelowBits) return largest / qmax;
  // On a full-range grid, candidates put the largest magnitude at either end.
  const double lowest = below_zero(bits);
  std::vector<double> tops = {qmax};
  if (lowest > qmax) tops.push_back(lowest);
  torch::Tensor best_scale = largest / qmax;
  torch::Tensor best_error = torch::full_like(largest, std::numeric_limits<float>::infinity());
  for (const double top : tops)
    for (int k = 1; k <= kClipRatios; ++k) {
      const torch::Tensor scale = largest * (static_cast<double>(k) / kClipRatios) / top;
      const torch::Tensor s = scale.unsqueeze(1);
      const torch::Tensor error =
          ((rows / s).round().clamp(-lowest, qmax) * s - rows).pow(2).sum(1);
      const torch::Tensor better = error < best_error;
      best_error = torch::where(better, error, best_error);
      best_scale = torch::where(better, scale, best_scale);
    }
  return best_scale;
}

double activation_clip(const torch::Tensor& x, int bits, bool is_signed) {
  torch::NoGradGuard no_grad;
  // Every step-th element in row-major order, gathered where it lies (flattening a
  // channels-last activation would copy all of it first).
  constexpr std::int64_t kSample = 16384;
  const std::int64_t n = x.numel();
  const torch::Tensor v =
      n > kSample ? torch::take(x.detach(), torch::arange(0, n, (n + kSample - 1) / kSample,
                                                          x.options().dtype(torch::kLong)))
                  : x.detach().flatten();
  const double largest = (is_signed ? v.abs().max() : v.max()).item<double>();
  if (bits >= kClipSearchBelowBits || largest <= 0) return std::max(largest, 0.0);
  const double levels =
      is_signed ? static_cast<double>((1 << (bits - 1)) - 1) : static_cast<double>((1 << bits) - 1);
  const torch::Tensor clip =
      torch::arange(1, kClipRatios + 1, v.options()).unsqueeze(1) * (largest / kClipRatios);
  const torch::Tensor scale = clip / levels;
  // Signed: the grid's steps below zero beyond the symmetric ones (one below 4 bits) widen it.
  const torch::Tensor c = is_signed ? torch::max(torch::min(v.unsqueeze(0), clip),
                                                 -clip - (below_zero(bits) - levels) * scale)
                                    : torch::min(v.unsqueeze(0), clip).clamp_min(0);
  const torch::Tensor error = ((c / scale).round() * scale - v.unsqueeze(0)).pow(2).mean(1);
  return clip[error.argmin().item<std::int64_t>()][0].item<double>();
}

torch::Tensor fake_quant_weight(const torch::Tensor& w, int bits) {
  if (bits >= 16) return w;
  const double qmax = static_cast<double>((1 << (bits - 1)) - 1);
  std::vector<std::int64_t> shape(static_cast<std::size_t>(w.dim()), 1);
  shape[0] = -1;
  const torch::Tensor scale = weight_scale(w.detach().flatten(1), bits).view(shape);
  const torch::Tensor q = (w / scale).round().clamp(-below_zero(bits), qmax) * scale;
  return w + (q - w).detach();
}

namespace {

// An activation range's grid: unsigned from 0 when lo >= 0, else signed as the weights.
struct ActGrid {
  bool is_signed;
  double qmax, scale;
};
ActGrid act_grid(double lo, double hi, int bits) {
  const bool is_signed = lo < 0;
  const double qmax =
      is_signed ? static_cast<double>((1 << (bits - 1)) - 1) : static_cast<double>((1 << bits) - 1);
  return {is_signed, qmax, (is_signed ? std::max({-lo, hi, 1e-8}) : std::max(hi, 1e-8)) / qmax};
}

}  // namespace

ir::Quantizer act_quantizer(double lo, double hi, int bits) {
  if (bits >= 16) return {};
  const ActGrid g = act_grid(lo, hi, bits);
  return {
      bits, g.is_signed, g.is_signed && bits >= kFullRangeBelowBits, {static_cast<float>(g.scale)}};
}

ir::Quantizer weight_quantizer(const torch::Tensor& w, int bits) {
  if (bits >= 16) return {};
  const torch::Tensor scale = weight_scale(w.detach().flatten(1), bits).contiguous();
  const float* s = scale.data_ptr<float>();
  return {bits, true, bits >= kFullRangeBelowBits, std::vector<float>(s, s + scale.numel())};
}

torch::Tensor fake_quant_act(const torch::Tensor& x, double lo, double hi, int bits) {
  if (bits >= 16) return x;
  const ActGrid g = act_grid(lo, hi, bits);
  const bool is_signed = g.is_signed;
  const double qmax = g.qmax, scale = g.scale;
  torch::Tensor c = x.clamp(is_signed ? -below_zero(bits) * scale : 0.0, qmax * scale);
  // Without gradients, one new tensor instead of five: evaluation runs whole test sets
  // through it, and a large activation's every temporary is a fresh allocation.
  if (!torch::GradMode::is_enabled()) return c.div_(scale).round_().mul_(scale);
  return c + ((c / scale).round() * scale - c).detach();
}

namespace {

void check_bits(const ir::Layer& l, int bits, const char* what) {
  if (bits >= 16 || (bits >= 2 && bits <= 8)) return;
  throw core::InputError("layer '" + l.name + "': " + what + " bits " + std::to_string(bits) +
                         " cannot be trained: expected 2..8 (or 16 and more for float)");
}

}  // namespace

TrainingNorms parse_training_norms(const std::string& text, const std::string& where) {
  if (text == "auto") return TrainingNorms::kAuto;
  if (text == "always") return TrainingNorms::kAlways;
  if (text == "never") return TrainingNorms::kNever;
  throw core::InputError(where + ": '" + text + "', expected auto, always or never");
}

ir::Network with_training_norms(ir::Network net, TrainingNorms policy) {
  const bool any = std::any_of(net.layers.begin(), net.layers.end(),
                               [](const ir::Layer& l) { return l.folded_norm; });
  if (policy == TrainingNorms::kNever || (policy == TrainingNorms::kAuto && any)) return net;
  for (auto& l : net.layers)
    if (l.op == ir::OpKind::kConv) l.folded_norm = true;
  return net;
}

IrNetImpl::IrNetImpl(ir::Network net) : net_(std::move(net)) {
  const std::size_t n = net_.layers.size();
  last_use_.assign(n, 0);
  for (std::size_t i = 0; i < n; ++i)
    for (int p : net_.layers[i].inputs)
      if (p != ir::kNetworkInput) last_use_[static_cast<std::size_t>(p)] = i;
  conv_.resize(n, nullptr);
  norm_.resize(n, nullptr);
  fc_.resize(n, nullptr);
  for (std::size_t i = 0; i < n; ++i) {
    const ir::Layer& l = net_.layers[i];
    const std::string id = "l" + std::to_string(i);
    if (l.op == ir::OpKind::kConv) {
      auto o = torch::nn::Conv2dOptions(l.in.c, l.out.c, {l.kernel_h, l.kernel_w})
                   .stride({l.stride_h, l.stride_w})
                   .dilation({l.dilation_h, l.dilation_w})
                   .groups(l.groups)
                   .bias(l.has_bias);
      if (symmetric(l)) o.padding(torch::ExpandingArray<2>({l.pad_top, l.pad_left}));
      conv_[i] = register_module(id, torch::nn::Conv2d(o));
      if (l.folded_norm) norm_[i] = register_module(id + "_bn", torch::nn::BatchNorm2d(l.out.c));
    } else if (l.op == ir::OpKind::kFc) {
      fc_[i] =
          register_module(id, torch::nn::Linear(torch::nn::LinearOptions(l.in.elements(), l.out.c)
                                                    .bias(l.has_bias || l.folded_norm)));
    } else if (l.op == ir::OpKind::kAct && l.folded_norm) {
      norm_[i] = register_module(id + "_bn", torch::nn::BatchNorm2d(l.in.c));
    }
    range_.push_back(l.has_weights() ? register_buffer(id + "_range", torch::zeros({2}))
                                     : torch::Tensor());
  }
}

void IrNetImpl::check_trainable_bits() const {
  for (const auto& l : net_.layers)
    if (l.has_weights()) {
      check_bits(l, l.weight_bits, "weight");
      check_bits(l, l.act_bits, "activation");
    }
}

void IrNetImpl::train(bool on) {
  frozen_.clear();
  torch::nn::Module::train(on);
}

void IrNetImpl::set_mode(Mode mode) {
  frozen_.clear();
  if (mode == Mode::kQuantized) check_trainable_bits();
  if (mode == Mode::kCalibrate)
    for (auto& r : range_)
      if (r.defined()) reset_range(r);
  mode_ = mode;
}

void reset_range(torch::Tensor& range) {
  range.copy_(
      torch::tensor({std::numeric_limits<float>::max(), std::numeric_limits<float>::lowest()}));
}

namespace {

// `x` as its elements lie in memory (a channels-last N x C x H x W tensor as N x H x W x C), for
// reductions that ignore the order: LibTorch's CPU min over a channels-last activation took 10x
// as long as over the same elements in order (2.7 ms against 0.26 ms, a calibration's main cost).
torch::Tensor in_memory_order(const torch::Tensor& x) {
  return x.dim() == 4 && !x.is_contiguous() && x.is_contiguous(at::MemoryFormat::ChannelsLast)
             ? x.permute({0, 2, 3, 1})
             : x;
}

// The input of a conv or fc as kCalibrate records it and kQuantized reads it.
torch::Tensor quantize_input(const ir::Layer& l, const torch::Tensor& x, torch::Tensor r,
                             IrNetImpl::Mode mode, bool training) {
  if (mode == IrNetImpl::Mode::kCalibrate) {
    torch::NoGradGuard no_grad;
    const int bits = l.act_bits;
    const torch::Tensor m = in_memory_order(x);
    const bool is_signed = m.min().item<double>() < 0;
    const double clip =
        bits < 16 ? activation_clip(x, bits, is_signed) : m.abs().max().item<double>();
    r[0] = torch::minimum(r[0], torch::tensor(is_signed ? -clip : 0.0, r.options()));
    r[1] = torch::maximum(r[1], torch::tensor(clip, r.options()));
    return x;
  }
  if (mode != IrNetImpl::Mode::kQuantized) return x;
  const int bits = l.act_bits;
  if (training && bits < 16) {
    // Track the range that quantizes this batch best: its largest value at 7-8 bits, the
    // clip with the least squared error below (min stays 0 after a ReLU).
    torch::NoGradGuard no_grad;
    constexpr double kMomentum = 0.05;
    const bool is_signed = r[0].item<double>() < 0;
    const double clip = activation_clip(x, bits, is_signed);
    r[0] = r[0] * (1 - kMomentum) + (is_signed ? -clip : 0.0) * kMomentum;
    r[1] = r[1] * (1 - kMomentum) + clip * kMomentum;
  }
  const double lo = r[0].item<double>(), hi = r[1].item<double>();
  return fake_quant_act(x, lo, hi, bits);
}

std::atomic<bool> conv_channels_last{true};

// On the CPU, oneDNN's convolutions (depthwise ones most) run about 1.4x (the default network)
// to 2.5x (the space's largest) faster forward and backward on channels-last (NHWC) tensors
// than on NCHW ones (hao_supernet_bench's alone/alone_nchw). A channels-last input
// alone is not enough: a 1-channel image is both layouts, and LibTorch then keeps NCHW.
torch::Tensor channels_last(const torch::Tensor& t) {
  if (!conv_channels_last.load(std::memory_order_relaxed)) return t;
  return t.contiguous(torch::MemoryFormat::ChannelsLast);
}

}  // namespace

void set_conv_channels_last(bool on) { conv_channels_last.store(on); }

std::pair<torch::Tensor, torch::Tensor> folded_conv(const ir::Layer& l, const WeightedParams& p) {
  torch::Tensor w = p.weight;
  torch::Tensor b = p.bias.defined() ? p.bias : torch::zeros({l.out.c});
  if (p.bn_weight.defined()) {
    // Fold the batch norm: y = gamma (conv(x) + b - mean) / sqrt(var + eps) + beta.
    const torch::Tensor g = p.bn_weight / (p.bn_var + p.bn_eps).sqrt();
    w = w * g.view({-1, 1, 1, 1});
    b = (b - p.bn_mean) * g + p.bn_bias;
  }
  return {w, b};
}

std::pair<torch::Tensor, torch::Tensor> quantized_weights(const ir::Layer& l,
                                                          const WeightedParams& p) {
  if (l.op == ir::OpKind::kFc) return {fake_quant_weight(p.weight, l.weight_bits), p.bias};
  const auto [w, b] = folded_conv(l, p);
  return {channels_last(fake_quant_weight(w, l.weight_bits)), b};
}

torch::Tensor weighted_forward(const ir::Layer& l, const torch::Tensor& input,
                               const WeightedParams& p, IrNetImpl::Mode mode, bool training) {
  const bool quantized = mode == IrNetImpl::Mode::kQuantized;
  const bool frozen = quantized && !training && p.frozen_weight.defined();
  if (l.op == ir::OpKind::kFc) {
    // N x C x 1 x 1, as the IR shapes it, so that any layer can follow.
    const torch::Tensor x = quantize_input(l, input.flatten(1), p.range, mode, training);
    const torch::Tensor y =
        frozen ? F::linear(x, p.frozen_weight, p.frozen_bias)
               : F::linear(x, quantized ? fake_quant_weight(p.weight, l.weight_bits) : p.weight,
                           p.bias);
    return y.view({input.size(0), l.out.c, 1, 1});
  }
  const torch::Tensor x =
      channels_last(quantize_input(l, pad_input(l, input, 0.0), p.range, mode, training));
  auto options = F::Conv2dFuncOptions()
                     .stride({l.stride_h, l.stride_w})
                     .dilation({l.dilation_h, l.dilation_w})
                     .groups(l.groups);
  if (symmetric(l)) options.padding(torch::ExpandingArray<2>({l.pad_top, l.pad_left}));
  if (quantized && training && p.batch_statistics && p.bn_weight.defined()) {
    if (p.bias.defined()) options.bias(p.bias);
    return F::batch_norm(
        F::conv2d(x, channels_last(fake_quant_weight(p.weight, l.weight_bits)), options), p.bn_mean,
        p.bn_var,
        F::BatchNormFuncOptions()
            .weight(p.bn_weight)
            .bias(p.bn_bias)
            .training(true)
            .momentum(p.bn_momentum)
            .eps(p.bn_eps));
  }
  if (frozen) return F::conv2d(x, p.frozen_weight, options.bias(p.frozen_bias));
  if (quantized) {
    const auto [w, b] = quantized_weights(l, p);
    return F::conv2d(x, w, options.bias(b));
  }
  if (p.bias.defined()) options.bias(p.bias);
  const torch::Tensor y = F::conv2d(x, channels_last(p.weight), options);
  if (!p.bn_weight.defined()) return y;
  return F::batch_norm(y, p.bn_mean, p.bn_var,
                       F::BatchNormFuncOptions()
                           .weight(p.bn_weight)
                           .bias(p.bn_bias)
                           .training(training)
                           .momentum(p.bn_momentum)
                           .eps(p.bn_eps));
}

torch::Tensor elementwise_forward(const ir::Layer& l, const std::vector<torch::Tensor>& in) {
  switch (l.op) {
    case ir::OpKind::kMaxPool:
      return F::max_pool2d(
          pad_input(l, in[0], -std::numeric_limits<double>::infinity()),
          F::MaxPool2dFuncOptions({l.kernel_h, l.kernel_w})
              .stride({l.stride_h, l.stride_w})
              .padding(symmetric(l) ? torch::ExpandingArray<2>({l.pad_top, l.pad_left})
                                    : torch::ExpandingArray<2>({0, 0}))
              .ceil_mode(l.ceil_mode));
    case ir::OpKind::kAvgPool:
      return F::avg_pool2d(
          pad_input(l, in[0], 0.0),
          F::AvgPool2dFuncOptions({l.kernel_h, l.kernel_w})
              .stride({l.stride_h, l.stride_w})
              .padding(symmetric(l) ? torch::ExpandingArray<2>({l.pad_top, l.pad_left})
                                    : torch::ExpandingArray<2>({0, 0}))
              .ceil_mode(l.ceil_mode));
    case ir::OpKind::kGlobalAvgPool:
      return F::adaptive_avg_pool2d(in[0], F::AdaptiveAvgPool2dFuncOptions(1));
    case ir::OpKind::kAdd: {
      torch::Tensor y = in[0];
      for (std::size_t k = 1; k < in.size(); ++k) y = y + in[k];
      return y;
    }
    case ir::OpKind::kMul: {
      torch::Tensor y = in[0];
      for (std::size_t k = 1; k < in.size(); ++k) y = y * in[k];
      return y;
    }
    case ir::OpKind::kConcat:
      return torch::cat(in, 1);
    case ir::OpKind::kUpsample:  // nearest: output pixel y reads input pixel floor(y / scale)
      return F::interpolate(in[0], F::InterpolateFuncOptions()
                                       .size(std::vector<std::int64_t>{l.out.h, l.out.w})
                                       .mode(torch::kNearest));
    case ir::OpKind::kPixelPad: {  // zeros between pixels: input pixel (y, x) at (sy, sx)
      torch::Tensor y =
          torch::zeros({in[0].size(0), in[0].size(1), l.out.h, l.out.w}, in[0].options());
      using torch::indexing::Slice;
      y.index_put_({Slice(), Slice(), Slice(0, torch::indexing::None, l.stride_h),
                    Slice(0, torch::indexing::None, l.stride_w)},
                   in[0]);
      return y;
    }
    case ir::OpKind::kAct:
      switch (l.act) {
        case ir::ActKind::kRelu:
          return torch::relu(in[0]);
        case ir::ActKind::kRelu6:
        case ir::ActKind::kClip:
          return torch::clamp(in[0], 0.0, 6.0);
        case ir::ActKind::kSigmoid:
          return torch::sigmoid(in[0]);
        case ir::ActKind::kHardSigmoid:
          return torch::hardsigmoid(in[0]);
        case ir::ActKind::kHardSwish:
          return torch::hardswish(in[0]);
        case ir::ActKind::kSilu:
          return F::silu(in[0]);
        case ir::ActKind::kGelu:
          return torch::gelu(in[0]);
        case ir::ActKind::kLeakyRelu:
          return torch::leaky_relu(in[0], l.negative_slope);
        case ir::ActKind::kTanh:
          return torch::tanh(in[0]);
      }
      break;
    case ir::OpKind::kConv:
    case ir::OpKind::kFc:
      break;
  }
  throw core::InternalError("layer '" + l.name + "': no torch mapping");
}

torch::Tensor IrNetImpl::run_layer(std::size_t i, const std::vector<torch::Tensor>& outputs,
                                   const torch::Tensor& input) {
  const ir::Layer& l = net_.layers[i];
  std::vector<torch::Tensor> in;
  for (int p : l.inputs)
    in.push_back(p == ir::kNetworkInput ? input : outputs[static_cast<std::size_t>(p)]);
  if (const auto& bn = norm_[i]; bn && !l.has_weights()) {
    // An activation's batch norm: batch statistics in float training, as every conv's; frozen
    // in quantization-aware training, as the convs' folded ones are.
    in[0] = F::batch_norm(in[0], bn->running_mean, bn->running_var,
                          F::BatchNormFuncOptions()
                              .weight(bn->weight)
                              .bias(bn->bias)
                              .training(is_training() && mode_ != Mode::kQuantized)
                              .momentum(bn->options.momentum().value_or(0.1))
                              .eps(bn->options.eps()));
  }
  if (!l.has_weights()) return elementwise_forward(l, in);
  WeightedParams p = params(i);
  if (mode_ == Mode::kQuantized && !is_training() && !torch::GradMode::is_enabled()) {
    std::vector<std::int64_t> key{l.weight_bits, conv_channels_last.load() ? 1 : 0};
    for (const torch::Tensor* t :
         {&p.weight, &p.bias, &p.bn_weight, &p.bn_bias, &p.bn_mean, &p.bn_var}) {
      key.push_back(t->defined() ? reinterpret_cast<std::int64_t>(t->unsafeGetTensorImpl()) : 0);
      key.push_back(t->defined() ? t->_version() : -1);
    }
    if (frozen_.size() != net_.layers.size()) frozen_.resize(net_.layers.size());
    Frozen& f = frozen_[i];
    if (f.key != key) {
      std::tie(f.weight, f.bias) = quantized_weights(l, p);
      f.key = std::move(key);
      f.sources = {p.weight, p.bias, p.bn_weight, p.bn_bias, p.bn_mean, p.bn_var};
    }
    p.frozen_weight = f.weight;
    p.frozen_bias = f.bias;
  }
  return weighted_forward(l, in[0], p, mode_, is_training());
}

WeightedParams IrNetImpl::params(std::size_t i) const {
  WeightedParams p;
  p.range = range_[i];
  if (fc_[i]) {
    p.weight = fc_[i]->weight;
    if (fc_[i]->options.bias()) p.bias = fc_[i]->bias;
  } else {
    p.weight = conv_[i]->weight;
    if (conv_[i]->options.bias()) p.bias = conv_[i]->bias;
    if (const auto& bn = norm_[i]) {
      p.bn_weight = bn->weight, p.bn_bias = bn->bias;
      p.bn_mean = bn->running_mean, p.bn_var = bn->running_var;
      p.bn_eps = bn->options.eps();
      p.bn_momentum = bn->options.momentum().value_or(0.1);
    }
  }
  return p;
}

std::vector<torch::Tensor> IrNetImpl::forward_all(torch::Tensor x) {
  std::vector<torch::Tensor> outputs;
  outputs.reserve(net_.layers.size());
  for (std::size_t i = 0; i < net_.layers.size(); ++i) outputs.push_back(run_layer(i, outputs, x));
  return outputs;
}

std::vector<torch::Tensor> IrNetImpl::forward_timed(torch::Tensor x, std::vector<double>& seconds) {
  seconds.resize(net_.layers.size(), 0.0);
  std::vector<torch::Tensor> outputs;
  outputs.reserve(net_.layers.size());
  for (std::size_t i = 0; i < net_.layers.size(); ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    outputs.push_back(run_layer(i, outputs, x));
    seconds[i] += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  return outputs;
}

torch::Tensor IrNetImpl::forward(torch::Tensor x) {
  // Keep only what later layers still read.
  const std::size_t n = net_.layers.size();
  std::vector<torch::Tensor> outputs(n);
  for (std::size_t i = 0; i < n; ++i) {
    outputs[i] = run_layer(i, outputs, x);
    for (int p : net_.layers[i].inputs)
      if (p != ir::kNetworkInput && last_use_[static_cast<std::size_t>(p)] == i)
        outputs[static_cast<std::size_t>(p)] = torch::Tensor();
  }
  return outputs.back().flatten(1);
}

namespace {

// The layout version, first in a signature: checkpoints of an older layout are refused, not
// misread. The network's name follows it, then its layout.
const std::string kSignatureVersion = "hao-checkpoint-2|";

// What a checkpoint's weights depend on: the input, per layer its op, output shape, kernel,
// groups, dilation (when not 1: an undilated network's signature is as before dilations
// existed), batch norm and inputs ("|" first, after the name).
std::string layout_signature(const ir::Network& net) {
  std::string s = "|" + ir::to_string(net.input);
  for (const auto& l : net.layers) {
    s += ";" + ir::op_name(l.op) + ":" + ir::to_string(l.out) + ":k" + std::to_string(l.kernel_h) +
         "x" + std::to_string(l.kernel_w) + ":g" + std::to_string(l.groups) +
         (l.dilation_h != 1 || l.dilation_w != 1
              ? ":d" + std::to_string(l.dilation_h) + "x" + std::to_string(l.dilation_w)
              : std::string()) +
         (l.folded_norm ? ":bn" : "");
    for (int p : l.inputs) s += "," + std::to_string(p);
  }
  return s;
}

}  // namespace

std::string IrNetImpl::signature() const {
  return kSignatureVersion + net_.name + layout_signature(net_);
}

namespace {

// `values` into `tensor` (same element count), naming the layer when the count differs.
void copy_into(torch::Tensor tensor, const std::vector<float>& values, const std::string& layer,
               const char* what) {
  if (static_cast<std::int64_t>(values.size()) != tensor.numel())
    throw core::InputError("layer '" + layer + "': the file's " + what + " has " +
                           std::to_string(values.size()) + " values, the network " +
                           std::to_string(tensor.numel()));
  tensor.copy_(torch::from_blob(const_cast<float*>(values.data()), tensor.sizes(), torch::kFloat));
}

// The file's batch norm `norm` into `bn`, or, without one, the identity on the loaded function
// until training moves it.
void load_norm(torch::nn::BatchNorm2d bn, const ir::NormWeights* norm, const std::string& layer) {
  const double eps = bn->options.eps();
  if (norm) {
    copy_into(bn->weight, norm->scale, layer, "batch norm scale");
    copy_into(bn->bias, norm->shift, layer, "batch norm shift");
    copy_into(bn->running_mean, norm->mean, layer, "batch norm mean");
    copy_into(bn->running_var, norm->var, layer, "batch norm variance");
    bn->running_var.add_(norm->eps - eps);  // the file's epsilon, in torch's
  } else {
    bn->weight.fill_(1.0);
    bn->bias.fill_(0.0);
    bn->running_mean.fill_(0.0);
    bn->running_var.fill_(1.0 - eps);
  }
}

}  // namespace

void load_weights(IrNet& model, const ir::WeightSet& weights) {
  torch::NoGradGuard no_grad;
  const ir::Network& net = model->network();
  for (std::size_t i = 0; i < net.layers.size(); ++i) {
    const ir::Layer& l = net.layers[i];
    const auto it = weights.layers.find(l.name);
    if (!l.has_weights()) {  // an activation's batch norm (before it), if it has one
      if (torch::nn::BatchNorm2d bn = model->norm(i))
        load_norm(bn, it != weights.layers.end() && it->second.norm ? &*it->second.norm : nullptr,
                  l.name);
      continue;
    }
    if (it == weights.layers.end())
      throw core::InputError("layer '" + l.name + "': the file carries no weights for it");
    const ir::LayerWeights& w = it->second;
    torch::Tensor weight = model->weight(i);
    copy_into(weight, w.weight, l.name, "weight");
    torch::Tensor bias = torch::zeros({l.out.c});
    if (!w.bias.empty()) copy_into(bias, w.bias, l.name, "bias");
    if (l.op == ir::OpKind::kFc) {
      if (w.norm) {  // no batch norm layer after an fc: fold the file's into its weights
        torch::Tensor scale = torch::zeros({l.out.c}), shift = scale.clone();
        torch::Tensor mean = scale.clone(), var = scale.clone();
        copy_into(scale, w.norm->scale, l.name, "batch norm scale");
        copy_into(shift, w.norm->shift, l.name, "batch norm shift");
        copy_into(mean, w.norm->mean, l.name, "batch norm mean");
        copy_into(var, w.norm->var, l.name, "batch norm variance");
        const torch::Tensor g = scale / (var + w.norm->eps).sqrt();
        weight.mul_(g.unsqueeze(1));
        bias = (bias - mean) * g + shift;
      }
      torch::nn::Linear fc = model->fc(i);
      if (fc->options.bias())
        fc->bias.copy_(bias);
      else if (!w.bias.empty() || w.norm)
        throw core::InternalError("layer '" + l.name + "': a bias the network has no room for");
      continue;
    }
    torch::nn::Conv2d conv = model->conv(i);
    if (conv->options.bias())
      conv->bias.copy_(bias);
    else if (!w.bias.empty())
      throw core::InternalError("layer '" + l.name + "': a bias the network has no room for");
    torch::nn::BatchNorm2d bn = model->norm(i);
    if (bn)
      load_norm(bn, w.norm ? &*w.norm : nullptr, l.name);
    else if (w.norm)
      throw core::InternalError("layer '" + l.name + "': a batch norm the network does not have");
  }
}

void write_text(torch::serialize::OutputArchive& archive, const std::string& key,
                const std::string& text) {
  archive.write(key, torch::from_blob(const_cast<char*>(text.data()),
                                      {static_cast<std::int64_t>(text.size())}, torch::kInt8)
                         .clone());
}

bool read_text(torch::serialize::InputArchive& archive, const std::string& key, std::string& text) {
  torch::Tensor t;
  if (!archive.try_read(key, t)) return false;
  t = t.contiguous();
  text.assign(static_cast<const char*>(t.data_ptr()), static_cast<std::size_t>(t.numel()));
  return true;
}

void save_checkpoint(IrNet& model, const std::string& path) {
  torch::serialize::OutputArchive archive;
  model->save(archive);
  write_text(archive, "hao_signature", model->signature());
  if (model->mode() == IrNetImpl::Mode::kQuantized)
    write_text(archive, "hao_bits", bits_record(model->network()));
  if (!model->input_mean().empty()) {
    // Nine significant digits: a float comes back exactly.
    std::string norm;
    for (const auto* v : {&model->input_mean(), &model->input_stddev()}) {
      norm += norm.empty() ? "" : ";";
      for (std::size_t c = 0; c < v->size(); ++c) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>((*v)[c]));
        norm += (c ? "," : "") + std::string(buf);
      }
    }
    write_text(archive, "hao_normalization", norm);
  }
  try {
    archive.save_to(path);
  } catch (const c10::Error& e) {
    throw core::InputError(path + ": cannot write checkpoint: " + e.what_without_backtrace());
  }
}

std::string bits_record(const ir::Network& net) {
  std::string s;
  for (const auto& l : net.layers)
    if (l.has_weights())
      s += (s.empty() ? "" : ";") + l.name + ":w" + std::to_string(l.weight_bits) + "a" +
           std::to_string(l.act_bits);
  return s;
}

void load_checkpoint(IrNet& model, const std::string& path) {
  if (!std::filesystem::exists(path)) throw core::InputError(path + ": cannot open file");
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path);
  } catch (const c10::Error&) {
    throw core::InputError(path + ": not a hao checkpoint (hao train --out writes them)");
  }
  std::string theirs;
  if (!read_text(archive, "hao_signature", theirs))
    throw core::InputError(path + ": not a hao checkpoint (no network signature)");
  // The network's name is not its layout: a renamed network (or a search's candidate N built
  // again from its label) reads its checkpoint. Everything after the name must agree.
  const std::string& version = kSignatureVersion;
  const std::string layout = layout_signature(model->network());
  const bool same = theirs.size() >= version.size() + layout.size() &&
                    theirs.compare(0, version.size(), version) == 0 &&
                    theirs.compare(theirs.size() - layout.size(), layout.size(), layout) == 0;
  if (!same)
    throw core::InputError(path + ": checkpoint of another network or layout (it says '" +
                           theirs.substr(0, std::min(theirs.size(), std::size_t{60})) +
                           "...'; this network is '" + model->network().name + "')");
  try {
    model->load(archive);
  } catch (const c10::Error& e) {
    throw core::InputError(path + ": damaged checkpoint: " + e.what_without_backtrace());
  }
  std::string bits;
  read_text(archive, "hao_bits", bits);
  model->set_trained_bits(bits);
  std::string norm;
  if (read_text(archive, "hao_normalization", norm)) {
    std::vector<std::vector<float>> parts;
    for (const auto& part : core::split(norm, ';')) {
      parts.emplace_back();
      for (const auto& v : core::split(part, ',')) {
        double x = 0;
        if (!core::parse_double(v, x) || !std::isfinite(x))
          throw core::InputError(path + ": damaged checkpoint: input normalization '" + norm + "'");
        parts.back().push_back(static_cast<float>(x));
      }
    }
    const auto channels = static_cast<std::size_t>(model->network().input.c);
    if (parts.size() != 2 || parts[0].size() != channels || parts[1].size() != channels)
      throw core::InputError(path + ": damaged checkpoint: input normalization '" + norm + "'");
    model->set_input_normalization(parts[0], parts[1]);
  }
}

}  // namespace hao::nn
