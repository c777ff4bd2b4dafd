#include "search/mbv2_domain.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <sstream>

#include "core/error.hpp"
#include "core/text.hpp"
#include "ilp/folding_program.hpp"
#include "ir/bits.hpp"
#include "ir/description_io.hpp"
#include "search/nn_degree.hpp"

namespace hao::search {
namespace {

template <typename T>
std::vector<std::string> names(const std::vector<T>& values) {
  std::vector<std::string> out;
  for (const T& v : values) {
    std::ostringstream o;
    o << v;
    out.push_back(o.str());
  }
  return out;
}

// Everything a layer's dataflow configurations depend on (all but its name and producers).
std::string layer_key(const ir::Layer& l) {
  std::ostringstream o;
  o << static_cast<int>(l.op) << ' ' << static_cast<int>(l.act) << ' ' << l.inputs.size() << ' '
    << l.out_channels << ' ' << l.kernel_h << ' ' << l.kernel_w << ' ' << l.stride_h << ' '
    << l.stride_w << ' ' << l.pad_top << ' ' << l.pad_left << ' ' << l.pad_bottom << ' '
    << l.pad_right << ' ' << l.groups << ' ' << l.depthwise << ' ' << l.ceil_mode << ' '
    << l.has_bias << ' ' << l.folded_norm << ' ' << l.weight_bits << ' ' << l.act_bits << ' '
    << ir::to_string(l.in) << ' ' << ir::to_string(l.out) << ' ' << (l.fused_into >= 0) << ' '
    << l.fused_after_add << ' ' << l.has_fused_act << ' ' << l.fanout << ' ' << l.scaled_by_gate
    << ' ' << l.reads_accumulator;
  return o.str();
}

// A stage's channels at a width multiplier: rounded to a multiple of 4, at least 8.
int stage_channels(int channels, double width) {
  return std::max(8, static_cast<int>(std::lround(channels * width / 4.0)) * 4);
}

struct Block {
  int in_channels, out_channels, kernel, expansion, bits, stride;
  std::string op = "mbconv";  ///< one of mbv2_operators()
};

bool has_se(const std::string& op) { return op.find("-se") != std::string::npos; }
bool has_hswish(const std::string& op) { return op.find("hswish") != std::string::npos; }

// An inverted residual block's layers, named with `prefix`, reading layer `in` (or "input");
// returns the name of its output (the add when it has a residual).
std::string write_block(std::ostream& y, const std::string& prefix, const std::string& in,
                        const Block& b) {
  const std::string& p = prefix;
  const std::string q =
      ", weight_bits: " + std::to_string(b.bits) + ", act_bits: " + std::to_string(b.bits) + "}\n";
  // MobileNetV3's variants: hard-swish for ReLU6; squeeze-excite on the depthwise output.
  const std::string act = has_hswish(b.op) ? "hard_swish" : "relu6";
  const int hidden = b.in_channels * std::max(1, b.expansion);
  std::string from = in;
  if (b.expansion > 1) {
    y << "  - {name: " << p << "expand, op: conv, out_channels: " << hidden
      << ", kernel: 1, inputs: [" << from << "], folded_norm: true" << q << "  - {name: " << p
      << "expand_relu, op: " << act << ", act_bits: " << b.bits << "}\n";
    from = p + "expand_relu";
  }
  y << "  - {name: " << p << "dw, op: conv, depthwise: true, kernel: " << b.kernel
    << ", stride: " << b.stride << ", padding: " << b.kernel / 2 << ", inputs: [" << from
    << "], folded_norm: true" << q << "  - {name: " << p << "dw_relu, op: " << act
    << ", act_bits: " << b.bits << "}\n";
  from = p + "dw_relu";
  if (has_se(b.op)) {
    y << "  - {name: " << p << "se_pool, op: global_avgpool, act_bits: " << b.bits << "}\n"
      << "  - {name: " << p << "se_reduce, op: conv, out_channels: " << std::max(8, hidden / 4)
      << ", kernel: 1, bias: true" << q << "  - {name: " << p
      << "se_relu, op: relu, act_bits: " << b.bits << "}\n"
      << "  - {name: " << p << "se_expand, op: conv, out_channels: " << hidden
      << ", kernel: 1, bias: true" << q << "  - {name: " << p
      << "se_gate, op: hard_sigmoid, act_bits: " << b.bits << "}\n"
      << "  - {name: " << p << "se_scale, op: mul, inputs: [" << from << ", " << p
      << "se_gate], act_bits: " << b.bits << "}\n";
    from = p + "se_scale";
  }
  y << "  - {name: " << p << "project, op: conv, out_channels: " << b.out_channels
    << ", kernel: 1, inputs: [" << from << "], folded_norm: true" << q;
  if (b.stride == 1 && b.out_channels == b.in_channels) {
    y << "  - {name: " << p << "add, op: add, inputs: [" << in << ", " << p
      << "project], act_bits: " << b.bits << "}\n";
    return p + "add";
  }
  return p + "project";
}

}  // namespace

Mbv2Domain::Mbv2Domain(Mbv2Spec spec, hw::Device device, ilp::MapOptions map)
    : NetworkDomain(std::move(device), std::move(map)), spec_(std::move(spec)) {
  HAO_CHECK(!spec_.stages.empty() && !spec_.depth.empty(), "mbv2 space without stages");
  for (std::size_t s = 0; s < spec_.stages.size(); ++s) {
    const std::string p = "s" + std::to_string(s) + ".";
    slots_.push_back({p + "depth", names(spec_.depth)});
    slots_.push_back({p + "width", names(spec_.width)});
    for (int b = 0; b < max_depth(); ++b) {
      const std::string q = p + "b" + std::to_string(b) + ".";
      slots_.push_back({q + "kernel", names(spec_.kernel)});
      slots_.push_back({q + "expansion", names(spec_.expansion)});
      slots_.push_back({q + "bits", names(spec_.bits)});
      if (spec_.chooses_operators()) slots_.push_back({q + "operator", spec_.pool(s), true});
    }
  }
  slots_.push_back({"head.bits", names(spec_.bits)});
}

int Mbv2Domain::max_depth() const {
  return *std::max_element(spec_.depth.begin(), spec_.depth.end());
}

std::size_t Mbv2Domain::block_slots() const { return spec_.chooses_operators() ? 4 : 3; }

std::size_t Mbv2Domain::block_slot(std::size_t stage, std::size_t block) const {
  const std::size_t n = block_slots();
  return stage * (2 + n * static_cast<std::size_t>(max_depth())) + 2 + n * block;
}

const std::string& Mbv2Domain::block_operator(const Genotype& g, std::size_t stage,
                                              std::size_t block) const {
  const std::vector<std::string>& pool = spec_.pool(stage);
  if (!spec_.chooses_operators()) return pool.front();
  return pool.at(static_cast<std::size_t>(g[block_slot(stage, block) + 3]));
}

std::string Mbv2Domain::block_prefix(const Genotype& g, std::size_t stage,
                                     std::size_t block) const {
  // In a space that chooses operators, each operator's layers have names (and so weights in
  // the supernet) of their own.
  const std::string p = "s" + std::to_string(stage) + "b" + std::to_string(block) + "_";
  return spec_.chooses_operators() ? p + block_operator(g, stage, block) + "_" : p;
}

Genotype Mbv2Domain::snap(const Genotype& g, Rng&) const {
  Genotype c = clamped(g);
  for (std::size_t s = 0; s < spec_.stages.size(); ++s) {
    const std::size_t d_slot = block_slot(s, 0) - 2;
    const int depth = spec_.depth[static_cast<std::size_t>(c[d_slot])];
    for (int b = depth; b < max_depth(); ++b)
      for (std::size_t k = 0; k < block_slots(); ++k)
        c[block_slot(s, static_cast<std::size_t>(b)) + k] = 0;
    // A bypass where the block cannot pass its input through reads as the smallest expansion;
    // a bypassed block's kernel, bits and operator say nothing and keep their first choice.
    for (int b = 0; b < depth; ++b) {
      const std::size_t k = block_slot(s, static_cast<std::size_t>(b));
      c[k + 1] = expansion_choice(c, s, static_cast<std::size_t>(b));
      if (spec_.expansion[static_cast<std::size_t>(c[k + 1])] == 0)
        for (std::size_t i = 0; i < block_slots(); ++i)
          if (i != 1) c[k + i] = 0;  // all but the expansion
    }
  }
  return c;
}

bool Mbv2Domain::keeps_shape(const Genotype& g, std::size_t stage, std::size_t block) const {
  if (block > 0) return true;
  if (spec_.stages[stage].stride != 1) return false;
  auto channels = [&](std::size_t s) {
    return stage_channels(spec_.stages[s].channels,
                          spec_.width[static_cast<std::size_t>(g[depth_slot(s) + 1])]);
  };
  return (stage == 0 ? spec_.stem_channels : channels(stage - 1)) == channels(stage);
}

int Mbv2Domain::expansion_choice(const Genotype& g, std::size_t stage, std::size_t block) const {
  const int c = g[block_slot(stage, block) + 1];
  if (spec_.expansion[static_cast<std::size_t>(c)] != 0 || keeps_shape(g, stage, block)) return c;
  int least = -1;  // the smallest expansion that is not a bypass
  for (std::size_t i = 0; i < spec_.expansion.size(); ++i)
    if (spec_.expansion[i] != 0 &&
        (least < 0 || spec_.expansion[i] < spec_.expansion[static_cast<std::size_t>(least)]))
      least = static_cast<int>(i);
  return least;
}

int Mbv2Domain::expansion(const Genotype& g, std::size_t stage, std::size_t block) const {
  return spec_.expansion[static_cast<std::size_t>(expansion_choice(g, stage, block))];
}

bool Mbv2Domain::valid(const Genotype& g) const {
  if (!in_range(g)) return false;
  Rng unused(0);
  return snap(g, unused) == g;
}

Genotype Mbv2Domain::random(Rng& rng) const {
  Genotype g = uniform(rng);
  return snap(g, rng);
}

std::string Mbv2Domain::label(const Genotype& g) const {
  // e.g. "s0:d1,w1|k3e3b4;s1:d2,w0.75|k3e6b4|k5e3b8;...;head:b4"; a block's operator after a
  // '/' where the space chooses operators ("k3e6b4/mbconv-se")
  std::string out;
  for (std::size_t s = 0; s < spec_.stages.size(); ++s) {
    const std::size_t d = block_slot(s, 0) - 2;
    const int depth = spec_.depth[static_cast<std::size_t>(g[d])];
    out += (s ? ";s" : "s") + std::to_string(s) + ":d" + std::to_string(depth) + ",w" +
           slots_[d + 1].choices[static_cast<std::size_t>(g[d + 1])];
    for (int b = 0; b < depth; ++b) {
      const std::size_t k = block_slot(s, static_cast<std::size_t>(b));
      out += "|k" + slots_[k].choices[static_cast<std::size_t>(g[k])] + "e" +
             slots_[k + 1].choices[static_cast<std::size_t>(g[k + 1])] + "b" +
             slots_[k + 2].choices[static_cast<std::size_t>(g[k + 2])];
      if (block_slots() == 4)
        out += "/" + slots_[k + 3].choices[static_cast<std::size_t>(g[k + 3])];
    }
  }
  return out + ";head:b" + slots_.back().choices[static_cast<std::size_t>(g.back())];
}

Genotype Mbv2Domain::parse(const std::string& text, const std::string& where) const {
  // Every genotype has one label: try the label of the snapped reading of each part.
  const auto parts = core::split(text, ';');
  auto fail = [&](const std::string& why) -> Genotype {
    throw core::InputError(where + ": genotype '" + text + "': " + why);
  };
  if (parts.size() != spec_.stages.size() + 1)
    fail("expected " + std::to_string(spec_.stages.size() + 1) + " ';'-separated parts");
  Genotype g(slots_.size(), 0);
  auto index = [&](std::size_t slot, const std::string& value) {
    if (const std::string problem = set_choice(g, slot, value); !problem.empty()) fail(problem);
  };
  for (std::size_t s = 0; s < spec_.stages.size(); ++s) {
    const auto blocks = core::split(parts[s], '|');
    const std::string head = "s" + std::to_string(s) + ":d";
    if (blocks[0].rfind(head, 0) != 0)
      fail("part " + std::to_string(s) + " must start with " + head);
    const auto dw = core::split(blocks[0].substr(head.size()), ',');
    if (dw.size() != 2 || dw[1].empty() || dw[1][0] != 'w')
      fail("stage " + std::to_string(s) + ": expected dD,wW");
    const std::size_t d = block_slot(s, 0) - 2;
    index(d, dw[0]);
    index(d + 1, dw[1].substr(1));
    if (blocks.size() - 1 != static_cast<std::size_t>(spec_.depth[static_cast<std::size_t>(g[d])]))
      fail("stage " + std::to_string(s) + " has depth " + dw[0] + " but " +
           std::to_string(blocks.size() - 1) + " blocks");
    for (std::size_t b = 1; b < blocks.size(); ++b) {
      std::string t = blocks[b];
      const std::size_t k = block_slot(s, b - 1);
      if (block_slots() == 4) {
        const auto slash = t.find('/');
        if (slash == std::string::npos)
          fail("block '" + t + "', expected kKeEbB/OPERATOR (this space chooses operators: " +
               core::join(spec_.pool(s), ", ") + ")");
        index(k + 3, t.substr(slash + 1));
        t = t.substr(0, slash);
      }
      const auto e = t.find('e'), bb = t.find('b');
      if (t.empty() || t[0] != 'k' || e == std::string::npos || bb == std::string::npos || bb < e)
        fail("block '" + t + "', expected kKeEbB");
      index(k, t.substr(1, e - 1));
      index(k + 1, t.substr(e + 1, bb - e - 1));
      index(k + 2, t.substr(bb + 1));
    }
  }
  if (parts.back().rfind("head:b", 0) != 0) fail("last part must be head:bB");
  index(slots_.size() - 1, parts.back().substr(6));
  return g;
}

std::vector<double> Mbv2Domain::features(const Genotype& g) const {
  {
    std::lock_guard<std::mutex> lock(features_mutex_);
    if (auto it = features_.find(g); it != features_.end()) return it->second;
  }
  // One-hot slots of active blocks only (a removed block's slots say nothing), plus per stage
  // the depth and width as numbers, and the network's MACs and weight bits in log scale.
  std::vector<double> f = Domain::features(g);
  for (std::size_t s = 0; s < spec_.stages.size(); ++s) {
    const std::size_t d = block_slot(s, 0) - 2;
    const int depth = spec_.depth[static_cast<std::size_t>(g[d])];
    f.push_back(depth);
    f.push_back(2 * spec_.width[static_cast<std::size_t>(g[d + 1])]);
  }
  const ir::Network net = network(g);
  double macs = 0, weight_bits = 0;
  for (const auto& l : net.layers) {
    macs += static_cast<double>(l.macs());
    weight_bits += static_cast<double>(l.weights()) * l.weight_bits;
  }
  f.push_back(std::log2(std::max(1.0, macs)) / 2);
  f.push_back(std::log2(std::max(1.0, weight_bits)) / 2);
  std::lock_guard<std::mutex> lock(features_mutex_);
  return features_.emplace(g, std::move(f)).first->second;
}

namespace {

// Every slot at its largest (or smallest) numeric choice.
Genotype extreme(const std::vector<Slot>& slots, bool largest) {
  Genotype g;
  for (const Slot& slot : slots) {
    std::size_t best = 0;
    if (slot.ordered_as_listed) {
      g.push_back(largest ? static_cast<int>(slot.choices.size()) - 1 : 0);
      continue;
    }
    for (std::size_t c = 1; c < slot.choices.size(); ++c) {
      const double v = std::stod(slot.choices[c]), b = std::stod(slot.choices[best]);
      if (largest ? v > b : v < b) best = c;
    }
    g.push_back(static_cast<int>(best));
  }
  return g;
}

}  // namespace

std::optional<Topology> Mbv2Domain::topology(const Genotype& g) const {
  Topology t;
  int channels = spec_.stem_channels;
  for (std::size_t s = 0; s < spec_.stages.size(); ++s) {
    const std::size_t d = depth_slot(s);
    const int depth = spec_.depth[static_cast<std::size_t>(g[d])];
    const double width = spec_.width[static_cast<std::size_t>(g[d + 1])];
    const int out = stage_channels(spec_.stages[s].channels, width);
    std::vector<MbconvLayer> stage;
    for (int b = 0; b < depth; ++b) {
      const int e = expansion(g, s, static_cast<std::size_t>(b));
      if (e == 0) continue;  // bypassed: no channel graph
      const int stride = b == 0 ? spec_.stages[s].stride : 1;
      stage.push_back({channels, out, e, stride == 1 && out == channels});
      channels = out;
    }
    t.nn_degree += mbconv_stage_degree(stage);
  }
  for (const auto& l : network(g).layers) {
    t.parameters += static_cast<double>(l.weights());
    t.macs += static_cast<double>(l.macs());
    t.bit_ops += static_cast<double>(l.macs()) * l.weight_bits * l.act_bits;
  }
  return t;
}

Genotype Mbv2Domain::largest() const { return extreme(slots_, true); }
Genotype Mbv2Domain::smallest() const {
  Rng unused(0);
  return snap(extreme(slots_, false), unused);  // a first block bypassed where it cannot be
}

std::string Mbv2Domain::description(const Genotype& g, const std::string& name) const {
  const Mbv2Spec& m = spec_;
  std::ostringstream y;
  y << description_head(name, m.input_channels, m.input_height, m.input_width, m.input_bits)
    << "  - {name: stem, op: conv, out_channels: " << m.stem_channels
    << ", kernel: " << m.stem_kernel << ", stride: " << m.stem_stride
    << ", padding: " << m.stem_kernel / 2 << ", folded_norm: true, weight_bits: " << m.stem_bits
    << ", act_bits: " << m.input_bits << "}\n"
    << "  - {name: stem_relu, op: relu6, act_bits: " << m.stem_bits << "}\n";
  std::string last = "stem_relu";
  int channels = m.stem_channels;
  for (std::size_t s = 0; s < m.stages.size(); ++s) {
    const std::size_t d = block_slot(s, 0) - 2;
    const int depth = m.depth[static_cast<std::size_t>(g[d])];
    const double width = m.width[static_cast<std::size_t>(g[d + 1])];
    const int out = stage_channels(m.stages[s].channels, width);
    for (int b = 0; b < depth; ++b) {
      const std::size_t k = block_slot(s, static_cast<std::size_t>(b));
      const int kernel = m.kernel[static_cast<std::size_t>(g[k])];
      const int e = expansion(g, s, static_cast<std::size_t>(b));
      if (e == 0) continue;  // bypassed (CBC): its input passes through, channels and all
      const int bits = m.bits[static_cast<std::size_t>(g[k + 2])];
      const int stride = b == 0 ? m.stages[s].stride : 1;
      const auto bs = static_cast<std::size_t>(b);
      last = write_block(y, block_prefix(g, s, bs), last,
                         {channels, out, kernel, e, bits, stride, block_operator(g, s, bs)});
      channels = out;
    }
  }
  const int head_bits = m.bits[static_cast<std::size_t>(g.back())];
  y << "  - {name: head, op: conv, out_channels: " << m.head_channels << ", kernel: 1, inputs: ["
    << last << "], folded_norm: true, weight_bits: " << head_bits << ", act_bits: " << head_bits
    << "}\n"
    << "  - {name: head_relu, op: relu6, act_bits: " << head_bits << "}\n"
    << "  - {name: pool, op: global_avgpool, act_bits: " << head_bits << "}\n"
    << "  - {name: classifier, op: fc, out_channels: " << m.classes
    << ", bias: true, weight_bits: " << m.classifier_bits << ", act_bits: " << m.classifier_bits
    << "}\n";
  return y.str();
}

}  // namespace hao::search

