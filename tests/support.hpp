// Test helpers: small networks built in code, random instances with printed seeds.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <random>
#include <string>

#include "core/error.hpp"
#include "hw/device.hpp"
#include "ir/network.hpp"

namespace hao::test {

/// The message of the InputError `f` throws; "(accepted)" when it throws none.
inline std::string input_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const core::InputError& e) {
    return e.what();
  }
  return "(accepted)";
}

/// For tests that read ../shared/data: whether `path` is missing. In CI (CI set) that fails
/// the test naming the file; elsewhere the caller skips (`if (missing_data(p)) GTEST_SKIP()`).
inline bool missing_data(const std::string& path) {
  if (std::ifstream(path)) return false;
  if (std::getenv("CI"))
    ADD_FAILURE() << "reference data not found: " << path
                  << " (CI runs with shared/ beside the checkout; see shared/data/README.md)";
  return true;
}

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

/// A random small network of inverted-residual blocks (1x1 expand, 3x3 depthwise, 1x1
/// project, a residual add when shapes allow), plain convs and MobileNetV1-style depthwise /
/// pointwise pairs, so that fusable chains (some overlapping) occur. Shapes inferred.
inline ir::Network random_block_network(std::mt19937& rng) {
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  ir::Network net;
  net.name = "random_blocks";
  net.input = {pick(1, 4), pick(4, 12), pick(4, 12)};
  int prev = ir::kNetworkInput;
  std::int64_t channels = net.input.c;
  auto push = [&](ir::Layer l) {
    l.weight_bits = pick(0, 3) ? 8 : 4;
    l.act_bits = pick(0, 3) ? 8 : 4;
    net.layers.push_back(std::move(l));
    ir::infer_shapes(net, "random");
    prev = static_cast<int>(net.layers.size()) - 1;
    channels = net.layers.back().out.c;
  };
  const int blocks = pick(1, 3);
  for (int b = 0; b < blocks; ++b) {
    const std::string p = "b" + std::to_string(b) + "_";
    const int kind = pick(0, 3);
    if (kind == 0) {
      push(conv(p + "conv", prev, pick(1, 4) * 4, 3, pick(1, 2)));
      push(simple(p + "relu", ir::OpKind::kAct, {prev}));
    } else if (kind == 3) {  // depthwise, pointwise, depthwise, pointwise
      for (int k = 0; k < 2; ++k) {
        push(conv(p + "dw" + std::to_string(k), prev, channels, 3, 1, channels));
        push(conv(p + "pw" + std::to_string(k), prev, pick(1, 4) * 4, 1));
      }
    } else {
      const int block_in = prev;
      const std::int64_t in_c = channels;
      const std::int64_t stride = pick(1, 2);
      if (kind == 2) {
        push(conv(p + "expand", prev, channels * pick(2, 4), 1));
        push(simple(p + "expand_act", ir::OpKind::kAct, {prev}));
      }
      push(conv(p + "dw", prev, channels, 3, stride, channels));
      push(simple(p + "dw_act", ir::OpKind::kAct, {prev}));
      const std::int64_t out_c = pick(0, 1) ? in_c : pick(1, 4) * 4;
      push(conv(p + "project", prev, out_c, 1));
      if (stride == 1 && out_c == in_c && block_in != ir::kNetworkInput)
        push(simple(p + "add", ir::OpKind::kAdd, {block_in, prev}));
    }
  }
  if (pick(0, 1)) {
    push(simple("pool", ir::OpKind::kGlobalAvgPool, {prev}));
    ir::Layer fc = simple("fc", ir::OpKind::kFc, {prev});
    fc.out_channels = pick(2, 10);
    push(fc);
  }
  return net;
}

/// A small device whose limits bind on small networks.
inline hw::Device random_device(std::mt19937& rng) {
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  hw::Device d;
  d.name = "tiny";
  d.dsp = pick(1, 24);
  d.lut = pick(2000, 12000);  // FINN charges 300 LUTs of control per MVAU and window unit
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
