#include "nn/supernet.hpp"

#include <algorithm>
#include <set>
#include <sstream>

#include "core/error.hpp"

namespace hao::nn {

namespace {

// The layers of `variants`, merged by name, segment by segment (SupernetImpl's constructor).
ir::Network merged(const std::vector<ir::Network>& variants) {
  if (variants.size() == 1) return variants.front();
  auto segment = [](const std::string& name) { return name.substr(0, name.find('_')); };
  std::vector<std::string> order;
  std::map<std::string, std::vector<std::pair<ir::Layer, std::vector<std::string>>>> layers;
  std::set<std::string> seen;
  for (std::size_t v = 0; v < variants.size(); ++v)
    for (const ir::Layer& l : variants[v].layers) {
      const std::string seg = segment(l.name);
      if (!layers.count(seg)) {
        HAO_CHECK(v == 0, "supernet: layer " + l.name + " of '" + variants[v].name +
                              "' is in a segment the largest network lacks");
        order.push_back(seg);
      }
      auto& in_segment = layers[seg];
      if (!seen.insert(l.name).second) continue;
      std::vector<std::string> producers;
      for (int p : l.inputs)
        producers.push_back(p == ir::kNetworkInput
                                ? std::string()
                                : variants[v].layers[static_cast<std::size_t>(p)].name);
      in_segment.emplace_back(l, std::move(producers));
    }
  ir::Network out = variants.front();
  out.layers.clear();
  std::map<std::string, int> at;
  for (const std::string& seg : order)
    for (auto& [l, producers] : layers[seg]) {
      l.inputs.clear();
      for (const std::string& p : producers) {
        HAO_CHECK(p.empty() || at.count(p),
                  "supernet: layer " + l.name + " reads " + p + ", which comes after it");
        l.inputs.push_back(p.empty() ? ir::kNetworkInput : at[p]);
      }
      at[l.name] = static_cast<int>(out.layers.size());
      out.layers.push_back(l);
    }
  return out;
}

}  // namespace

SupernetImpl::SupernetImpl(ir::Network largest, std::vector<int> act_bits,
                           std::vector<ir::Network> others)
    : act_bits_(std::move(act_bits)) {
  variants_.push_back(std::move(largest));
  for (ir::Network& n : others) variants_.push_back(std::move(n));
  store_ = register_module("largest", IrNet(merged(variants_)));
  const ir::Network& net = store_->network();
  for (std::size_t i = 0; i < net.layers.size(); ++i) index_[net.layers[i].name] = i;
  for (int b : act_bits_) {
    std::vector<torch::Tensor>& ranges = bit_range_[b];
    ranges.resize(net.layers.size());
    for (std::size_t i = 0; i < net.layers.size(); ++i)
      if (store_->range(i).defined())
        ranges[i] = register_buffer("range_b" + std::to_string(b) + "_" + std::to_string(i),
                                    store_->range(i).clone());
  }
}

std::size_t SupernetImpl::position(const std::string& name, const std::string& member) const {
  const auto it = index_.find(name);
  if (it == index_.end())
    throw core::InputError("network '" + member + "': layer '" + name +
                           "' is not in the supernet's largest network '" + largest().name + "'");
  return it->second;
}

void SupernetImpl::check_member(const ir::Network& member) const {
  core::IssueList issues("network '" + member.name + "'");
  for (const ir::Layer& m : member.layers) {
    if (!m.has_weights()) continue;
    const auto it = index_.find(m.name);
    if (it == index_.end()) {
      issues.add(m.name, "not in the supernet's largest network '" + largest().name + "'");
      continue;
    }
    const ir::Layer& l = stored().layers[it->second];
    auto differs = [&](const std::string& what, std::int64_t mine, std::int64_t largest_one) {
      issues.add(m.name, what + " " + std::to_string(mine) + " cannot be sliced from the largest " +
                             "network's " + std::to_string(largest_one));
    };
    if (m.op != l.op) {
      issues.add(m.name, ir::op_name(m.op) + " where the largest network has " + ir::op_name(l.op));
      continue;
    }
    if (m.out.c > l.out.c) differs("output channels", m.out.c, l.out.c);
    if (m.folded_norm != l.folded_norm)
      issues.add(m.name, m.folded_norm ? "a batch norm the largest network's layer lacks"
                                       : "no batch norm where the largest network's layer has one");
    if (m.has_bias && !l.has_bias && !(m.op == ir::OpKind::kFc && l.folded_norm))
      issues.add(m.name, "a bias the largest network's layer lacks");
    if (m.op == ir::OpKind::kFc) {
      // Flattened inputs slice as a prefix only over channels of one pixel, or unchanged.
      if (m.in.h * m.in.w != 1 && !(m.in == l.in))
        issues.add(m.name, "an fc over a " + ir::to_string(m.in) + " map cannot be sliced from " +
                               ir::to_string(l.in));
      else if (m.in.elements() > l.in.elements())
        differs("input features", m.in.elements(), l.in.elements());
      continue;
    }
    if (m.is_depthwise() != l.is_depthwise() ||
        (!m.is_depthwise() && (m.groups != 1 || l.groups != 1)))
      issues.add(m.name, "groups " + std::to_string(m.groups) + " where the largest network has " +
                             std::to_string(l.groups) + " (only dense and depthwise slice)");
    else if (!m.is_depthwise() && m.in.c > l.in.c)
      differs("input channels", m.in.c, l.in.c);
    if (m.kernel_h > l.kernel_h || (l.kernel_h - m.kernel_h) % 2 != 0)
      differs("kernel height", m.kernel_h, l.kernel_h);
    if (m.kernel_w > l.kernel_w || (l.kernel_w - m.kernel_w) % 2 != 0)
      differs("kernel width", m.kernel_w, l.kernel_w);
  }
  issues.throw_if_any();
}

WeightedParams SupernetImpl::slice(const ir::Layer& m, const std::string& network) const {
  const std::size_t i = position(m.name, network);
  const ir::Layer& l = stored().layers[i];
  WeightedParams p;
  const auto at_bits = bit_range_.find(m.act_bits);
  p.range = at_bits != bit_range_.end() ? at_bits->second[i] : store_->range(i);
  if (m.op == ir::OpKind::kFc) {
    const auto& fc = store_->fc(i);
    p.weight = fc->weight.narrow(0, 0, m.out.c).narrow(1, 0, m.in.elements());
    if (fc->options.bias() && (m.has_bias || m.folded_norm))
      p.bias = fc->bias.narrow(0, 0, m.out.c);
    return p;
  }
  const auto& conv = store_->conv(i);
  p.weight = conv->weight.narrow(0, 0, m.out.c)
                 .narrow(1, 0, m.in.c / m.groups)
                 .narrow(2, (l.kernel_h - m.kernel_h) / 2, m.kernel_h)
                 .narrow(3, (l.kernel_w - m.kernel_w) / 2, m.kernel_w);
  if (conv->options.bias() && m.has_bias) p.bias = conv->bias.narrow(0, 0, m.out.c);
  if (const auto& bn = store_->norm(i)) {
    p.bn_weight = bn->weight.narrow(0, 0, m.out.c);
    p.bn_bias = bn->bias.narrow(0, 0, m.out.c);
    p.bn_mean = bn->running_mean.narrow(0, 0, m.out.c);
    p.bn_var = bn->running_var.narrow(0, 0, m.out.c);
    p.bn_eps = bn->options.eps();
    p.bn_momentum = bn->options.momentum().value_or(0.1);
    p.batch_statistics = true;
  }
  return p;
}

torch::Tensor SupernetImpl::forward(const ir::Network& member, const torch::Tensor& x) {
  check_member(member);  // a few lookups per layer: nothing beside the convolutions
  std::vector<torch::Tensor> outputs;
  outputs.reserve(member.layers.size());
  for (const ir::Layer& l : member.layers) {
    std::vector<torch::Tensor> in;
    for (int p : l.inputs)
      in.push_back(p == ir::kNetworkInput ? x : outputs[static_cast<std::size_t>(p)]);
    outputs.push_back(l.has_weights()
                          ? weighted_forward(l, in[0], slice(l, member.name), mode(), is_training())
                          : elementwise_forward(l, in));
  }
  return outputs.back().flatten(1);
}

namespace {

// What layer `i` of `member` computes, its name and producers apart: examples whose members
// agree on it share one computation.
std::string layer_signature(const ir::Network& member, std::size_t i) {
  const ir::Layer& l = member.layers[i];
  std::ostringstream o;
  o << static_cast<int>(l.op) << ' ' << l.in.c << ' ' << l.out.c << ' ' << l.kernel_h << ' '
    << l.kernel_w << ' ' << l.weight_bits << ' ' << l.act_bits << ' ' << l.has_bias << ' '
    << l.folded_norm;
  for (int p : l.inputs)
    o << " <"
      << (p == ir::kNetworkInput ? std::string("input")
                                 : member.layers[static_cast<std::size_t>(p)].name);
  return o.str();
}

// `y` with zero channels (dimension 1) appended up to `channels`.
torch::Tensor pad_channels(const torch::Tensor& y, std::int64_t channels) {
  const std::int64_t missing = channels - y.size(1);
  if (missing <= 0) return y;
  std::vector<std::int64_t> pad(static_cast<std::size_t>(2 * (y.dim() - 1)), 0);
  pad.back() = missing;  // the last pair pads dimension 1, at its end
  return torch::constant_pad_nd(y, pad, 0);
}

}  // namespace

torch::Tensor SupernetImpl::forward_each(const std::vector<const ir::Network*>& members,
                                         const torch::Tensor& x) {
  const std::int64_t batch = x.size(0);
  HAO_CHECK(static_cast<std::int64_t>(members.size()) == batch,
            "forward_each: one member per example");
  for (const ir::Network* m : std::set<const ir::Network*>(members.begin(), members.end()))
    check_member(*m);
  const ir::Network& big = stored();
  std::vector<torch::Tensor> outputs(big.layers.size());  // per stored layer, all rows
  for (std::size_t j = 0; j < big.layers.size(); ++j) {
    const ir::Layer& layer = big.layers[j];
    // Examples by what the layer is in their member; the first of each group stands for it.
    struct Group {
      const ir::Network* member;
      std::size_t layer;
      std::vector<std::int64_t> rows;
    };
    std::map<std::string, Group> groups;
    for (std::int64_t b = 0; b < batch; ++b) {
      const ir::Network& m = *members[static_cast<std::size_t>(b)];
      const int i = m.find(layer.name);
      if (i < 0) continue;
      const auto n = static_cast<std::size_t>(i);
      groups.try_emplace(layer_signature(m, n), Group{&m, n, {}}).first->second.rows.push_back(b);
    }
    if (groups.empty()) continue;  // no member has the layer
    std::vector<torch::Tensor> parts;
    std::vector<std::int64_t> at(static_cast<std::size_t>(batch), -1);  // example -> row of `all`
    std::int64_t filled = 0;
    for (const auto& [key, group] : groups) {
      const ir::Network& m = *group.member;
      const ir::Layer& ml = m.layers[group.layer];
      const torch::Tensor idx = torch::tensor(group.rows, torch::kLong);
      std::vector<torch::Tensor> in;
      for (int p : ml.inputs) {
        if (p == ir::kNetworkInput) {
          in.push_back(x.index_select(0, idx));
          continue;
        }
        const ir::Layer& producer = m.layers[static_cast<std::size_t>(p)];
        const torch::Tensor& all = outputs[position(producer.name, m.name)];
        in.push_back(all.index_select(0, idx).narrow(1, 0, producer.out.c));
      }
      const torch::Tensor y =
          ml.has_weights() ? weighted_forward(ml, in[0], slice(ml, m.name), mode(), is_training())
                           : elementwise_forward(ml, in);
      parts.push_back(pad_channels(y, y.dim() > 1 ? layer.out.c : y.size(1)));
      for (std::int64_t b : group.rows) at[static_cast<std::size_t>(b)] = filled++;
    }
    torch::Tensor all = torch::cat(parts, 0);
    if (filled < batch) {  // rows without the layer: zeros
      std::vector<std::int64_t> shape = all.sizes().vec();
      shape[0] = batch - filled;
      all = torch::cat({all, torch::zeros(shape, all.options())}, 0);
      for (std::int64_t& row : at)
        if (row < 0) row = filled++;
    }
    outputs[j] = all.index_select(0, torch::tensor(at, torch::kLong));
  }
  return outputs.back().flatten(1);
}

void SupernetImpl::set_mode(IrNetImpl::Mode mode) {
  store_->set_mode(mode);
  if (mode == IrNetImpl::Mode::kCalibrate)
    for (auto& [bits, ranges] : bit_range_)
      for (auto& r : ranges)
        if (r.defined()) reset_range(r);
}

void SupernetImpl::calibrate(const data::ImageSet& set, const Normalization& norm,
                             const std::vector<std::size_t>& order, std::size_t images,
                             int batch_size) {
  const bool was_training = is_training();
  eval();
  set_mode(IrNetImpl::Mode::kCalibrate);
  const std::size_t n = std::min(order.size(), std::max<std::size_t>(1, images));
  const auto step = static_cast<std::size_t>(std::max(1, batch_size));
  torch::NoGradGuard no_grad;
  // Every range of stored layer i (its own, then one per bit width).
  auto ranges_of = [&](std::size_t i) {
    std::vector<torch::Tensor> out{store_->range(i)};
    for (auto& [bits, ranges] : bit_range_) out.push_back(ranges[i]);
    return out;
  };
  // A layer's ranges come from the first network that has it: the largest first, then each
  // other operator's only for its own layers (the layers they share with the largest keep the
  // largest's, as before pools: a rarely trained operator's outliers would otherwise widen
  // the stem's and head's ranges for every member).
  std::set<std::size_t> done;
  for (const ir::Network& v : variants_) {
    std::vector<std::pair<std::size_t, std::vector<torch::Tensor>>> kept;
    for (std::size_t i : done) {
      std::vector<torch::Tensor> copies;
      for (const torch::Tensor& r : ranges_of(i)) copies.push_back(r.clone());
      kept.emplace_back(i, std::move(copies));
    }
    std::vector<ir::Network> at_bits{v};
    for (int b : act_bits_) {
      ir::Network at = v;
      for (auto& l : at.layers)
        if (l.has_weights()) l.weight_bits = l.act_bits = b;
      at_bits.push_back(std::move(at));
    }
    for (const ir::Network& net : at_bits)
      for (std::size_t at = 0; at < n; at += step) {
        const std::vector<std::size_t> idx(
            order.begin() + static_cast<long>(at),
            order.begin() + static_cast<long>(std::min(n, at + step)));
        forward(net, batch_of(set, idx, norm).first);
      }
    for (auto& [i, copies] : kept) {
      std::vector<torch::Tensor> now = ranges_of(i);
      for (std::size_t k = 0; k < now.size(); ++k) now[k].copy_(copies[k]);
    }
    for (const ir::Layer& l : v.layers)
      if (l.has_weights()) done.insert(index_.at(l.name));
  }
  // The stored layers' own ranges (what the largest runs with alone) are those at their bits.
  for (std::size_t i = 0; i < stored().layers.size(); ++i)
    if (const auto it = bit_range_.find(stored().layers[i].act_bits);
        it != bit_range_.end() && it->second[i].defined())
      store_->range(i).copy_(it->second[i]);
  set_mode(IrNetImpl::Mode::kQuantized);
  train(was_training);
}

IrNet SupernetImpl::extract(const ir::Network& member) const {
  check_member(member);
  IrNet out(member);
  // The mode first: entering kCalibrate resets the ranges copied below.
  out->set_mode(mode());
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < member.layers.size(); ++i) {
    const ir::Layer& m = member.layers[i];
    if (!m.has_weights()) continue;
    const WeightedParams p = slice(m, member.name);
    out->weight(i).copy_(p.weight);
    out->range(i).copy_(p.range);
    if (m.op == ir::OpKind::kFc) {
      if (out->fc(i)->options.bias()) out->fc(i)->bias.copy_(p.bias);
      continue;
    }
    if (out->conv(i)->options.bias()) out->conv(i)->bias.copy_(p.bias);
    if (const auto& bn = out->norm(i)) {
      bn->weight.copy_(p.bn_weight);
      bn->bias.copy_(p.bn_bias);
      bn->running_mean.copy_(p.bn_mean);
      bn->running_var.copy_(p.bn_var);
    }
  }
  return out;
}

}  // namespace hao::nn
