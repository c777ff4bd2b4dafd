// The generative MobileNetV2-like space (Mbv2Spec) as a search domain: genotypes expand into
// IR networks whose optimal dataflow accelerator (program 1, exact) gives latency and fps for
// free, before any training.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <tuple>

#include "hw/device.hpp"
#include "ilp/dataflow_mapper.hpp"
#include "ir/network.hpp"
#include "search/network_domain.hpp"
#include "search/space_spec.hpp"

namespace hao::search {

class Mbv2Domain : public NetworkDomain {
 public:
  /// Slots: per stage `sS.depth`, `sS.width`; per block slot `sS.bJ.kernel|expansion|bits`
  /// (J below the largest depth); `head.bits`. Blocks past a stage's depth hold choice 0.
  /// Expansion 0 is NetAdaptV2's channel-level bypass (CBC) at a block's hidden width: the
  /// block passes its input through (where it keeps its input's shape), so that a block's
  /// width and the stage's depth become one dimension; a bypassed block's kernel and bits hold
  /// choice 0. Where some stage's pool has several operators (Mbv2Spec::operators), a block
  /// also has `sS.bJ.operator` (ordered as listed), and its layers are named after it
  /// ("s1b0_mbconv-se_dw"): each operator has weights of its own in the supernet.
  Mbv2Domain(Mbv2Spec spec, hw::Device device, ilp::MapOptions map = {});

  const std::vector<Slot>& slots() const override { return slots_; }
  bool valid(const Genotype& g) const override;
  Genotype random(Rng& rng) const override;
  /// Clamps every slot into range and zeroes the slots of blocks past a stage's depth.
  Genotype snap(const Genotype& g, Rng& rng) const override;
  std::optional<std::vector<Genotype>> enumerate() const override { return std::nullopt; }
  /// Kept per genotype once computed (the hao strategy asks for every observed one at each
  /// ask, and each builds the network).
  std::vector<double> features(const Genotype& g) const override;
  std::string label(const Genotype& g) const override;
  /// NN-Degree: per stage the average in-degree of its MBConv blocks' channel graph
  /// (mbconv_stage_degree), summed; the network's weights.
  std::optional<Topology> topology(const Genotype& g) const override;
  /// Built on first use: every layer position's context (the slots its shape and bits depend
  /// on) enumerated, each context a part with that layer's configurations; the terms are the
  /// one-hot slots (a block's only while the block is present). nullptr when some layer
  /// depends on so many slots that its contexts exceed 100,000.
  const SelectionSpace* selection() const override;

  /// One per block slot (stage s, block j: "sS.bJ"), its operator the block's kernel and
  /// expansion (MBConv kK eE) and, where the space chooses operators, the block's operator.
  std::vector<OperatorPosition> operator_positions() const override;
  bool operator_present(const Genotype& g, std::size_t p) const override;
  /// The block alone on its input shape in g (its MACs at g's channels), priced as a design
  /// on `share` of the device (NetworkDomain::part_latency_ms). Kept once computed.
  OperatorCost operator_cost(const Genotype& g, std::size_t p, double share) const override;
  /// One block's share of the largest network: 1 / (stages x largest depth).
  double operator_share() const override;
  /// g's network cut at its block boundaries, each piece a network of its own on the input
  /// shape g's network gives it, at 8 bits throughout (what runs one piece after another, as
  /// a CPU does): "stem" (the stem conv), each block present ("s1b0"), "head" (head conv,
  /// pooling, classifier). Two genotypes share a piece exactly when its description is equal.
  std::vector<std::pair<std::string, std::string>> pieces(const Genotype& g) const;
  /// Per stage its depth, width and block slots; the head's bits last.
  std::vector<std::vector<std::size_t>> stage_slots() const override;

  /// The genotype with every slot at its largest choice (deepest, widest, largest kernel and
  /// expansion, most bits): the network every other one is a slice of (nn::Supernet).
  Genotype largest() const;
  /// Every slot at its smallest choice, snapped: the least network of the space.
  Genotype smallest() const;
  Genotype parse(const std::string& label, const std::string& where) const override;
  const std::string& data() const override { return spec_.data; }
  const std::vector<int>& bit_choices() const override { return spec_.bits; }
  const Mbv2Spec& spec() const { return spec_; }
  std::string description(const Genotype& g, const std::string& name = "candidate") const override;

 private:
  int max_depth() const;
  /// Slots per block: kernel, expansion, bits and, where the space chooses operators, operator.
  std::size_t block_slots() const;
  std::size_t block_slot(std::size_t stage, std::size_t block) const;
  /// The block's operator (one of its stage's pool).
  const std::string& block_operator(const Genotype& g, std::size_t stage, std::size_t block) const;
  /// The names of the block's layers start with this: "s1b0_", or "s1b0_OPERATOR_" where the
  /// space chooses operators.
  std::string block_prefix(const Genotype& g, std::size_t stage, std::size_t block) const;
  std::size_t depth_slot(std::size_t stage) const { return block_slot(stage, 0) - 2; }
  /// "stage's depth exceeds `block`" as a condition on its depth slot; empty when every
  /// depth choice has the block.
  std::vector<ilp::SlotCondition> present(std::size_t stage, std::size_t block) const;
  /// Whether the block could pass its input through: stride 1, as many channels out as in
  /// (every block after a stage's first; the first where the stage keeps its input's shape).
  bool keeps_shape(const Genotype& g, std::size_t stage, std::size_t block) const;
  /// The block's expansion choice as built: a bypass (expansion 0) where the block cannot
  /// pass its input through reads as the smallest other expansion.
  int expansion_choice(const Genotype& g, std::size_t stage, std::size_t block) const;
  /// Its value; 0 for a bypassed block (channel-level bypass: nothing of it is built).
  int expansion(const Genotype& g, std::size_t stage, std::size_t block) const;
  SelectionSpace build_selection() const;
  /// The description of block `prefix` of `net` alone, on its input shape there, at the given
  /// kernel and expansion choice indices, bits and operator.
  std::string block_alone(const ir::Network& net, const std::string& prefix, int kernel,
                          int expansion, int bits, const std::string& op) const;

  Mbv2Spec spec_;
  std::vector<Slot> slots_;
  mutable std::once_flag selection_once_;
  mutable std::unique_ptr<SelectionSpace> selection_;
  mutable std::mutex features_mutex_;
  mutable std::map<Genotype, std::vector<double>> features_;
  mutable std::map<std::tuple<Genotype, std::size_t, double>, OperatorCost> operator_costs_;
};

}  // namespace hao::search
