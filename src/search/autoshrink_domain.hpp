// AutoShrink's node-DAG cell space (AutoShrinkSpec) as a search domain: one on/off slot per
// possible edge i -> j of the cell; genotypes expand through ir::expand_autoshrink into IR
// networks, priced by program 1 like every generative space.
#pragma once

#include "search/network_domain.hpp"
#include "search/space_spec.hpp"

namespace hao::search {

class AutoShrinkDomain : public NetworkDomain {
 public:
  /// Slots "e<i>-<j>" (i < j, node j's input from node i; 0 = the cell input), choices off and
  /// on, in the order j = 1..N, i = 0..j-1 (edge index j(j-1)/2 + i).
  AutoShrinkDomain(AutoShrinkSpec spec, hw::Device device, ilp::MapOptions map = {});

  const std::vector<Slot>& slots() const override { return slots_; }
  /// In range, some node reached from the input, and canonical: no edge leaves a node that no
  /// path from the input reaches (such an edge changes nothing: the node is dropped).
  bool valid(const Genotype& g) const override;
  /// Edges on with probability 1/2, then snapped.
  Genotype random(Rng& rng) const override;
  /// Clamped, the edges of unreached nodes removed (AutoShrink's rule); a cell left with no
  /// reached node gets the edge 0 -> 1.
  Genotype snap(const Genotype& g, Rng& rng) const override;
  std::optional<std::vector<Genotype>> enumerate() const override { return std::nullopt; }
  /// The cell as ir::parse_autoshrink reads it, e.g. "sep3:0;conv1:0,1;sep3:1,2;conv1:0,3".
  std::string label(const Genotype& g) const override;
  /// InputError naming `where` for a cell of other operators, or one that is not canonical.
  Genotype parse(const std::string& label, const std::string& where) const override;
  /// MACs, weights and bit operations of the whole network (NN-Degree: 0, not defined here).
  std::optional<Topology> topology(const Genotype& g) const override;
  std::string description(const Genotype& g, const std::string& name = "candidate") const override;
  const std::string& data() const override { return spec_.data; }
  const std::vector<int>& bit_choices() const override { return bits_; }
  const AutoShrinkSpec& spec() const { return spec_; }

  /// The fully connected cell: AutoShrink's start.
  Genotype full() const;
  /// Slot indices of the edges present in `g`.
  std::vector<std::size_t> edges(const Genotype& g) const;
  /// The network, built by ir::expand_autoshrink, every layer at the space's bits.
  ir::Network cell_network(const Genotype& g, const std::string& name = "candidate") const;

 private:
  AutoShrinkSpec spec_;
  std::vector<Slot> slots_;
  std::vector<int> bits_;
  std::vector<std::pair<int, int>> ends_;  // per slot: (from, to)
};

}  // namespace hao::search
