#include "predict/arch_features.hpp"

#include <array>

#include "core/error.hpp"
#include "ir/genotype.hpp"

namespace hao::predict {
namespace {

const std::array<const char*, 5> kNb201Ops = {"none", "skip_connect", "nor_conv_1x1",
                                              "nor_conv_3x3", "avg_pool_3x3"};
const std::array<const char*, 6> kNb201Edges = {"1<-0", "2<-0", "2<-1", "3<-0", "3<-1", "3<-2"};
constexpr std::array<int, 3> kAnbExpansions = {1, 4, 6};
constexpr std::array<int, 2> kAnbKernels = {3, 5};
constexpr int kAnbMaxLayers = 4;
constexpr std::size_t kNb201OneHot = 30;  // six edges x five operators

std::vector<double> nb201_features(const ir::Nb201Cell& cell) {
  std::vector<double> f(66, 0.0);
  const std::array<bool, 6> live = ir::nb201_live_edges(cell);
  for (std::size_t e = 0; e < 6; ++e) {
    const auto op = static_cast<std::size_t>(cell[e]);
    f[e * 5 + op] = 1;
    f[30 + e * 5 + (live[e] ? op : 0)] = 1;
  }
  std::array<bool, 4> zero = {false, false, false, false};
  std::array<bool, 4> depends = {true, false, false, false};
  for (std::size_t node = 1; node < 4; ++node) {
    bool all_zero = true;
    for (std::size_t e = 0; e < 6; ++e) {
      if (ir::kNb201To[e] != node) continue;
      const ir::Nb201Op op = cell[e];
      const std::size_t from = ir::kNb201From[e];
      if (op == ir::Nb201Op::kNone) continue;
      depends[node] = depends[node] || depends[from];
      // A convolution of zeros is its batch norm's shift, not zero.
      const bool passes_zero = op == ir::Nb201Op::kSkip || op == ir::Nb201Op::kPool;
      all_zero = all_zero && passes_zero && zero[from];
    }
    zero[node] = all_zero;
    f[60 + node - 1] = zero[node] ? 1 : 0;
    f[63 + node - 1] = depends[node] ? 1 : 0;
  }
  return f;
}

std::vector<double> anb_features(const std::array<ir::AnbBlock, 7>& blocks) {
  std::vector<double> f;
  for (const ir::AnbBlock& b : blocks) {
    for (int e : kAnbExpansions) f.push_back(b.e == e ? 1 : 0);
    for (int k : kAnbKernels) f.push_back(b.k == k ? 1 : 0);
    for (int l = 1; l <= kAnbMaxLayers; ++l) f.push_back(b.l == l ? 1 : 0);
    f.push_back(b.se ? 1 : 0);
  }
  return f;
}

}  // namespace

Encoding parse_encoding(const std::string& name) {
  if (name == "structure") return Encoding::kStructure;
  if (name == "onehot") return Encoding::kOneHot;
  throw core::InputError("--encoding: '" + name + "', expected structure or onehot");
}

std::string encoding_name(Encoding encoding) {
  return encoding == Encoding::kStructure ? "structure" : "onehot";
}

std::vector<double> arch_features(Space space, const std::string& arch, const std::string& where,
                                  Encoding encoding) {
  if (space == Space::kAnb) return anb_features(ir::parse_anb(arch, where));
  std::vector<double> f = nb201_features(ir::parse_nb201(arch, where));
  if (encoding == Encoding::kOneHot) f.resize(kNb201OneHot);
  return f;
}

std::vector<std::string> arch_feature_names(Space space, Encoding encoding) {
  std::vector<std::string> names;
  if (space == Space::kAnb) {
    for (int i = 0; i < 7; ++i) {
      const std::string b = "b" + std::to_string(i) + ":";
      for (int e : kAnbExpansions) names.push_back(b + "e" + std::to_string(e));
      for (int k : kAnbKernels) names.push_back(b + "k" + std::to_string(k));
      for (int l = 1; l <= kAnbMaxLayers; ++l) names.push_back(b + "l" + std::to_string(l));
      names.push_back(b + "se");
    }
    return names;
  }
  for (const char* prefix : {"", "live "})
    for (const char* edge : kNb201Edges)
      for (const char* op : kNb201Ops) names.push_back(std::string(prefix) + edge + " " + op);
  if (encoding == Encoding::kOneHot) {
    names.resize(kNb201OneHot);
    return names;
  }
  for (int node = 1; node <= 3; ++node) names.push_back("node " + std::to_string(node) + " zero");
  for (int node = 1; node <= 3; ++node)
    names.push_back("node " + std::to_string(node) + " depends on input");
  return names;
}

}  // namespace hao::predict
