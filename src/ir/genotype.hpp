// Search-space genotypes that expand into IR networks.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "ir/network.hpp"

namespace hao::ir {

/// One block of an Accel-NASBench genotype: expansion e, kernel k, layers l, squeeze-excite.
struct AnbBlock {
  int e = 0, k = 0, l = 0, se = 0;
};
/// Parses "b0:e6,k3,l1,se0;...;b6:e4,k5,l2,se0" (format below) into its seven blocks.
/// Throws core::InputError naming `where` and every bad token.
std::array<AnbBlock, 7> parse_anb(const std::string& arch, const std::string& where);

/// A NAS-Bench-201 edge operator, in NAS-Bench-201's order.
enum class Nb201Op { kNone, kSkip, kConv1, kConv3, kPool };
/// The six edge operators of a cell in arch_str order: 1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2.
using Nb201Cell = std::array<Nb201Op, 6>;
inline constexpr std::array<std::size_t, 6> kNb201From = {0, 0, 1, 0, 1, 2};
inline constexpr std::array<std::size_t, 6> kNb201To = {1, 2, 2, 3, 3, 3};
/// The index of edge i -> j (i < j) in arch_str order.
constexpr std::size_t nb201_edge(std::size_t i, std::size_t j) { return j * (j - 1) / 2 + i; }
/// Parses "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|...|" (format below).
/// Throws core::InputError naming `where` and every bad edge.
Nb201Cell parse_nb201(const std::string& arch, const std::string& where);
/// An edge is live when it is not `none`, its source is reached from the input (node 0) and
/// its target reaches the output (node 3) through non-none edges.
std::array<bool, 6> nb201_live_edges(const Nb201Cell& cell);

/// An Accel-NASBench MnasNet-space architecture, e.g.
/// "b0:e6,k3,l1,se0;b1:e1,k5,l3,se0;...;b6:e4,k5,l2,se0": seven blocks, each an expansion
/// ratio e in {1,4,6}, kernel k in {3,5}, layers l in {1,2,3,4} and squeeze-excite se in {0,1}.
/// Skeleton (shared/data/README.md; EfficientNet-B0-like, 224x224x3): a 3x3 stride-2 stem to
/// 32 channels; blocks with strides 1,2,2,2,1,2,1, input channels 32,16,24,40,80,112,192 and
/// output channels 16,24,40,80,112,192,320 (stride and channel change on a block's first
/// layer); a 1x1 head to 1280, global pooling and a 1000-way classifier. Each layer is an
/// MBConv: 1x1 expand (absent when e = 1), kxk depthwise, optional squeeze-excite reducing to
/// int(Cin/4) channels of the layer's input (sigmoid gate), 1x1 project, and a residual add
/// when stride is 1 and channels match. Convolutions carry a folded batch norm and are
/// followed by ReLU (the project conv is linear). Layer names start with "b<i>_<j>_" so a
/// block's layers can be grouped. Throws core::InputError naming `where` and the bad token.
Network expand_anb(const std::string& arch, const std::string& where);

/// A NAS-Bench-201 cell, e.g. "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|...|",
/// on the NAS-Bench-201 skeleton: 32x32x3 input, a 3x3 stem to 16 channels, three stages of
/// five cells at 16, 32 and 64 channels, with a residual reduction block (ReLU-conv3x3
/// stride 2, ReLU-conv3x3, shortcut 2x2 average pool and 1x1 conv) between stages, then
/// batch norm and ReLU (its `lastact`), global pooling and a `classes`-way classifier. In a cell,
/// node j sums op(node i) over i < j; ops are none, skip_connect, nor_conv_1x1 and nor_conv_3x3
/// (ReLU, conv, folded batch norm) and avg_pool_3x3. As in NAS-Bench-201's reference network every
/// op but none computes, also on a node that receives nothing (a zero tensor there; here wired to
/// the cell input, which has the same shape and cost). HW-NAS-Bench's FPGA latencies are exactly
/// additive in these op counts; pruning the ops on zero nodes would hide cost the reference pays.
///
/// With `live_only` (Nb201Macro) the cell computes what it does as a function, for training:
/// only live edges (nb201_live_edges); a dead edge's op either feeds nothing the output sees
/// or reads a node that holds only zeros (for a skip or pool, zeros; for a convolution, its
/// batch norm's constant shift, dropped). A cut cell (no live edge) throws InputError: every
/// network of such cells outputs a constant.
struct Nb201Macro {
  Shape input{3, 32, 32};  ///< CIFAR-10's; the stem reads input.c channels
  int classes = 10;
  bool live_only = false;
};
Network expand_nb201(const std::string& arch, const std::string& where,
                     const Nb201Macro& macro = {});

/// An AutoShrink cell: a DAG of nodes, each an operator over the concatenation of its
/// predecessors' outputs, written node by node as "OP:PREDS;OP:PREDS;...", node i (from 1) the
/// i-th entry, PREDS a comma-separated list of earlier nodes (0 = the cell input), e.g.
/// "sep3:0;conv1:0,1;sep3:1,2;conv1:0,3". Operators: sep3 and sep5 (separable: ReLU,
/// depthwise kxk, pointwise 1x1, batch norm), conv1 and conv3 (ReLU, conv, batch norm); each
/// node outputs the cell's width. An empty PREDS ("conv1:") is a node whose edges were all
/// shrunk away; a node is dropped when no path from the input reaches it. At most 100 nodes.
/// The cell's output is the concatenation of its leaves (nodes that feed no other), brought
/// back to the width by a 1x1 convolution (ReLU, conv, batch norm) so that cells chain.
/// The operators an AutoShrink node can be: sep3, sep5, conv1, conv3. (Inline: the space
/// reader, fuzzed without the IR library, checks a space's nodes against it.)
inline const std::vector<std::string>& autoshrink_ops() {
  static const std::vector<std::string> ops = {"sep3", "sep5", "conv1", "conv3"};
  return ops;
}
struct AutoShrinkNode {
  std::string op;
  std::vector<int> preds;
};
std::vector<AutoShrinkNode> parse_autoshrink(const std::string& cell, const std::string& where);

/// The macro network around an AutoShrink cell: a 3x3 stem to 16 channels, three stages of
/// `cells_per_stage` cells at 16, 32 and 64 channels with a stride-2 3x3 convolution (batch
/// norm, ReLU) between stages, then global pooling and the classifier. Throws InputError for
/// a bad cell or one whose output no path from the input reaches.
struct AutoShrinkMacro {
  Shape input{1, 28, 28};
  int classes = 10;
  int cells_per_stage = 1;
};
Network expand_autoshrink(const std::string& cell, const std::string& where,
                          const AutoShrinkMacro& macro = {});

/// A network named by its genotype, as a model argument of hao's commands: "nb201:ARCH" is
/// the NAS-Bench-201 cell ARCH in its macro network with live edges only, "autoshrink:CELL"
/// an AutoShrink cell in its macro network, each for `input` images of `classes` classes.
/// Throws InputError for another prefix or a bad or cut cell.
bool is_genotype_model(const std::string& model);
Network genotype_model(const std::string& model, const Shape& input, int classes);

}  // namespace hao::ir
