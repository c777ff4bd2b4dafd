// Test helpers: small networks built in code, random instances with printed seeds.
#pragma once

#include <random>
#include <string>

#include "hw/device.hpp"
#include "ir/network.hpp"

namespace hao::test {

inline ir::Layer conv(const std::string& name, int input, std::int64_t out_channels,
                      std::int64_t kernel, std::int64_t stride = 1, std::int64_t groups = 1) {
  ir::Layer l;
  l.name = name;
  l.op = ir::OpKind::kConv;
  l.inputs = {input};
  l.out_channels = out_channels;
  l.kernel_h = l.kernel_w = kernel;
  l.stride_h = l.stride_w = stride;
  l.pad_top = l.pad_left = l.pad_bottom = l.pad_right = kernel / 2;
  l.groups = groups;
  return l;
}

inline ir::Layer simple(const std::string& name, ir::OpKind op, std::vector<int> inputs) {
  ir::Layer l;
  l.name = name;
  l.op = op;
  l.inputs = std::move(inputs);
  return l;
}

/// A random chain of 2..4 small layers (conv, depthwise, act, add, pool, fc), shapes inferred.
inline ir::Network random_network(std::mt19937& rng) {
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  ir::Network net;
  net.name = "random";
  net.input = {pick(1, 4), pick(3, 6), pick(3, 6)};
  const int layers = pick(2, 4);
  int prev = ir::kNetworkInput;
  std::int64_t channels = net.input.c;
  for (int i = 0; i < layers; ++i) {
    const std::string name = "l" + std::to_string(i);
    const int kind = (i == layers - 1) ? pick(0, 5) : pick(0, 4);
    ir::Layer l;
    if (kind <= 1) {
      l = conv(name, prev, pick(1, 3) * 2, kind == 0 ? 1 : 3);
    } else if (kind == 2) {
      l = conv(name, prev, channels, 3, 1, channels);  // depthwise
    } else if (kind == 3) {
      l = simple(name, ir::OpKind::kAct, {prev});
    } else if (kind == 4) {
      l = simple(name, ir::OpKind::kAdd, {prev, prev});
    } else {
      l = simple(name, ir::OpKind::kFc, {prev});
      l.out_channels = pick(2, 5);
    }
    l.weight_bits = pick(0, 1) ? 4 : 8;
    l.act_bits = pick(0, 1) ? 4 : 8;
    net.layers.push_back(l);
    ir::infer_shapes(net, "random");
    channels = net.layers.back().out.c;
    prev = i;
  }
  return net;
}

/// A small device whose limits bind on small networks.
inline hw::Device random_device(std::mt19937& rng) {
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  hw::Device d;
  d.name = "tiny";
  d.dsp = pick(1, 24);
  d.lut = pick(400, 4000);
  d.bram36 = pick(0, 6);
  d.uram = pick(0, 1) ? 0 : pick(1, 4);
  d.usable_fraction = 1.0;
  d.clock_mhz = 100;
  d.offchip_gbps = 1000;
  return d;
}

/// Calls `visit(choice)` for every combination choice[l] in [0, sizes[l]).
template <typename Visit>
void for_each_choice(const std::vector<std::size_t>& sizes, Visit visit) {
  std::vector<int> choice(sizes.size(), 0);
  for (std::size_t s : sizes)
    if (s == 0) return;
  while (true) {
    visit(choice);
    std::size_t l = 0;
    while (l < sizes.size() && static_cast<std::size_t>(++choice[l]) == sizes[l]) choice[l++] = 0;
    if (l == sizes.size()) return;
  }
}

}  // namespace hao::test
