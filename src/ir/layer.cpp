#include "ir/layer.hpp"

namespace hao::ir {

namespace {
struct OpEntry {
  OpKind op;
  const char* name;
};
constexpr OpEntry kOps[] = {
    {OpKind::kConv, "conv"},
    {OpKind::kFc, "fc"},
    {OpKind::kMaxPool, "maxpool"},
    {OpKind::kAvgPool, "avgpool"},
    {OpKind::kGlobalAvgPool, "global_avgpool"},
    {OpKind::kAdd, "add"},
    {OpKind::kMul, "mul"},
    {OpKind::kConcat, "concat"},
    {OpKind::kAct, "act"},
    {OpKind::kUpsample, "upsample"},
    {OpKind::kPixelPad, "pixel_pad"},
};
struct ActEntry {
  ActKind act;
  const char* name;
};
constexpr ActEntry kActs[] = {
    {ActKind::kRelu, "relu"},
    {ActKind::kRelu6, "relu6"},
    {ActKind::kClip, "clip"},
    {ActKind::kSigmoid, "sigmoid"},
    {ActKind::kHardSigmoid, "hard_sigmoid"},
    {ActKind::kHardSwish, "hard_swish"},
    {ActKind::kSilu, "silu"},
    {ActKind::kGelu, "gelu"},
    {ActKind::kLeakyRelu, "leaky_relu"},
    {ActKind::kTanh, "tanh"},
};
}  // namespace

std::string op_name(OpKind op) {
  for (const auto& e : kOps)
    if (e.op == op) return e.name;
  return "?";
}
bool is_gated(ActKind act) {
  return act == ActKind::kHardSwish || act == ActKind::kSilu || act == ActKind::kGelu;
}

std::string act_name(ActKind act) {
  for (const auto& e : kActs)
    if (e.act == act) return e.name;
  return "?";
}
std::vector<std::string> op_names() {
  std::vector<std::string> v;
  for (const auto& e : kOps) v.emplace_back(e.name);
  return v;
}
std::vector<std::string> act_names() {
  std::vector<std::string> v;
  for (const auto& e : kActs) v.emplace_back(e.name);
  return v;
}

std::string to_string(const Shape& s) {
  return std::to_string(s.c) + "x" + std::to_string(s.h) + "x" + std::to_string(s.w);
}

std::int64_t Layer::reduction_size() const {
  if (op == OpKind::kConv) return kernel_h * kernel_w * (in.c / groups);
  if (op == OpKind::kFc) return in.elements();
  return 0;
}

std::int64_t Layer::macs() const {
  if (op == OpKind::kConv) return reduction_size() * out.elements();
  if (op == OpKind::kFc) return reduction_size() * out.c;
  return 0;
}

std::int64_t Layer::weights() const {
  if (!has_weights()) return 0;
  return reduction_size() * out.c;
}

std::int64_t Layer::params_deployed() const {
  if (!has_weights()) return 0;
  return weights() + ((has_bias || folded_norm) ? out.c : 0);
}

std::int64_t Layer::params_trained() const {
  if (op == OpKind::kAct) return folded_norm ? 2 * out.c : 0;
  if (!has_weights()) return 0;
  return weights() + (has_bias ? out.c : 0) + (folded_norm ? 2 * out.c : 0);
}

}  // namespace hao::ir
