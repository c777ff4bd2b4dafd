// NN-Degree (FLASH: Li, Mandal, Ogras and Marculescu, arXiv 2108.00568): a training-free
// measure of a network's topology, FLASH's input to its accuracy predictor. A cell's channel
// graph has one vertex per output channel of each of its layers and one incoming edge per input
// channel a vertex reads: an output channel of a convolution reads every channel of its input,
// one of a depthwise convolution, a pooling or an identity reads one. A cell's degree is the
// average in-degree of its vertices; a network's NN-Degree is the sum over its cells. Counting
// in-edges halves the undirected average degree 2|E|/|V| everywhere, which ranks alike.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "search/domain.hpp"

namespace hao::search {

/// A cell of FLASH's DenseNet-type space: `depth` layers of `width` channels; every layer but the
/// first also reads `skips` channels of earlier layers (long-range links). Its degree is
/// w + t (d - 1) / d: each of the w d vertices reads the w channels before it, and the w (d - 1)
/// vertices of layers 2..d read t more.
struct DenseCell {
  int width = 0, depth = 0, skips = 0;
};
double dense_cell_degree(const DenseCell& cell);
double nn_degree(const std::vector<DenseCell>& cells);
/// A cell of hao's densenet space (DenseSpec): `depth` layers of `width` channels after its
/// transition, layer j reading its predecessor and min(skips, j - 1) earlier layers of `width`
/// channels (whole layers: hao has no channel-slice operation, so its long-range links come in
/// multiples of the width). Average in-degree w + w sum_j min(t, j - 1) / d; FLASH's formula
/// with t w skip channels when every layer has all t.
double dense_window_cell_degree(int width, int depth, int skips);

/// One layer of an inverted-residual (MBConv) stage: 1x1 expansion to `in` x `expansion`
/// channels (none at expansion 1), depthwise k x k, 1x1 projection to `out`, and the identity
/// when `residual`. Squeeze-excite adds no channel-graph edges (a channel's scale, not a link).
struct MbconvLayer {
  int in = 0, out = 0, expansion = 1;
  bool residual = false;
};
/// The average in-degree of one stage: expansion vertices read `in`, depthwise ones 1,
/// projection ones in x expansion (+1 with the identity).
double mbconv_stage_degree(const std::vector<MbconvLayer>& stage);

/// NAS-Bench-201 cells: the genotype is the six edge operations (TabularDomain's slots: edges
/// 1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2; ops none, skip, conv 1x1, conv 3x3, avg-pool 3x3).
/// An edge is live when it is not `none`, its source is reached from the input and its
/// target reaches the output (node 3) through non-none edges.
std::array<bool, 6> nb201_live_edges(const Genotype& ops);

/// How a NAS-Bench-201 cell's links are counted. Per computed node (3 of them, C channels each)
/// an output channel reads, per incoming edge: C channels through a convolution, 1 through a
/// skip or a pooling, none through `none`:
///  - kChannels: every edge as written (FLASH's convention applied to the cell as it is given);
///  - kLive: only live edges (a dead branch feeds nothing the output sees);
///  - kWeights: live edges, each link weighted by its kernel positions (3x3: 9 C, pooling 9).
enum class Nb201Counting { kChannels, kLive, kWeights };
const std::vector<std::string>& nb201_counting_names();  ///< "channels", "live", "weights"
/// InputError listing the names otherwise.
Nb201Counting nb201_counting(const std::string& name);

/// NN-Degree of the whole NAS-Bench-201 network: 5 cells in each of 3 stages at 16, 32 and 64
/// channels. The stem, the two residual reduction blocks and the classifier are the same for
/// every genotype and left out.
double nb201_nn_degree(const Genotype& ops, Nb201Counting counting);
/// Weights of the network's 15 cells (the part that varies: 1x1 convolutions C^2, 3x3 9 C^2).
double nb201_cell_parameters(const Genotype& ops);

/// Accel-NASBench's MnasNet space (data README): blocks b0..b6 with input channels 32, 16, 24,
/// 40, 80, 112, 192, output channels 16, 24, 40, 80, 112, 192, 320; a block's `layers` MBConv
/// layers at expansion e (the first maps in -> out, the rest out -> out with the identity).
struct MnasBlock {
  int expansion = 1, kernel = 3, layers = 1;
  bool se = false;
};
double mnas_nn_degree(const std::vector<MnasBlock>& blocks);
/// Weights of the seven blocks (convolutions, and squeeze-excite at a quarter of the input).
double mnas_parameters(const std::vector<MnasBlock>& blocks);

}  // namespace hao::search
