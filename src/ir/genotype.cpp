#include "ir/genotype.hpp"

#include <algorithm>
#include <array>
#include <regex>
#include <string_view>

#include "core/error.hpp"
#include "core/text.hpp"

namespace hao::ir {
namespace {

// Appends a layer and returns its index; shapes are inferred once the network is complete.
class Builder {
 public:
  explicit Builder(Network& net) : net_(net) {}

  int conv(const std::string& name, int input, std::int64_t out, std::int64_t k,
           std::int64_t stride, bool depthwise = false, bool norm = true, bool bias = false) {
    Layer l;
    l.name = name;
    l.op = OpKind::kConv;
    l.inputs = {input};
    l.out_channels = depthwise ? 0 : out;
    l.depthwise = depthwise;
    l.kernel_h = l.kernel_w = k;
    l.stride_h = l.stride_w = stride;
    l.pad_top = l.pad_left = l.pad_bottom = l.pad_right = k / 2;
    l.folded_norm = norm;
    l.has_bias = bias;
    return push(std::move(l));
  }
  int act(const std::string& name, int input, ActKind kind = ActKind::kRelu, bool norm = false) {
    Layer l;
    l.name = name;
    l.op = OpKind::kAct;
    l.act = kind;
    l.inputs = {input};
    l.folded_norm = norm;
    return push(std::move(l));
  }
  int op(const std::string& name, OpKind kind, std::vector<int> inputs) {
    Layer l;
    l.name = name;
    l.op = kind;
    l.inputs = std::move(inputs);
    return push(std::move(l));
  }
  int pool(const std::string& name, int input, std::int64_t k, std::int64_t stride,
           std::int64_t pad) {
    Layer l;
    l.name = name;
    l.op = OpKind::kAvgPool;
    l.inputs = {input};
    l.kernel_h = l.kernel_w = k;
    l.stride_h = l.stride_w = stride;
    l.pad_top = l.pad_left = l.pad_bottom = l.pad_right = pad;
    return push(std::move(l));
  }
  int fc(const std::string& name, int input, std::int64_t out) {
    Layer l;
    l.name = name;
    l.op = OpKind::kFc;
    l.inputs = {input};
    l.out_channels = out;
    l.has_bias = true;
    return push(std::move(l));
  }

