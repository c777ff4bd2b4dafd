// FLASH's DenseNet-type space (DenseSpec) as a search domain: per cell a width, a depth, a
// skip count and bits; genotypes expand into IR networks with concatenations, priced by
// program 1 like every generative space, and carry an NN-Degree.
#pragma once

#include "search/network_domain.hpp"
#include "search/space_spec.hpp"

namespace hao::search {

class DenseDomain : public NetworkDomain {
 public:
  /// Slots per cell C: `cC.width`, `cC.depth`, `cC.skips`, `cC.bits`, choices ascending (their
  /// indices are ordinal). Every combination is a network.
  DenseDomain(DenseSpec spec, hw::Device device, ilp::MapOptions map = {});

  const std::vector<Slot>& slots() const override { return slots_; }
  bool valid(const Genotype& g) const override;
  Genotype random(Rng& rng) const override;
  /// Clamps every slot into range.
  Genotype snap(const Genotype& g, Rng& rng) const override;
  std::optional<std::vector<Genotype>> enumerate() const override { return std::nullopt; }
  /// One-hot slots, plus per cell width / 8, depth and skips as numbers and log2 MACs / 2.
  std::vector<double> features(const Genotype& g) const override;
  /// e.g. "c0:w16,d3,t1,b8;c1:w24,d2,t0,b4;c2:w32,d4,t3,b8"
  std::string label(const Genotype& g) const override;
  Genotype parse(const std::string& label, const std::string& where) const override;
  /// NN-Degree: the sum over cells of dense_window_cell_degree; the weights of every conv and
  /// the classifier.
  std::optional<Topology> topology(const Genotype& g) const override;
  /// FLASH's levels: the widths and depths with the bits, then the skips.
  std::vector<std::vector<std::size_t>> hierarchy() const override;
  std::string description(const Genotype& g, const std::string& name = "candidate") const override;
  const std::string& data() const override { return spec_.data; }
  const std::vector<int>& bit_choices() const override { return spec_.bits; }
  const DenseSpec& spec() const { return spec_; }

  struct Cell {
    int width = 0, depth = 0, skips = 0, bits = 8;
  };
  std::vector<Cell> cells(const Genotype& g) const;

 private:
  DenseSpec spec_;
  std::vector<Slot> slots_;
};

}  // namespace hao::search
