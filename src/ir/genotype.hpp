// Search-space genotypes that expand into IR networks.
#pragma once

#include <string>

#include "ir/network.hpp"

namespace hao::ir {

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
/// ReLU, global pooling and a `classes`-way classifier. In a cell, node j sums op(node i) over
/// i < j; ops are none, skip_connect, nor_conv_1x1 and nor_conv_3x3 (ReLU, conv, folded batch
/// norm) and avg_pool_3x3. As in NAS-Bench-201's reference network every op but none computes,
/// also on a node that receives nothing (a zero tensor there; here wired to the cell input,
/// which has the same shape and cost). HW-NAS-Bench's FPGA latencies are exactly additive in
/// these op counts; pruning the ops on zero nodes would hide cost the reference pays.
Network expand_nb201(const std::string& arch, const std::string& where, int classes = 10,
                     int resolution = 32);

}  // namespace hao::ir
