#include "search/nsga2.hpp"

#include <algorithm>
#include <limits>
#include <numeric>

namespace hao::search {
namespace {

bool dominates(const Observation& a, const Observation& b) {
  return a.latency_ms <= b.latency_ms && a.accuracy >= b.accuracy &&
         (a.latency_ms < b.latency_ms || a.accuracy > b.accuracy);
}

/// The `n` survivors of `pool`: whole fronts in rank order, the last one cut by crowding.
std::vector<Observation> select(const std::vector<Observation>& pool, std::size_t n) {
  const RankedPopulation r = rank_population(pool);
  std::vector<std::size_t> order(pool.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    if (r.rank[a] != r.rank[b]) return r.rank[a] < r.rank[b];
    return r.crowding[a] > r.crowding[b];
  });
  std::vector<Observation> out;
  for (std::size_t i = 0; i < n && i < order.size(); ++i) out.push_back(pool[order[i]]);
  return out;
}

class Nsga2 : public Strategy {
 public:
  Nsga2(const Domain& d, std::uint64_t seed, const StrategyOptions& o)
      : Strategy(d, seed), size_(static_cast<std::size_t>(std::max(2, o.population))) {}
  std::string name() const override { return "nsga2"; }

  Genotype ask() override {
    Rng rng = ask_rng();
    const std::size_t generation = history_.size() / size_;
    if (generation == 0) return untold(domain_.random(rng), rng);
    std::vector<Observation> parents(history_.begin(),
                                     history_.begin() + static_cast<std::ptrdiff_t>(size_));
    for (std::size_t g = 1; g < generation; ++g) {
      std::vector<Observation> pool = parents;
      pool.insert(pool.end(), history_.begin() + static_cast<std::ptrdiff_t>(g * size_),
                  history_.begin() + static_cast<std::ptrdiff_t>((g + 1) * size_));
      parents = select(pool, size_);
    }
    const RankedPopulation r = rank_population(parents);
    std::uniform_int_distribution<std::size_t> member(0, parents.size() - 1);
    auto tournament = [&] {
      const std::size_t a = member(rng), b = member(rng);
      if (r.rank[a] != r.rank[b]) return r.rank[a] < r.rank[b] ? a : b;
      return r.crowding[a] >= r.crowding[b] ? a : b;
    };
    const Genotype& mother = parents[tournament()].genotype;
    const Genotype& father = parents[tournament()].genotype;
    std::bernoulli_distribution coin(0.5), crossover(0.9);
    Genotype child = mother;
    if (crossover(rng))
      for (std::size_t s = 0; s < child.size(); ++s)
        if (coin(rng)) child[s] = father[s];
    const auto& slots = domain_.slots();
    std::bernoulli_distribution flip(1.0 / static_cast<double>(slots.size()));
    for (std::size_t s = 0; s < child.size(); ++s) {
      const int n = static_cast<int>(slots[s].choices.size());
      if (n > 1 && flip(rng))
        child[s] = (child[s] + std::uniform_int_distribution<int>(1, n - 1)(rng)) % n;
    }
    return untold(domain_.snap(child, rng), rng);
  }

 private:
  std::size_t size_;
};

}  // namespace

RankedPopulation rank_population(const std::vector<Observation>& population) {
  const std::size_t n = population.size();
  RankedPopulation r{std::vector<int>(n, -1), std::vector<double>(n, 0)};
  std::vector<std::size_t> remaining(n);
  std::iota(remaining.begin(), remaining.end(), 0);
  for (int rank = 0; !remaining.empty(); ++rank) {
    std::vector<std::size_t> front, rest;
    for (std::size_t a : remaining) {
      bool dominated = false;
      for (std::size_t b : remaining)
        if (dominates(population[b], population[a])) dominated = true;
      (dominated ? rest : front).push_back(a);
    }
    for (std::size_t a : front) r.rank[a] = rank;
    // Crowding: per objective, the normalized gap between a member's neighbours; the ends
    // of each objective's order are infinitely crowded-free.
    for (int objective = 0; objective < 2; ++objective) {
      auto value = [&](std::size_t i) {
        return objective == 0 ? population[i].latency_ms : population[i].accuracy;
      };
      std::vector<std::size_t> order = front;
      std::stable_sort(order.begin(), order.end(),
                       [&](std::size_t a, std::size_t b) { return value(a) < value(b); });
      const double span = value(order.back()) - value(order.front());
      r.crowding[order.front()] = r.crowding[order.back()] =
          std::numeric_limits<double>::infinity();
      for (std::size_t k = 1; k + 1 < order.size(); ++k)
        if (span > 0) r.crowding[order[k]] += (value(order[k + 1]) - value(order[k - 1])) / span;
    }
    remaining = std::move(rest);
  }
  return r;
}

std::unique_ptr<Strategy> make_nsga2(const Domain& domain, std::uint64_t seed,
                                     const StrategyOptions& options) {
  return std::make_unique<Nsga2>(domain, seed, options);
}

}  // namespace hao::search
