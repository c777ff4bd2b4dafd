// HURRICANE (Zhang et al., CVPR-W 2020) as a strategy: hardware-specific operator selection,
// then a two-stage single-path one-shot evolutionary search under a latency limit.
//
// Operator selection: at every layer position with a choice of operator (an mbv2 block: its
// kernel and expansion), each operator of the space's pool is built alone on the largest
// network's shapes and priced on the domain's target (Domain::operator_cost); its score is its
// capacity per latency (multiply-accumulates per ms, the paper's FLOPs per measured latency;
// on a dataflow target a position's operators are priced on one share of the device, the
// smallest that holds each of them), and the `operators` best-scoring ones that fit are kept (at
// least one). Every network the search then proposes takes each present position's operator from
// its kept pool.
//
// Two stages, as HURRICANE searches: first the later layers (the later half of the domain's
// stage groups, Domain::stage_slots) with the early ones fixed at their cheapest (the smallest
// value of each slot, each position at the kept operator that makes that network fastest), then the
// early layers with the later ones fixed at the first stage's most accurate network. Each stage is
// SPOS's evolution scaled to its share of the budget: a first generation of `population` random
// networks, then generations of population / 2 mutations (each searched unit, a position's operator
// or a slot, redrawn with probability `mutation`) and the rest crossovers (each unit from one of
// two parents), the parents being the population / 5 most accurate networks of the stage so
// far (the paper: population 50, top 10, 25 mutations at p = 0.1, 25 crossovers); the
// latency limit is checked before a network is judged. Accuracy is the study's evaluator's (on
// the supernet: inherited weights, batch norms re-estimated). Every step is a function of the
// seed and the observations, so a stored study replays and resumes.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "search/strategy.hpp"

namespace hao::search {

struct HurricaneOptions {
  int operators = 3;    ///< K: operators kept per position
  int population = 10;  ///< P: networks per generation
  double mutation = 0.1;
  /// The latency constraint in ms; 0: the median latency of 2P random networks of the kept
  /// pools (half the search space meets it).
  double latency_limit_ms = 0;
  int budget = 150;  ///< evaluations: the later layers' stage takes the larger half
};

struct PooledOperator {
  std::vector<int> choices;  ///< per slot of the position, its choice index
  OperatorCost cost;
  double score = 0;  ///< OperatorCost::score (0 when it fits nowhere)
  bool kept = false;
};

struct OperatorPool {
  OperatorPosition position;
  std::vector<PooledOperator> operators;  ///< every operator of the space, best score first
};

/// HURRICANE's selection on the domain's target: per position, every operator priced alone at
/// the largest network's shapes on one share of the target (Domain::operator_share, doubled
/// until every operator fits, or the whole target), the `keep` best-scoring kept (those that fit;
/// the first one when none does). InputError when the domain has no operator positions, or when
/// `keep` is below 1.
std::vector<OperatorPool> select_operators(const Domain& domain, int keep);

/// "kernel=5 expansion=6": an operator of a position, spelled with its slots' short names.
std::string operator_label(const Domain& domain, const OperatorPosition& position,
                           const std::vector<int>& choices);

struct HurricaneGeneration {
  int stage = 0;  ///< 0: the later layers, 1: the early layers
  int index = 0;  ///< 0: the random first generation
  std::vector<Genotype> members;
  std::vector<std::string> origins;  ///< per member: "random", "mutation" or "crossover"
};

struct HurricaneTrajectory {
  double limit_ms = 0;
  /// The networks each stage starts from: the later layers searched with the early ones fixed
  /// at their cheapest; then the early layers with the later ones at stage 0's best.
  Genotype bases[2];
  std::vector<HurricaneGeneration> generations;  ///< as far as the observations go
  /// The most accurate observed member within the limit (nullopt before one is observed).
  std::optional<Genotype> best;
  double best_accuracy = 0;
  std::optional<Genotype> next;  ///< the first member neither observed nor pending
  std::string why;
  bool complete = false;
};

/// The search as far as `observations` go; `pending` are networks other workers judge now.
HurricaneTrajectory hurricane_trajectory(const Domain& domain, const HurricaneOptions& options,
                                         std::uint64_t seed, const std::vector<OperatorPool>& pools,
                                         const std::vector<Observation>& observations,
                                         const std::vector<Genotype>& pending = {});

/// The hurricane fields of StrategyOptions.
HurricaneOptions hurricane_options(const StrategyOptions& options);

/// Selects the operators (select_operators) and starts the search. InputError for a domain
/// without operator positions or numeric choices, operators or population below 1, a negative
/// limit, or a limit that the cheapest network of the kept pools (every slot at its smallest
/// value, each position at the kept operator that makes it fastest) does not meet.
std::unique_ptr<Strategy> make_hurricane_strategy(const Domain& domain, std::uint64_t seed,
                                                  const HurricaneOptions& options);

}  // namespace hao::search