 private:
  int push(Layer l) {
    net_.layers.push_back(std::move(l));
    return static_cast<int>(net_.layers.size()) - 1;
  }
  Network& net_;
};

// The images a cell network is built for, checked once for both cell macros.
void check_images(const Shape& input, int classes, const std::string& where) {
  if (classes < 1 || input.c < 1 || input.h < 8 || input.w < 8)
    throw core::InputError(where + ": classes must be >= 1 and the input at least 1x8x8, given " +
                           std::to_string(classes) + " classes and " + to_string(input));
}

// The head both cell macros end in: ReLU (after a batch norm with `norm`), global pooling and
// the classifier.
void classify(Builder& b, Network& net, int x, int classes, const std::string& where, bool norm) {
  x = b.act("final_relu", x, ActKind::kRelu, norm);
  x = b.op("pool", OpKind::kGlobalAvgPool, {x});
  b.fc("classifier", x, classes);
  infer_shapes(net, where);
}

constexpr std::string_view kNb201Prefix = "nb201:", kAutoShrinkPrefix = "autoshrink:";

bool starts_with(const std::string& text, std::string_view prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

std::array<AnbBlock, 7> parse_anb(const std::string& arch, const std::string& where) {
  static const std::regex kBlock(
      "^b([0-6]):e([0-9]{1,4}),k([0-9]{1,4}),l([0-9]{1,4}),se([0-9]{1,4})$");  // stoi-safe
  std::array<AnbBlock, 7> blocks{};
  std::array<bool, 7> seen{};
  core::IssueList issues(where);
  for (const auto& p : core::split(core::without(arch, " \""), ';')) {
    std::smatch m;
    if (!std::regex_match(p, m, kBlock)) {
      issues.add("", "token '" + p + "' is not bI:eE,kK,lL,seS with I in 0..6");
      continue;
    }
    const auto i = static_cast<std::size_t>(std::stoi(m[1].str()));
    AnbBlock b{std::stoi(m[2].str()), std::stoi(m[3].str()), std::stoi(m[4].str()),
               std::stoi(m[5].str())};
    if (b.e != 1 && b.e != 4 && b.e != 6)
      issues.add(p, "expansion e" + std::to_string(b.e) + ", expected e1, e4 or e6");
    if (b.k != 3 && b.k != 5)
      issues.add(p, "kernel k" + std::to_string(b.k) + ", expected k3 or k5");
    if (b.l < 1 || b.l > 4) issues.add(p, "layers l" + std::to_string(b.l) + ", expected l1..l4");
    if (b.se > 1) issues.add(p, "se" + std::to_string(b.se) + ", expected se0 or se1");
    if (seen[i]) issues.add(p, "block b" + std::to_string(i) + " given twice");
    seen[i] = true;
    blocks[i] = b;
  }
  for (std::size_t i = 0; i < 7; ++i)
    if (!seen[i]) issues.add("", "block b" + std::to_string(i) + " is missing");
  issues.throw_if_any();
  return blocks;
}

Network expand_anb(const std::string& arch, const std::string& where) {
  const std::array<AnbBlock, 7> blocks = parse_anb(arch, where);

  constexpr std::array<int, 7> kStride = {1, 2, 2, 2, 1, 2, 1};
  constexpr std::array<int, 7> kIn = {32, 16, 24, 40, 80, 112, 192};
  constexpr std::array<int, 7> kOut = {16, 24, 40, 80, 112, 192, 320};
  Network net;
  net.name = "anb";
  net.input = {3, 224, 224};
  Builder b(net);
  int x = b.act("stem_relu", b.conv("stem", kNetworkInput, 32, 3, 2));
  for (std::size_t i = 0; i < 7; ++i) {
    const AnbBlock& blk = blocks[i];
    for (int j = 0; j < blk.l; ++j) {
      const std::string p = "b" + std::to_string(i) + "_" + std::to_string(j) + "_";
      const std::int64_t cin = j == 0 ? kIn[i] : kOut[i];
      const std::int64_t stride = j == 0 ? kStride[i] : 1;
      const int block_input = x;
      int h = x;
      if (blk.e != 1) h = b.act(p + "expand_relu", b.conv(p + "expand", h, cin * blk.e, 1, 1));
      h = b.act(p + "dw_relu", b.conv(p + "dw", h, 0, blk.k, stride, true));
      if (blk.se) {
        const std::int64_t reduced = std::max<std::int64_t>(1, cin / 4);
        int s = b.op(p + "se_pool", OpKind::kGlobalAvgPool, {h});
        s = b.act(p + "se_relu", b.conv(p + "se_reduce", s, reduced, 1, 1, false, false, true));
        s = b.act(p + "se_gate", b.conv(p + "se_expand", s, cin * blk.e, 1, 1, false, false, true),
                  ActKind::kSigmoid);
        h = b.op(p + "se_scale", OpKind::kMul, {h, s});
      }
      h = b.conv(p + "project", h, kOut[i], 1, 1);
      if (stride == 1 && cin == kOut[i]) h = b.op(p + "add", OpKind::kAdd, {block_input, h});
      x = h;
    }
  }
  x = b.act("head_relu", b.conv("head", x, 1280, 1, 1));
  x = b.op("pool", OpKind::kGlobalAvgPool, {x});
  b.fc("classifier", x, 1000);
  infer_shapes(net, where);
  return net;
}

Nb201Cell parse_nb201(const std::string& arch, const std::string& where) {
  // "|op~0|+|op~0|op~1|+|op~0|op~1|op~2|": node j (1..3) lists its j incoming edges.
  Nb201Cell cell{};
  core::IssueList issues(where);
  const std::vector<std::string> nodes = core::split(core::without(arch, " \""), '+');
  if (nodes.size() != 3) {
    issues.add("", "'" + arch + "' has " + std::to_string(nodes.size()) +
                       " node groups separated by '+', expected 3");
    issues.throw_if_any();
  }
  static const std::regex kEdge("^([a-z_0-9]+)~([0-9])$");
  for (std::size_t j = 1; j <= 3; ++j) {
    const std::vector<std::string> tokens = core::split(nodes[j - 1], '|', false);
    if (tokens.size() != j) {
      issues.add("node " + std::to_string(j),
                 std::to_string(tokens.size()) + " edges, expected " + std::to_string(j));
      continue;
    }
    for (std::size_t i = 0; i < j; ++i) {
      std::smatch m;
      if (!std::regex_match(tokens[i], m, kEdge) || std::stoul(m[2].str()) != i) {
        issues.add("node " + std::to_string(j),
                   "edge '" + tokens[i] + "', expected OP~" + std::to_string(i));
        continue;
      }
      const std::string op = m[1].str();
      Nb201Op o = Nb201Op::kNone;
      if (op == "none")
        o = Nb201Op::kNone;
      else if (op == "skip_connect")
        o = Nb201Op::kSkip;
      else if (op == "nor_conv_1x1")
        o = Nb201Op::kConv1;
      else if (op == "nor_conv_3x3")
        o = Nb201Op::kConv3;
      else if (op == "avg_pool_3x3")
        o = Nb201Op::kPool;
      else {
        issues.add(
            "node " + std::to_string(j),
            "unknown op '" + op +
                "', expected none, skip_connect, nor_conv_1x1, nor_conv_3x3 or avg_pool_3x3");
        continue;
      }
      cell[nb201_edge(i, j)] = o;
    }
  }
  issues.throw_if_any();
  return cell;
}

std::array<bool, 6> nb201_live_edges(const Nb201Cell& cell) {
  const auto on = [&](std::size_t e) { return cell[e] != Nb201Op::kNone; };
  std::array<bool, 4> reached = {true, false, false, false};
  for (std::size_t e = 0; e < 6; ++e)
    reached[kNb201To[e]] = reached[kNb201To[e]] || (reached[kNb201From[e]] && on(e));
  std::array<bool, 4> reaches = {false, false, false, true};
  for (std::size_t e = 6; e-- > 0;)
    reaches[kNb201From[e]] = reaches[kNb201From[e]] || (reaches[kNb201To[e]] && on(e));
  std::array<bool, 6> live{};
  for (std::size_t e = 0; e < 6; ++e)
    live[e] = on(e) && reached[kNb201From[e]] && reaches[kNb201To[e]];
  return live;
}

Network expand_nb201(const std::string& arch, const std::string& where, const Nb201Macro& macro) {
  const Nb201Cell ops = parse_nb201(arch, where);
  check_images(macro.input, macro.classes, where);
  std::array<bool, 6> computed{};
  for (std::size_t e = 0; e < 6; ++e) computed[e] = ops[e] != Nb201Op::kNone;
  if (macro.live_only) {
    computed = nb201_live_edges(ops);
    if (std::none_of(computed.begin(), computed.end(), [](bool b) { return b; }))
      throw core::InputError(where + ": cell '" + arch +
                             "' has no path from input to output through non-none edges; every "
                             "network of such cells outputs a constant");
  }

  Network net;
  net.name = "nb201";
  net.input = macro.input;
  Builder b(net);
  int x = b.conv("stem", kNetworkInput, 16, 3, 1);
  constexpr std::array<int, 3> kChannels = {16, 32, 64};
  for (std::size_t stage = 0; stage < 3; ++stage) {
    const std::int64_t c = kChannels[stage];
    if (stage > 0) {
      const std::string p = "reduce" + std::to_string(stage) + "_";
      int a = b.conv(p + "conv_a", b.act(p + "relu_a", x), c, 3, 2);
      a = b.conv(p + "conv_b", b.act(p + "relu_b", a), c, 3, 1);
      int s = b.pool(p + "shortcut_pool", x, 2, 2, 0);
      s = b.conv(p + "shortcut_conv", s, c, 1, 1, false, false);
      x = b.op(p + "add", OpKind::kAdd, {a, s});
    }
    for (int cell = 0; cell < 5; ++cell) {
      const std::string p = "s" + std::to_string(stage) + "c" + std::to_string(cell) + "_";
      // As NAS-Bench-201's reference network does, every edge other than `none` computes,
      // even on a node that only ever holds zeros (no edge into it but `none`); such a node
      // is wired to the cell input, a stand-in of the same shape and the same cost.
      // (HW-NAS-Bench's FPGA latencies are exactly additive in these op counts.)
      std::array<int, 4> node{};
      node[0] = x;
      for (std::size_t j = 1; j <= 3; ++j) {
        std::vector<int> terms;
        for (std::size_t i = 0; i < j; ++i) {
          const std::size_t edge = nb201_edge(i, j);
          if (!computed[edge]) continue;
          const Nb201Op o = ops[edge];
          const std::string e = p + std::to_string(i) + "to" + std::to_string(j) + "_";
          if (o == Nb201Op::kSkip) terms.push_back(node[i]);
          if (o == Nb201Op::kConv1 || o == Nb201Op::kConv3)
            terms.push_back(
                b.conv(e + "conv", b.act(e + "relu", node[i]), c, o == Nb201Op::kConv1 ? 1 : 3, 1));
          if (o == Nb201Op::kPool) terms.push_back(b.pool(e + "pool", node[i], 3, 1, 1));
        }
        node[j] = terms.empty()       ? x
                  : terms.size() == 1 ? terms[0]
                                      : b.op(p + "node" + std::to_string(j), OpKind::kAdd, terms);
      }
      x = node[3];
    }
  }
  // NAS-Bench-201's `lastact`: a batch norm, then ReLU. Without the norm a cell of skips and
  // pools (whose sums grow each cell) reaches the classifier at a scale SGD diverges on.
  classify(b, net, x, macro.classes, where, true);
  return net;
}

std::vector<AutoShrinkNode> parse_autoshrink(const std::string& cell, const std::string& where) {
  const std::vector<std::string>& kOps = autoshrink_ops();
  std::vector<AutoShrinkNode> nodes;
  core::IssueList issues(where);
  const std::vector<std::string> entries = core::split(core::without(cell, " \""), ';');
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const std::string node = "node " + std::to_string(i + 1);
    const auto colon = entries[i].find(':');
    AutoShrinkNode n;
    n.op = entries[i].substr(0, colon);
    if (colon == std::string::npos || std::find(kOps.begin(), kOps.end(), n.op) == kOps.end()) {
      issues.add(
          node, "'" + entries[i] + "', expected OP:PREDS with OP one of " + core::join(kOps, ", "));
      nodes.push_back(n);
      continue;
    }
    for (const std::string& p : core::split(entries[i].substr(colon + 1), ',', false)) {
      int pred = -1;
      if (p.empty() || p.size() > 3 ||
          !std::all_of(p.begin(), p.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
          (pred = std::stoi(p)) > static_cast<int>(i)) {
        issues.add(node, "predecessor '" + p + "', expected a node from 0 (the input) to " +
                             std::to_string(i));
        continue;
      }
      if (std::find(n.preds.begin(), n.preds.end(), pred) != n.preds.end())
        issues.add(node, "predecessor " + p + " given twice");
      n.preds.push_back(pred);
    }
    nodes.push_back(n);
  }
  if (entries.empty() || cell.empty()) issues.add("", "no nodes");
  if (entries.size() > 100)
    issues.add("", std::to_string(entries.size()) + " nodes, expected at most 100");
  issues.throw_if_any();
  return nodes;
}

Network expand_autoshrink(const std::string& cell, const std::string& where,
                          const AutoShrinkMacro& macro) {
  const std::vector<AutoShrinkNode> nodes = parse_autoshrink(cell, where);
  check_images(macro.input, macro.classes, where);
  if (macro.cells_per_stage < 1)
    throw core::InputError(where + ": cells per stage must be >= 1, given " +
                           std::to_string(macro.cells_per_stage));
  // Reached from the input, and feeding another reached node.
  const std::size_t n = nodes.size();
  std::vector<bool> reached(n + 1, false), feeds(n + 1, false);
  reached[0] = true;
  for (std::size_t i = 1; i <= n; ++i)
    for (int p : nodes[i - 1].preds)
      reached[i] = reached[i] || reached[static_cast<std::size_t>(p)];
  for (std::size_t i = 1; i <= n; ++i)
    if (reached[i])
      for (int p : nodes[i - 1].preds) feeds[static_cast<std::size_t>(p)] = true;
  std::vector<std::size_t> leaves;
  for (std::size_t i = 1; i <= n; ++i)
    if (reached[i] && !feeds[i]) leaves.push_back(i);
  if (leaves.empty())
    throw core::InputError(where + ": cell '" + cell +
                           "' has no node that a path from the input reaches");

  Network net;
  net.name = "autoshrink";
  net.input = macro.input;
  Builder b(net);
  constexpr std::array<int, 3> kChannels = {16, 32, 64};
  int x = b.act("stem_relu", b.conv("stem", kNetworkInput, kChannels[0], 3, 1));
  for (std::size_t stage = 0; stage < 3; ++stage) {
    const std::int64_t c = kChannels[stage];
    if (stage > 0) {
      const std::string p = "reduce" + std::to_string(stage);
      x = b.act(p + "_relu", b.conv(p, x, c, 3, 2));
    }
    for (int k = 0; k < macro.cells_per_stage; ++k) {
      const std::string p = "s" + std::to_string(stage) + "c" + std::to_string(k) + "_";
      std::vector<int> out(n + 1, -1);
      out[0] = x;
      for (std::size_t i = 1; i <= n; ++i) {
        if (!reached[i]) continue;
        std::vector<int> in;
        for (int q : nodes[i - 1].preds)
          if (reached[static_cast<std::size_t>(q)]) in.push_back(out[static_cast<std::size_t>(q)]);
        const std::string name = p + "n" + std::to_string(i) + "_";
        int h = in.size() == 1 ? in[0] : b.op(name + "concat", OpKind::kConcat, in);
        h = b.act(name + "relu", h);
        const std::string& op = nodes[i - 1].op;
        if (op == "sep3" || op == "sep5") {
          h = b.conv(name + "dw", h, 0, op == "sep3" ? 3 : 5, 1, true, false);
          h = b.conv(name + "pw", h, c, 1, 1);
        } else {
          h = b.conv(name + "conv", h, c, op == "conv1" ? 1 : 3, 1);
        }
        out[i] = h;
      }
      std::vector<int> leaf_outputs;
      for (std::size_t i : leaves) leaf_outputs.push_back(out[i]);
      int y = leaf_outputs.size() == 1 ? leaf_outputs[0]
                                       : b.op(p + "concat", OpKind::kConcat, leaf_outputs);
      if (leaf_outputs.size() > 1) y = b.conv(p + "combine", b.act(p + "combine_relu", y), c, 1, 1);
      x = y;
    }
  }
  classify(b, net, x, macro.classes, where, false);
  return net;
}

bool is_genotype_model(const std::string& model) {
  return starts_with(model, kNb201Prefix) || starts_with(model, kAutoShrinkPrefix);
}

Network genotype_model(const std::string& model, const Shape& input, int classes) {
  if (starts_with(model, kAutoShrinkPrefix)) {
    AutoShrinkMacro macro;
    macro.input = input;
    macro.classes = classes;
    return expand_autoshrink(model.substr(kAutoShrinkPrefix.size()), "model " + model, macro);
  }
  if (!starts_with(model, kNb201Prefix))
    throw core::InputError("model '" + model +
                           "' is not a genotype (expected nb201:ARCH or autoshrink:CELL)");
  Nb201Macro macro;
  macro.input = input;
  macro.classes = classes;
  macro.live_only = true;
  return expand_nb201(model.substr(kNb201Prefix.size()), "model " + model, macro);
}

}  // namespace hao::ir
