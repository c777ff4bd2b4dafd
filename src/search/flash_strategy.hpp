// FLASH (Li, Mandal, Ogras and Marculescu, arXiv 2108.00568) as a strategy: the first
// `calibration` asks are a Latin hypercube over the space's slots; their accuracies fit the
// NN-Degree predictor (predict/degree_predictor.hpp); every later ask is the co-design step:
// the untold network of highest predicted accuracy whose latency (free: a table or hao's
// programs) meets a target, the targets sweeping the space's latency range geometrically in
// van der Corput order (middle first, then the quarters, ...), so that any number of asks
// spreads over the range. On a space small enough to list, each step maximizes the surrogate
// over the whole space (exact); otherwise FLASH's hierarchical SHGO (opt/shgo.hpp) walks the
// levels of Domain::hierarchy() on the lattice of choice indices under the latency bound, and
// program 1 checks its proposals.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <optional>

#include "search/strategy.hpp"

namespace hao::search {

/// InputError when the domain cannot give a genotype's NN-Degree (Domain::topology).
std::unique_ptr<Strategy> make_flash_strategy(const Domain& domain, std::uint64_t seed,
                                              const StrategyOptions& options);

/// Row `i` of a Latin hypercube of `n` rows over `slots`: per slot the n rows fall in n
/// equal strata of its choices, in a random order fixed by `seed`.
Genotype latin_hypercube_row(const std::vector<Slot>& slots, int n, int i, std::uint64_t seed);

/// The k-th point (k >= 0) of the base-2 van der Corput sequence: 0.5, 0.25, 0.75, 0.125, ...
double van_der_corput(std::uint64_t k);

/// Where flash's co-design step starts for `target`: the most accurate observation whose
/// latency meets it, else every slot's first choice.
Genotype codesign_start(const Domain& domain, const std::vector<Observation>& observations,
                        double target);

/// FLASH's analytical hardware model, fitted as FLASH fits its to measurements: log latency
/// linear in log bit operations and log MACs (Topology), least squares on the observations'
/// latencies (program 1's, or a table's).
struct LatencyModel {
  std::array<double, 3> coefficients{};  ///< intercept, log bit_ops, log MACs
  /// nullopt below 3 feasible observations with MAC counts.
  static std::optional<LatencyModel> fit(const Domain& domain,
                                         const std::vector<Observation>& observations);
  double predict_ms(const Domain& domain, const Genotype& g) const;
};

/// FLASH's hierarchical SHGO co-design step: for each level of Domain::hierarchy() in turn (a
/// level whose first SHGO grid would pass 20,000 points in chunks within it), the lattice of
/// its slots' choice indices (the other slots at the start, updated level by level) minimizing
/// -predicted(g) (ties toward larger choices) where g is valid, `allowed` and latency_ms(g) <=
/// target (opt::shgo_lattice); passes over the levels until one changes nothing; from `start`
/// and from `start` with the last level's slots all at their k-th choice, for each k. Every
/// run's last-level local minima, by predicted accuracy, best first; empty when nothing is
/// feasible. `evaluations` (when given) accumulates the points SHGO evaluated.
std::vector<Genotype> flash_codesign(const Domain& domain,
                                     const std::function<double(const Genotype&)>& predicted,
                                     const std::function<double(const Genotype&)>& latency_ms,
                                     double target, Genotype start,
                                     const std::function<bool(const Genotype&)>& allowed = {},
                                     std::size_t* evaluations = nullptr);

}  // namespace hao::search
