// What a strategy searches over: categorical slots (genotypes), which genotypes are valid, and
// what is free to know about one before training it (its latency and its features).
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "ilp/selection_program.hpp"

namespace hao::search {

/// The latency a domain gives a genotype no accelerator fits (Domain::latency_ms).
inline constexpr double kInfeasibleMs = 1e9;

/// One choice index per slot.
using Genotype = std::vector<int>;

struct Slot {
  std::string name;
  std::vector<std::string> choices;
  /// Choices that are names, not numbers (an operator pool): what "smaller" means to the
  /// strategies that shrink (netadapt, hurricane's cheapest start) is their order as listed.
  bool ordered_as_listed = false;
};

/// Training-free measures of a genotype's network: FLASH's accuracy-predictor inputs.
struct Topology {
  double nn_degree = 0;   ///< search/nn_degree.hpp
  double parameters = 0;  ///< weights (of the part of the network that varies)
  double macs = 0;        ///< multiply-accumulates per frame; 0 where the domain does not say
  double bit_ops = 0;     ///< sum of MACs x weight bits x activation bits; 0 likewise
};

/// A space as program 4 sees it: the instance (slots in the genotype's order, hardware parts,
/// implications; gains zero) and the additive surrogate's terms, indices of parts without
/// hardware whose indicators are the surrogate's features and whose gains it sets.
struct SelectionSpace {
  ilp::SelectionProblem problem;
  std::vector<std::size_t> terms;
  std::size_t contexts = 0;  ///< layer contexts enumerated to build it
};

/// HURRICANE's view of a layer position: its operator is the joint choice of `slots` (for an
/// mbv2 block, its kernel and expansion: MBConv k3e6 and so on).
struct OperatorPosition {
  std::string name;  ///< e.g. "s1.b0"
  std::vector<std::size_t> slots;
};

/// An operator at its position, alone: its capacity (multiply-accumulates, HURRICANE's proxy)
/// and its latency on the domain's target, given `share` of the target (a dataflow design's
/// share of the device's resources; 1 for a target that runs one operator at a time).
struct OperatorCost {
  double macs = 0;
  double latency_ms = 0;  ///< kInfeasibleMs when it fits nowhere
  double share = 1;
  /// Capacity per latency per whole target: macs / (latency_ms x share); 0 when it fits nowhere
  /// or is no operator (a bypass: no MACs, no latency).
  double score() const {
    return latency_ms > 0 && latency_ms < kInfeasibleMs ? macs / (latency_ms * share) : 0;
  }
};

using Rng = std::mt19937_64;
/// A generator for draw `k` of a run seeded with `seed`: the same (seed, k), the same draws.
Rng rng_for(std::uint64_t seed, std::uint64_t k);

class Domain {
 public:
  virtual ~Domain() = default;
  virtual const std::vector<Slot>& slots() const = 0;
  /// Whether `g` names a candidate of the space (for a table: one of its rows).
  virtual bool valid(const Genotype& g) const = 0;
  /// A uniformly drawn valid genotype.
  virtual Genotype random(Rng& rng) const = 0;
  /// The valid genotype nearest to `g` (fewest differing slots; ties drawn with `rng`).
  virtual Genotype snap(const Genotype& g, Rng& rng) const = 0;
  /// Latency in ms: free for every strategy (a table, or the integer programs);
  /// kInfeasibleMs when nothing fits the device.
  virtual double latency_ms(const Genotype& g) const = 0;
  /// A lower bound on latency_ms(g) that costs far less (by default latency_ms itself);
  /// kInfeasibleMs only where latency_ms is. Strategies screen candidates with it and compute
  /// latency_ms for those the bound does not rule out.
  virtual double latency_bound_ms(const Genotype& g) const { return latency_ms(g); }
  /// Every valid genotype when the space is small enough to list; nullopt otherwise.
  virtual std::optional<std::vector<Genotype>> enumerate() const = 0;
  /// Feature row for predictors; by default one-hot per slot.
  virtual std::vector<double> features(const Genotype& g) const;
  /// The genotype as users write it (e.g. a NAS-Bench-201 arch string).
  virtual std::string label(const Genotype& g) const;
  /// Per weighted layer of `g`'s network, its name and weight bits: what measured
  /// sensitivities are keyed by (Observation::omega) and carried to untrained genotypes
  /// through; empty when the domain has no layers (tables).
  virtual std::vector<std::pair<std::string, int>> layer_bits(const Genotype&) const { return {}; }
  /// NN-Degree and parameters of g's network; nullopt when the domain cannot say.
  virtual std::optional<Topology> topology(const Genotype&) const { return std::nullopt; }
  /// FLASH's hierarchy: groups of slot indices optimized one after another (strategy flash on a
  /// space too large to list); by default one group of every slot.
  virtual std::vector<std::vector<std::size_t>> hierarchy() const;
  /// Layer positions with a choice of operator, input to output; none when the domain has no
  /// operators (tables, cells).
  virtual std::vector<OperatorPosition> operator_positions() const { return {}; }
  /// Whether position `p` is part of g's network (an mbv2 block past its stage's depth is not).
  virtual bool operator_present(const Genotype&, std::size_t) const { return true; }
  /// Position `p`'s operator as chosen in `g`, built alone on g's shapes and priced on `share`
  /// of the target (a dataflow design's share of the device; a target that runs one operator
  /// at a time ignores it). Only for domains with operator positions.
  virtual OperatorCost operator_cost(const Genotype& g, std::size_t p, double share) const;
  /// The share operators are first priced on (a dataflow device: one block's share of the
  /// largest network); 1 by default.
  virtual double operator_share() const { return 1; }
  /// The slots grouped by the part of the network they shape, input to output (an mbv2
  /// stage's depth, width and blocks; the head): HURRICANE's early and late layers. One group
  /// of every slot by default.
  virtual std::vector<std::vector<std::size_t>> stage_slots() const { return hierarchy(); }
  /// Program 4's view of the space; nullptr when the domain has none (tables).
  virtual const SelectionSpace* selection() const { return nullptr; }
};

}  // namespace hao::search
