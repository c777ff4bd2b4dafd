// The generative MobileNetV2-like space (Mbv2Spec) as a search domain: genotypes expand into
// IR networks whose optimal dataflow accelerator (program 1, exact) gives latency and fps for
// free, before any training.
#pragma once

#include <map>
#include <memory>
#include <mutex>

#include "hw/device.hpp"
#include "ilp/dataflow_mapper.hpp"
#include "ir/network.hpp"
#include "search/domain.hpp"
#include "search/space_spec.hpp"

namespace hao::search {

/// Program 1's time limit per candidate in a study, unless the study says otherwise (hao
/// search --ilp-time-limit; kept with the study as "ilp_time_limit_s" when not this).
inline constexpr double kStudyIlpTimeLimitS = 20;

/// A genotype's accelerator: program 1's fastest design on the device.
struct Hardware {
  bool feasible = false;
  std::string reason;  ///< when not feasible
  double fps = 0, latency_ms = 0;
  hw::Resources resources;
  std::vector<hw::LayerConfig> configs;
  ilp::SolveStats stats;  ///< program 1's
};

class Mbv2Domain : public Domain {
 public:
  /// Slots: per stage `sS.depth`, `sS.width`; per block slot `sS.bJ.kernel|expansion|bits`
  /// (J below the largest depth); `head.bits`. Blocks past a stage's depth hold choice 0.
  Mbv2Domain(Mbv2Spec spec, hw::Device device, ilp::MapOptions map = {});

  const std::vector<Slot>& slots() const override { return slots_; }
  bool valid(const Genotype& g) const override;
  Genotype random(Rng& rng) const override;
  /// Clamps every slot into range and zeroes the slots of blocks past a stage's depth.
  Genotype snap(const Genotype& g, Rng& rng) const override;
  /// The frame interval, 1 / fps in ms (a dataflow pipeline's throughput, what the search's
  /// frontier is over; Hardware::latency_ms also counts the pipeline's depth); kInfeasibleMs
  /// when nothing fits.
  double latency_ms(const Genotype& g) const override;
  /// At the II of program 1's relaxation (ilp::relaxed_ii_bound; microseconds, where program 1
  /// takes a tenth of a second); latency_ms itself once that is known.
  double latency_bound_ms(const Genotype& g) const override;
  std::optional<std::vector<Genotype>> enumerate() const override { return std::nullopt; }
  std::vector<double> features(const Genotype& g) const override;
  std::string label(const Genotype& g) const override;
  std::vector<std::pair<std::string, int>> layer_bits(const Genotype& g) const override;
  /// Built on first use: every layer position's context (the slots its shape and bits depend
  /// on) enumerated, each context a part with that layer's configurations; the terms are the
  /// one-hot slots (a block's only while the block is present). nullptr when some layer
  /// depends on so many slots that its contexts exceed 100,000.
  const SelectionSpace* selection() const override;

  /// The genotype with every slot at its largest choice (deepest, widest, largest kernel and
  /// expansion, most bits): the network every other one is a slice of (nn::Supernet).
  Genotype largest() const;
  /// Every slot at its smallest choice: the least network of the space.
  Genotype smallest() const;
  /// The network, named `name`, with its bits (element-wise layers derived).
  ir::Network network(const Genotype& g, const std::string& name = "candidate") const;
  /// Program 1 on the device, cached per genotype.
  Hardware hardware(const Genotype& g) const;
  /// The genotype of a label() string; InputError naming `where` otherwise.
  Genotype parse(const std::string& label, const std::string& where) const;
  const hw::Device& device() const { return device_; }
  const Mbv2Spec& spec() const { return spec_; }
  const ilp::MapOptions& map_options() const { return map_; }
  /// The network as hao's YAML description (what hao map and hao train read).
  std::string description(const Genotype& g, const std::string& name = "candidate") const;

 private:
  int max_depth() const;
  std::size_t block_slot(std::size_t stage, std::size_t block) const;
  std::size_t depth_slot(std::size_t stage) const { return block_slot(stage, 0) - 2; }
  /// "stage's depth exceeds `block`" as a condition on its depth slot; empty when every
  /// depth choice has the block.
  std::vector<ilp::SlotCondition> present(std::size_t stage, std::size_t block) const;
  SelectionSpace build_selection() const;

  Mbv2Spec spec_;
  hw::Device device_;
  ilp::MapOptions map_;
  std::vector<Slot> slots_;
  mutable std::mutex mutex_;
  mutable std::map<Genotype, Hardware> cache_;
  mutable std::map<Genotype, double> bound_cache_;
  mutable std::once_flag selection_once_;
  mutable std::unique_ptr<SelectionSpace> selection_;
};

}  // namespace hao::search
