#include "search/nn_degree.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "core/text.hpp"
#include "ir/genotype.hpp"

namespace hao::search {
namespace {

constexpr int kNone = 0, kSkip = 1, kConv1 = 2, kConv3 = 3, kPool = 4;
constexpr int kStageChannels[3] = {16, 32, 64};
constexpr int kCellsPerStage = 5;
constexpr int kMnasIn[7] = {32, 16, 24, 40, 80, 112, 192};
constexpr int kMnasOut[7] = {16, 24, 40, 80, 112, 192, 320};

void check_nb201(const Genotype& ops) {
  HAO_CHECK(ops.size() == 6, "a NAS-Bench-201 genotype has six edges");
  for (int op : ops) HAO_CHECK(op >= kNone && op <= kPool, "NAS-Bench-201 op out of range");
}

}  // namespace

double dense_cell_degree(const DenseCell& c) {
  HAO_CHECK(c.width > 0 && c.depth > 0 && c.skips >= 0, "a dense cell needs width, depth > 0");
  return c.width + static_cast<double>(c.skips) * (c.depth - 1) / c.depth;
}

double nn_degree(const std::vector<DenseCell>& cells) {
  double sum = 0;
  for (const auto& c : cells) sum += dense_cell_degree(c);
  return sum;
}

double dense_window_cell_degree(int width, int depth, int skips) {
  HAO_CHECK(width > 0 && depth > 0 && skips >= 0, "a dense cell needs width, depth > 0");
  double links = 0;
  for (int j = 1; j <= depth; ++j)
    links += width + static_cast<double>(width) * std::min(skips, j - 1);
  return links / depth;
}

double mbconv_stage_degree(const std::vector<MbconvLayer>& stage) {
  double edges = 0, vertices = 0;
  for (const auto& l : stage) {
    HAO_CHECK(l.in > 0 && l.out > 0 && l.expansion > 0, "an MBConv layer needs channels");
    const double hidden = static_cast<double>(l.in) * l.expansion;
    if (l.expansion > 1) {
      vertices += hidden;
      edges += hidden * l.in;
    }
    vertices += hidden;  // depthwise: one input channel each
    edges += hidden;
    vertices += l.out;
    edges += l.out * (hidden + (l.residual ? 1 : 0));
  }
  return vertices > 0 ? edges / vertices : 0;
}

std::array<bool, 6> nb201_live_edges(const Genotype& ops) {
  check_nb201(ops);
  ir::Nb201Cell cell{};
  for (std::size_t e = 0; e < 6; ++e) cell[e] = static_cast<ir::Nb201Op>(ops[e]);
  return ir::nb201_live_edges(cell);
}

const std::vector<std::string>& nb201_counting_names() {
  static const std::vector<std::string> names{"channels", "live", "weights"};
  return names;
}

Nb201Counting nb201_counting(const std::string& name) {
  const auto& names = nb201_counting_names();
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return static_cast<Nb201Counting>(i);
  throw core::InputError("NN-Degree counting '" + name + "', expected one of " +
                         core::join(names, ", "));
}

double nb201_nn_degree(const Genotype& ops, Nb201Counting counting) {
  check_nb201(ops);
  const std::array<bool, 6> live = nb201_live_edges(ops);
  double sum = 0;
  for (int channels : kStageChannels) {
    double links = 0;  // per output channel of the cell's three computed nodes together
    for (int e = 0; e < 6; ++e) {
      if (counting != Nb201Counting::kChannels && !live[e]) continue;
      const int op = ops[static_cast<std::size_t>(e)];
      const bool weights = counting == Nb201Counting::kWeights;
      if (op == kConv1) links += channels;
      if (op == kConv3) links += (weights ? 9.0 : 1.0) * channels;
      if (op == kSkip) links += 1;
      if (op == kPool) links += weights ? 9.0 : 1.0;
    }
    sum += kCellsPerStage * links / 3.0;
  }
  return sum;
}

double nb201_cell_parameters(const Genotype& ops) {
  check_nb201(ops);
  double p = 0;
  for (int channels : kStageChannels)
    for (int op : ops) {
      const double c2 = static_cast<double>(channels) * channels;
      if (op == kConv1) p += kCellsPerStage * c2;
      if (op == kConv3) p += kCellsPerStage * 9 * c2;
    }
  return p;
}

double mnas_nn_degree(const std::vector<MnasBlock>& blocks) {
  HAO_CHECK(blocks.size() == 7, "the MnasNet space has seven blocks");
  double sum = 0;
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    std::vector<MbconvLayer> stage;
    for (int l = 0; l < blocks[b].layers; ++l)
      stage.push_back({l == 0 ? kMnasIn[b] : kMnasOut[b], kMnasOut[b], blocks[b].expansion, l > 0});
    sum += mbconv_stage_degree(stage);
  }
  return sum;
}

double mnas_parameters(const std::vector<MnasBlock>& blocks) {
  HAO_CHECK(blocks.size() == 7, "the MnasNet space has seven blocks");
  double p = 0;
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    const MnasBlock& k = blocks[b];
    for (int l = 0; l < k.layers; ++l) {
      const double in = l == 0 ? kMnasIn[b] : kMnasOut[b], out = kMnasOut[b];
      const double hidden = in * k.expansion;
      if (k.expansion > 1) p += in * hidden;
      p += hidden * k.kernel * k.kernel + hidden * out;
      if (k.se) p += 2 * hidden * (in / 4);
    }
  }
  return p;
}

}  // namespace hao::search