namespace hao::search {

std::vector<OperatorPosition> Mbv2Domain::operator_positions() const {
  std::vector<OperatorPosition> out;
  for (std::size_t s = 0; s < spec_.stages.size(); ++s)
    for (std::size_t b = 0; b < static_cast<std::size_t>(max_depth()); ++b) {
      std::vector<std::size_t> slots{block_slot(s, b), block_slot(s, b) + 1};
      if (block_slots() == 4) slots.push_back(block_slot(s, b) + 3);
      out.push_back({"s" + std::to_string(s) + ".b" + std::to_string(b), std::move(slots)});
    }
  return out;
}

bool Mbv2Domain::operator_present(const Genotype& g, std::size_t p) const {
  const auto blocks = static_cast<std::size_t>(max_depth());
  const std::size_t s = p / blocks, b = p % blocks;
  return spec_.depth.at(static_cast<std::size_t>(g.at(depth_slot(s)))) > static_cast<int>(b);
}

std::string Mbv2Domain::block_alone(const ir::Network& net, const std::string& prefix, int kernel,
                                    int expansion, int bits, const std::string& op) const {
  // The block's input and output shapes as the network has them.
  const int dw = net.find(prefix + "dw"), project = net.find(prefix + "project");
  const int expand = net.find(prefix + "expand");
  HAO_CHECK(dw >= 0 && project >= 0, "block " + prefix + " missing from its network");
  const ir::Layer& first = net.layers[static_cast<std::size_t>(expand >= 0 ? expand : dw)];
  const ir::Shape& in = net.producer_shape(first.inputs.at(0));
  std::ostringstream y;
  y << description_head(prefix + "alone", static_cast<int>(in.c), static_cast<int>(in.h),
                        static_cast<int>(in.w), bits);
  write_block(y, prefix, "input",
              {static_cast<int>(in.c),
               static_cast<int>(net.layers[static_cast<std::size_t>(project)].out_channels),
               spec_.kernel[static_cast<std::size_t>(kernel)],
               spec_.expansion[static_cast<std::size_t>(expansion)], bits,
               static_cast<int>(net.layers[static_cast<std::size_t>(dw)].stride_h), op});
  return y.str();
}

std::vector<std::pair<std::string, std::string>> Mbv2Domain::pieces(const Genotype& g) const {
  const Mbv2Spec& m = spec_;
  const ir::Network net = network(g);
  std::vector<std::pair<std::string, std::string>> out;
  std::ostringstream stem;
  stem << description_head("stem_alone", m.input_channels, m.input_height, m.input_width, 8)
       << "  - {name: stem, op: conv, out_channels: " << m.stem_channels
       << ", kernel: " << m.stem_kernel << ", stride: " << m.stem_stride
       << ", padding: " << m.stem_kernel / 2
       << ", folded_norm: true, weight_bits: 8, act_bits: 8}\n"
       << "  - {name: stem_relu, op: relu6, act_bits: 8}\n";
  out.emplace_back("stem", stem.str());
  for (std::size_t s = 0; s < m.stages.size(); ++s)
    for (std::size_t b = 0; b < static_cast<std::size_t>(max_depth()); ++b) {
      if (!operator_present(g, s * static_cast<std::size_t>(max_depth()) + b)) continue;
      if (expansion(g, s, b) == 0) continue;  // bypassed: nothing runs
      const std::size_t k = block_slot(s, b);
      const std::string name = "s" + std::to_string(s) + "b" + std::to_string(b);
      out.emplace_back(name, block_alone(net, block_prefix(g, s, b), g[k],
                                         expansion_choice(g, s, b), 8, block_operator(g, s, b)));
    }
  const ir::Layer& head = net.layers[static_cast<std::size_t>(net.find("head"))];
  const ir::Shape& in = net.producer_shape(head.inputs.at(0));
  std::ostringstream h;
  h << description_head("head_alone", static_cast<int>(in.c), static_cast<int>(in.h),
                        static_cast<int>(in.w), 8)
    << "  - {name: head, op: conv, out_channels: " << m.head_channels
    << ", kernel: 1, folded_norm: true, weight_bits: 8, act_bits: 8}\n"
    << "  - {name: head_relu, op: relu6, act_bits: 8}\n"
    << "  - {name: pool, op: global_avgpool, act_bits: 8}\n"
    << "  - {name: classifier, op: fc, out_channels: " << m.classes
    << ", bias: true, weight_bits: 8, act_bits: 8}\n";
  out.emplace_back("head", h.str());
  return out;
}

double Mbv2Domain::operator_share() const {
  // A CPU or an engine runs one piece at a time, all of it.
  if (target_name() != "dataflow") return 1;
  return 1.0 / static_cast<double>(spec_.stages.size() * static_cast<std::size_t>(max_depth()));
}

OperatorCost Mbv2Domain::operator_cost(const Genotype& g, std::size_t p, double share) const {
  HAO_CHECK(operator_present(g, p), "operator_cost of a block past its stage's depth");
  {
    std::lock_guard<std::mutex> lock(features_mutex_);
    if (auto it = operator_costs_.find({g, p, share}); it != operator_costs_.end())
      return it->second;
  }
  const auto blocks = static_cast<std::size_t>(max_depth());
  const std::size_t s = p / blocks, b = p % blocks, k = block_slot(s, b);
  const std::string prefix = block_prefix(g, s, b);
  const std::string& op = block_operator(g, s, b);
  const int e = expansion_choice(g, s, b);
  if (spec_.expansion[static_cast<std::size_t>(e)] == 0) return {0, 0, share};  // a bypass
  const ir::Network net = network(g);
  const std::string y =
      block_alone(net, prefix, g[k], e, spec_.bits[static_cast<std::size_t>(g[k + 2])], op);
  ir::Network part = ir::parse_description(y, "operator " + prefix);
  ir::derive_elementwise_bits(part);
  const OperatorCost cost{
      static_cast<double>(part.total_macs()),
      target_name() == "dataflow" ? part_latency_ms(part, share)
      : target().part_bits == 0
          ? part_target_ms(y)
          // the piece as the CPU table keys it (float on a CPU)
          : part_target_ms(block_alone(net, prefix, g[k], e, target().part_bits, op)),
      share};
  std::lock_guard<std::mutex> lock(features_mutex_);
  return operator_costs_.emplace(std::make_tuple(g, p, share), cost).first->second;
}

std::vector<std::vector<std::size_t>> Mbv2Domain::stage_slots() const {
  std::vector<std::vector<std::size_t>> out;
  for (std::size_t s = 0; s < spec_.stages.size(); ++s) {
    std::vector<std::size_t> group;
    const std::size_t end = s + 1 < spec_.stages.size() ? depth_slot(s + 1) : slots_.size() - 1;
    for (std::size_t i = depth_slot(s); i < end; ++i) group.push_back(i);
    out.push_back(std::move(group));
  }
  out.push_back({slots_.size() - 1});
  return out;
}

std::vector<ilp::SlotCondition> Mbv2Domain::present(std::size_t stage, std::size_t block) const {
  ilp::SlotCondition c{static_cast<int>(depth_slot(stage)), {}};
  for (std::size_t k = 0; k < spec_.depth.size(); ++k)
    if (spec_.depth[k] > static_cast<int>(block)) c.choices.push_back(static_cast<int>(k));
  if (c.choices.size() == spec_.depth.size()) return {};  // every depth has the block
  return {c};
}

SelectionSpace Mbv2Domain::build_selection() const {
  const std::size_t stages = spec_.stages.size();
  const auto blocks = static_cast<std::size_t>(max_depth());
  const std::size_t head_slot = slots_.size() - 1;
  auto width_slot = [&](std::size_t s) { return depth_slot(s) + 1; };
  auto bits_slot = [&](std::size_t s, std::size_t b) { return block_slot(s, b) + 2; };

  // The slots that decide at what precision the value leaving block `block` of `stage` is read
  // (element-wise layers take the precision of the weighted layers they feed, through residual
  // adds): the stage's depth and later blocks' bits, then the next stage's first block, and
  // through stages of stride 1 (whose first block may add it back) on to the head.
  auto readers = [&](std::size_t stage, std::size_t block, std::set<std::size_t>& out) {
    out.insert(depth_slot(stage));
    for (std::size_t b = block + 1; b < blocks; ++b) out.insert(bits_slot(stage, b));
    for (std::size_t s = stage + 1;; ++s) {
      if (s == stages) {
        out.insert(head_slot);
        break;
      }
      out.insert(bits_slot(s, 0));
      if (spec_.stages[s].stride != 1) break;
      out.insert(width_slot(s - 1));
      out.insert(width_slot(s));
      out.insert(depth_slot(s));
      for (std::size_t b = 0; b < blocks; ++b) out.insert(bits_slot(s, b));
    }
  };

  struct Position {
    std::string layer;
    std::set<std::size_t> context;           // slots enumerated choice by choice
    std::vector<ilp::SlotCondition> always;  // conditions on slots not enumerated
  };
  std::vector<Position> positions{{"stem", {}, {}}};
  {
    Position relu{"stem_relu", {}, {}};
    if (spec_.stages[0].stride == 1) {
      relu.context.insert(width_slot(0));
      relu.context.insert(bits_slot(0, 0));
      readers(0, 0, relu.context);
    } else {
      relu.context.insert(bits_slot(0, 0));
    }
    positions.push_back(relu);
  }
  for (std::size_t s = 0; s < stages; ++s)
    for (std::size_t b = 0; b < blocks; ++b) {
      const std::string p = "s" + std::to_string(s) + "b" + std::to_string(b) + "_";
      std::set<std::size_t> in;  // the block's input channels
      if (b > 0) in.insert(width_slot(s));
      if (b == 0 && s > 0) in.insert(width_slot(s - 1));
      const std::size_t k = block_slot(s, b);
      auto with = [&](std::set<std::size_t> c, std::initializer_list<std::size_t> more) {
        c.insert(more);
        return c;
      };
      const std::vector<ilp::SlotCondition> here = present(s, b);
      positions.push_back({p + "expand", with(in, {k + 1, k + 2}), here});
      positions.push_back({p + "expand_relu", with(in, {k + 1, k + 2}), here});
      positions.push_back({p + "dw", with(in, {k, k + 1, k + 2}), here});
      positions.push_back({p + "dw_relu", with(in, {k + 1, k + 2}), here});
      // The project conv's output is forked (a DuplicateStreams) when it is the block's
      // output and the next block adds it back: that block's presence (the depth) or, after
      // the stage's last block, the next stage's width.
      Position project{p + "project", with(in, {width_slot(s), depth_slot(s), k + 1, k + 2}), here};
      if (s + 1 < stages && spec_.stages[s + 1].stride == 1)
        project.context.insert(width_slot(s + 1));
      positions.push_back(project);
      Position add{p + "add", with(in, {width_slot(s)}), {}};
      readers(s, b, add.context);  // includes the depth: presence is enumerated
      positions.push_back(add);
    }
  positions.push_back({"head", {width_slot(stages - 1), head_slot}, {}});
  for (const char* name : {"head_relu", "pool", "classifier"}) positions.push_back({name, {}, {}});

  SelectionSpace out;
  ilp::SelectionProblem& problem = out.problem;
  for (const auto& slot : slots_)
    problem.slot_sizes.push_back(static_cast<int>(slot.choices.size()));
  problem.capacity = device_.usable();
  // Every block's slots keep their first choice while the block is removed (snap's rule).
  for (std::size_t s = 0; s < stages; ++s)
    for (std::size_t b = 0; b < blocks; ++b) {
      const std::vector<ilp::SlotCondition> is_present = present(s, b);
      if (is_present.empty()) continue;
      for (std::size_t i = 0; i < block_slots(); ++i) {
        const std::size_t slot = block_slot(s, b) + i;
        ilp::SlotCondition moved{static_cast<int>(slot), {}};
        for (int c = 1; c < problem.slot_sizes[slot]; ++c) moved.choices.push_back(c);
        if (!moved.choices.empty()) problem.implications.push_back({moved, is_present[0]});
      }
    }

  // A genotype with every block present, on which contexts are written.
  Genotype base(slots_.size(), 0);
  for (std::size_t s = 0; s < stages; ++s)
    base[depth_slot(s)] = static_cast<int>(
        std::max_element(spec_.depth.begin(), spec_.depth.end()) - spec_.depth.begin());
  std::map<std::string, std::vector<hw::Candidate>> candidates;  // by the layer's signature
  Rng unused(0);
  bool transfer_known = false;
  for (const Position& pos : positions) {
    const std::vector<std::size_t> ctx(pos.context.begin(), pos.context.end());
    std::size_t count = 1;
    for (std::size_t slot : ctx) count *= slots_[slot].choices.size();
    if (count > 100000)
      throw core::InputError("space '" + spec_.data + "': layer " + pos.layer + " depends on " +
                             std::to_string(ctx.size()) +
                             " slots, too many contexts for program 4");
    std::vector<int> value(ctx.size(), 0);
    ilp::PartGroup group{{}, pos.always};
    for (std::size_t n = 0; n < count; ++n) {
      Genotype g = base;
      for (std::size_t i = 0; i < ctx.size(); ++i) g[ctx[i]] = value[i];
      // Odometer to the next context.
      for (std::size_t i = 0; i < ctx.size(); ++i) {
        if (++value[i] < static_cast<int>(slots_[ctx[i]].choices.size())) break;
        value[i] = 0;
      }
      ++out.contexts;
      // A context the space cannot hold (a removed block's slot off its first choice).
      const Genotype snapped = snap(g, unused);
      bool reachable = true;
      for (std::size_t slot : ctx) reachable = reachable && snapped[slot] == g[slot];
      if (!reachable) continue;
      const ir::Network net = network(snapped);
      if (!transfer_known) {
        problem.min_ii_cycles = hw::input_transfer_cycles(net, device_);
        transfer_known = true;
      }
      const auto it = std::find_if(net.layers.begin(), net.layers.end(),
                                   [&](const ir::Layer& l) { return l.name == pos.layer; });
      ilp::SelectionPart part;
      part.name = pos.layer;
      part.when = pos.always;
      // One condition per slot: a context slot the position's presence already conditions
      // (a project conv's depth) narrows that condition; a context outside it never holds.
      bool holds = true;
      for (std::size_t k = 0; k < ctx.size(); ++k) {
        const int slot = static_cast<int>(ctx[k]);
        const auto same = std::find_if(part.when.begin(), part.when.end(),
                                       [&](const ilp::SlotCondition& c) { return c.slot == slot; });
        if (same == part.when.end()) {
          part.when.push_back({slot, {snapped[ctx[k]]}});
        } else {
          holds = holds && std::count(same->choices.begin(), same->choices.end(), snapped[ctx[k]]);
          same->choices = {snapped[ctx[k]]};
        }
        part.name += std::string(k == 0 ? " [" : ",") + slots_[ctx[k]].name + "=" +
                     slots_[ctx[k]].choices[static_cast<std::size_t>(snapped[ctx[k]])];
      }
      if (!ctx.empty()) part.name += "]";
      if (!holds) continue;
      // The context without the layer (e.g. no expand conv at expansion 1) stays as a part
      // without hardware, so that the position's parts partition its contexts.
      if (it != net.layers.end()) {
        const std::string signature = layer_key(*it);
        auto c = candidates.find(signature);
        if (c == candidates.end())
          c = candidates.emplace(signature, hw::layer_candidates(*it, device_, map_.cost)).first;
        part.layers.push_back(c->second);
      }
      group.parts.push_back(problem.parts.size());
      problem.parts.push_back(std::move(part));
    }
    problem.groups.push_back(std::move(group));
  }

  // The surrogate's terms: one per slot choice; a block's only while the block is present.
  for (std::size_t slot = 0; slot < slots_.size(); ++slot) {
    std::vector<ilp::SlotCondition> extra;
    for (std::size_t s = 0; s < stages; ++s)
      for (std::size_t b = 0; b < blocks; ++b)
        if (slot >= block_slot(s, b) && slot < block_slot(s, b) + block_slots())
          extra = present(s, b);
    for (std::size_t c = 0; c < slots_[slot].choices.size(); ++c) {
      ilp::SelectionPart term;
      term.name = slots_[slot].name + "=" + slots_[slot].choices[c];
      term.when = extra;
      term.when.push_back({static_cast<int>(slot), {static_cast<int>(c)}});
      out.terms.push_back(problem.parts.size());
      problem.parts.push_back(std::move(term));
    }
  }
  return out;
}

const SelectionSpace* Mbv2Domain::selection() const {
  // Program 4 is over dataflow designs: on another target the hao strategy works from its
  // other candidates, as on a space whose layers depend on too many slots.
  if (target_name() != "dataflow") return nullptr;
  // A bypass moves readers and forks across blocks that contexts do not follow (yet); the
  // contexts do not name layers by operator (yet).
  if (std::count(spec_.expansion.begin(), spec_.expansion.end(), 0) > 0) return nullptr;
  if (spec_.chooses_operators()) return nullptr;
  std::call_once(selection_once_, [&] {
    try {
      selection_ = std::make_unique<SelectionSpace>(build_selection());
    } catch (const core::InputError&) {
      selection_.reset();
    }
  });
  return selection_.get();
}

}  // namespace hao::search
