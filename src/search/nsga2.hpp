// NSGA-II (Deb, Pratap, Agarwal and Meyarivan, IEEE TEVC 2002) over categorical genotypes.
#pragma once

#include <memory>
#include <vector>

#include "search/strategy.hpp"

namespace hao::search {

/// Non-dominated sorting rank (0 = first front) and crowding distance of each observation,
/// latency minimized and accuracy maximized.
struct RankedPopulation {
  std::vector<int> rank;
  std::vector<double> crowding;
};
RankedPopulation rank_population(const std::vector<Observation>& population);

/// Generation 0 is `population` random genotypes; generation g's parents are the elitist
/// selection (rank, then crowding) from generation g-1's parents and offspring; each child
/// comes from two binary tournaments, uniform crossover and a per-slot mutation of rate
/// 1/slots, snapped to the domain.
std::unique_ptr<Strategy> make_nsga2(const Domain& domain, std::uint64_t seed,
                                     const StrategyOptions& options);

}  // namespace hao::search
