#include "search/hurricane_strategy.hpp"

#include <algorithm>
#include <map>
#include <numeric>
#include <set>

#include "core/error.hpp"
#include "core/text.hpp"
#include "search/netadapt_strategy.hpp"

namespace hao::search {
namespace {

// A generation's draws come from their own stream per (stage, generation); the limit's too.
constexpr std::uint64_t kGenerationStream = 0x4a22'0000'0000ULL;
constexpr std::uint64_t kLimitStream = 0x4a23'0000'0000ULL;

// What evolution redraws and crosses over: a position's operator (its slots together), or a
// slot that belongs to no position.
struct Unit {
  std::optional<std::size_t> pool;  ///< index into the pools
  std::size_t slot = 0;
};

class Pools {
 public:
  Pools(const Domain& domain, const std::vector<OperatorPool>& pools)
      : domain_(domain), pools_(pools) {
    for (const OperatorPool& p : pools_) {
      std::vector<const PooledOperator*> kept;
      for (const PooledOperator& op : p.operators)
        if (op.kept) kept.push_back(&op);
      HAO_CHECK(!kept.empty(), "an operator pool keeps nothing");
      kept_.push_back(std::move(kept));
    }
  }

  /// The units over `slots`: each position whose slots all lie in it, and the others alone.
  std::vector<Unit> units(const std::vector<std::size_t>& slots) const {
    const std::set<std::size_t> in(slots.begin(), slots.end());
    std::set<std::size_t> covered;
    std::vector<Unit> out;
    for (std::size_t p = 0; p < pools_.size(); ++p) {
      const auto& s = pools_[p].position.slots;
      if (std::all_of(s.begin(), s.end(), [&](std::size_t i) { return in.count(i) != 0; })) {
        out.push_back({p, 0});
        covered.insert(s.begin(), s.end());
      }
    }
    for (std::size_t i : slots)
      if (!covered.count(i)) out.push_back({std::nullopt, i});
    return out;
  }

  void redraw(Genotype& g, const Unit& u, Rng& rng) const {
    if (u.pool) {
      const auto& kept = kept_[*u.pool];
      set(g, *u.pool, *kept[std::uniform_int_distribution<std::size_t>(0, kept.size() - 1)(rng)]);
    } else {
      const int n = static_cast<int>(domain_.slots()[u.slot].choices.size());
      g[u.slot] = std::uniform_int_distribution<int>(0, n - 1)(rng);
    }
  }

  void copy(Genotype& g, const Genotype& from, const Unit& u) const {
    if (u.pool)
      for (std::size_t s : pools_[*u.pool].position.slots) g[s] = from[s];
    else
      g[u.slot] = from[u.slot];
  }

  /// Snapped, and every present position's operator from its kept pool (a block made
  /// present by a deeper stage holds the snap's choice 0 until redrawn).
  Genotype repair(Genotype g, Rng& rng) const {
    g = domain_.snap(g, rng);
    for (std::size_t p = 0; p < pools_.size(); ++p)
      if (domain_.operator_present(g, p) && !kept(g, p)) redraw(g, {p, 0}, rng);
    return domain_.snap(g, rng);
  }

  /// Each present position in turn at the kept operator that makes g's network fastest (the
  /// one fastest alone among equals): an operator fast alone may not be in the pipeline.
  void fastest(Genotype& g) const {
    for (std::size_t p = 0; p < pools_.size(); ++p) {
      if (!domain_.operator_present(g, p)) continue;
      const PooledOperator* best = nullptr;
      double best_ms = 0;
      for (const PooledOperator* op : kept_[p]) {
        set(g, p, *op);
        const double ms = domain_.latency_ms(g);
        if (!best || ms < best_ms ||
            (ms == best_ms && op->cost.latency_ms < best->cost.latency_ms)) {
          best = op;
          best_ms = ms;
        }
      }
      set(g, p, *best);
    }
  }

 private:
  bool kept(const Genotype& g, std::size_t p) const {
    const auto& slots = pools_[p].position.slots;
    return std::any_of(kept_[p].begin(), kept_[p].end(), [&](const PooledOperator* op) {
      for (std::size_t k = 0; k < slots.size(); ++k)
        if (g[slots[k]] != op->choices[k]) return false;
      return true;
    });
  }
  void set(Genotype& g, std::size_t p, const PooledOperator& op) const {
    const auto& slots = pools_[p].position.slots;
    for (std::size_t k = 0; k < slots.size(); ++k) g[slots[k]] = op.choices[k];
  }

  const Domain& domain_;
  const std::vector<OperatorPool>& pools_;
  std::vector<std::vector<const PooledOperator*>> kept_;
};

// The median latency of 2P random networks of the pools (those that fit).
double automatic_limit(const Domain& domain, const Pools& pools, int population,
                       std::uint64_t seed) {
  std::vector<std::size_t> all(domain.slots().size());
  std::iota(all.begin(), all.end(), 0);
  const std::vector<Unit> units = pools.units(all);
  Rng rng = rng_for(seed, kLimitStream);
  std::vector<double> latencies;
  for (int i = 0; i < 2 * population; ++i) {
    Genotype g = domain.random(rng);
    for (const Unit& u : units) pools.redraw(g, u, rng);
    const double ms = domain.latency_ms(pools.repair(g, rng));
    if (ms < kInfeasibleMs) latencies.push_back(ms);
  }
  if (latencies.empty()) return kFitTargetMs;  // nothing drawn fits: any network that does
  std::sort(latencies.begin(), latencies.end());
  return latencies[(latencies.size() - 1) / 2];
}

class HurricaneStrategy : public TrajectoryStrategy {
 public:
  HurricaneStrategy(const Domain& domain, std::uint64_t seed, HurricaneOptions options,
                    std::vector<OperatorPool> pools)
      : TrajectoryStrategy(domain, seed, "network"), options_(options), pools_(std::move(pools)) {}
  std::string name() const override { return "hurricane"; }

 private:
  Next next_step() const override {
    const HurricaneTrajectory t =
        hurricane_trajectory(domain_, options_, seed_, pools_, history_, pending_);
    return {t.next, t.why, t.complete};
  }

  HurricaneOptions options_;
  std::vector<OperatorPool> pools_;
};

// Each slot at its smallest value, each present position at the kept operator that makes this
// network fastest: where the later layers' stage fixes the early ones.
Genotype cheapest(const Domain& domain, const Pools& pools) {
  Genotype g = extreme_genotype(domain, numeric_choices(domain, "hurricane"), false);
  pools.fastest(g);
  return g;
}

}  // namespace

std::string operator_label(const Domain& domain, const OperatorPosition& position,
                           const std::vector<int>& choices) {
  std::string out;
  for (std::size_t k = 0; k < position.slots.size(); ++k) {
    const Slot& slot = domain.slots()[position.slots[k]];
    const std::size_t dot = slot.name.rfind('.');
    out += (k ? " " : "") + (dot == std::string::npos ? slot.name : slot.name.substr(dot + 1)) +
           "=" + slot.choices[static_cast<std::size_t>(choices[k])];
  }
  return out;
}

std::vector<OperatorPool> select_operators(const Domain& domain, int keep) {
  if (keep < 1)
    throw core::InputError("--operators " + std::to_string(keep) +
                           ": hurricane keeps at least one operator per position");
  const std::vector<OperatorPosition> positions = domain.operator_positions();
  if (positions.empty())
    throw core::InputError(
        "strategy hurricane selects operators per layer position: this space has none (a space "
        "of blocks with kernel and expansion choices, e.g. --space fmnist-mbv2)");
  const Genotype context = extreme_genotype(domain, numeric_choices(domain, "hurricane"), true);
  std::vector<OperatorPool> out;
  for (std::size_t p = 0; p < positions.size(); ++p) {
    // Every combination of the position's slots' choices, all priced on one share of the
    // target: the first (one block's of the largest network) doubled until each fits.
    std::vector<std::vector<int>> combinations;
    std::vector<int> choices(positions[p].slots.size(), 0);
    for (bool more = true; more;) {
      combinations.push_back(choices);
      more = false;
      for (std::size_t k = 0; k < choices.size() && !more; ++k) {
        const int n = static_cast<int>(domain.slots()[positions[p].slots[k]].choices.size());
        if (++choices[k] < n)
          more = true;
        else
          choices[k] = 0;
      }
    }
    OperatorPool pool{positions[p], {}};
    for (double share = domain.operator_share();; share = std::min(1.0, 2 * share)) {
      pool.operators.clear();
      for (const std::vector<int>& c : combinations) {
        Genotype g = context;
        for (std::size_t k = 0; k < c.size(); ++k) g[positions[p].slots[k]] = c[k];
        // A combination the space reads as another (a bypass where the block cannot pass its
        // input through, a bypass's kernel) is that other operator, not one of its own.
        Rng unused(0);
        const Genotype snapped = domain.snap(g, unused);
        if (!std::all_of(positions[p].slots.begin(), positions[p].slots.end(),
                         [&](std::size_t k) { return snapped[k] == g[k]; }))
          continue;
        const OperatorCost cost = domain.operator_cost(g, p, share);
        pool.operators.push_back({c, cost, cost.score(), false});
      }
      if (share >= 1.0 || std::all_of(pool.operators.begin(), pool.operators.end(),
                                      [](const PooledOperator& o) { return o.score > 0; }))
        break;
    }
    std::stable_sort(pool.operators.begin(), pool.operators.end(),
                     [](const PooledOperator& a, const PooledOperator& b) {
                       return a.score != b.score ? a.score > b.score
                                                 : a.cost.latency_ms < b.cost.latency_ms;
                     });
    for (std::size_t i = 0; i < pool.operators.size() && i < static_cast<std::size_t>(keep); ++i)
      pool.operators[i].kept = i == 0 || pool.operators[i].score > 0;
    out.push_back(std::move(pool));
  }
  return out;
}

HurricaneTrajectory hurricane_trajectory(const Domain& domain, const HurricaneOptions& options,
                                         std::uint64_t seed, const std::vector<OperatorPool>& pools,
                                         const std::vector<Observation>& observations,
                                         const std::vector<Genotype>& pending) {
  HAO_CHECK(options.population >= 1 && options.budget >= 0, "hurricane: population >= 1");
  const Pools pool(domain, pools);
  std::map<Genotype, double> accuracy;
  for (const Observation& o : observations) accuracy[o.genotype] = o.accuracy;
  const std::set<Genotype> waiting_on(pending.begin(), pending.end());

  HurricaneTrajectory t;
  t.bases[0] = cheapest(domain, pool);
  // The automatic limit is never below the cheapest network (the stage's start).
  t.limit_ms = options.latency_limit_ms > 0
                   ? options.latency_limit_ms
                   : std::max(automatic_limit(domain, pool, options.population, seed),
                              domain.latency_ms(t.bases[0]));
  // The later half of the stage groups first (the head's with them), then the early half.
  const std::vector<std::vector<std::size_t>> groups = domain.stage_slots();
  std::vector<std::size_t> searched[2];
  for (std::size_t i = 0; i < groups.size(); ++i)
    for (std::size_t s : groups[i]) searched[i < groups.size() / 2 ? 1 : 0].push_back(s);

  const int p = options.population;
  const int parents = std::max(1, p / 5), mutations = std::max(1, p / 2);
  const int budgets[2] = {options.budget - options.budget / 2, options.budget / 2};
  std::set<Genotype> used;
  for (int stage = 0; stage < 2; ++stage) {
    if (stage == 1) t.bases[1] = t.best ? *t.best : t.bases[0];
    const std::vector<Unit> units = pool.units(searched[stage]);
    std::vector<std::pair<double, Genotype>> ranked;  // the stage's observed members
    if (stage == 1 && t.best) ranked.emplace_back(t.best_accuracy, *t.best);
    for (int gen = 0, left = budgets[stage]; left > 0 && !units.empty(); ++gen) {
      std::stable_sort(ranked.begin(), ranked.end(),
                       [](const auto& a, const auto& b) { return a.first > b.first; });
      const std::size_t top = std::min(ranked.size(), static_cast<std::size_t>(parents));
      HurricaneGeneration g{stage, gen, {}, {}};
      const int size = std::min(p, left);
      Rng rng = rng_for(seed, kGenerationStream + static_cast<std::uint64_t>(stage) * 4096 +
                                  static_cast<std::uint64_t>(gen));
      auto parent = [&]() -> const Genotype& {
        return ranked[std::uniform_int_distribution<std::size_t>(0, top - 1)(rng)].second;
      };
      for (int tries = 0; static_cast<int>(g.members.size()) < size && tries < 50 * size; ++tries) {
        Genotype child;
        std::string origin;
        if (gen == 0 || top == 0) {
          origin = "random";
          child = t.bases[stage];
          for (const Unit& u : units) pool.redraw(child, u, rng);
        } else if (static_cast<int>(g.members.size()) < mutations || top == 1) {
          origin = "mutation";
          const Genotype& from = parent();
          child = from;
          std::bernoulli_distribution flip(options.mutation);
          for (const Unit& u : units)
            if (flip(rng)) pool.redraw(child, u, rng);
          if (child == from) continue;
        } else {
          origin = "crossover";
          const Genotype &a = parent(), &b = parent();
          if (a == b) continue;
          child = a;
          std::bernoulli_distribution take_b(0.5);
          for (const Unit& u : units)
            if (take_b(rng)) pool.copy(child, b, u);
        }
        child = pool.repair(std::move(child), rng);
        if (used.count(child) || domain.latency_bound_ms(child) > t.limit_ms ||
            domain.latency_ms(child) > t.limit_ms)
          continue;
        used.insert(child);
        g.members.push_back(child);
        g.origins.push_back(origin);
      }
      if (g.members.empty()) break;  // nothing new meets the limit: the stage ends
      left -= static_cast<int>(g.members.size());
      t.generations.push_back(g);
      const int before = budgets[stage] - left - static_cast<int>(g.members.size());
      bool waiting = false;
      for (std::size_t i = 0; i < g.members.size(); ++i) {
        if (accuracy.count(g.members[i])) continue;
        if (waiting_on.count(g.members[i])) {
          waiting = true;
          continue;
        }
        t.next = g.members[i];
        t.why = std::string(stage == 0 ? "later" : "early") + " layers, generation " +
                std::to_string(gen + 1) + ": " + g.origins[i] + ", network " +
                std::to_string(before + static_cast<int>(i) + 1) + " of the stage's " +
                std::to_string(budgets[stage]) + " (limit " + core::fixed(t.limit_ms, 4) + " ms)";
        return t;
      }
      if (waiting) return t;
      for (const Genotype& m : g.members) {
        const double a = accuracy.at(m);
        ranked.emplace_back(a, m);
        if (!t.best || a > t.best_accuracy) {
          t.best = m;
          t.best_accuracy = a;
        }
      }
    }
  }
  t.complete = true;
  return t;
}

HurricaneOptions hurricane_options(const StrategyOptions& options) {
  HurricaneOptions h;
  h.operators = options.hurricane_operators;
  h.population = options.population;
  h.latency_limit_ms = options.latency_limit_ms;
  h.budget = options.budget;
  return h;
}

std::unique_ptr<Strategy> make_hurricane_strategy(const Domain& domain, std::uint64_t seed,
                                                  const HurricaneOptions& options) {
  if (options.population < 1)
    throw core::InputError("--population " + std::to_string(options.population) +
                           ": hurricane needs at least one network per generation");
  if (options.latency_limit_ms < 0)
    throw core::InputError("--latency-limit " + core::fixed(options.latency_limit_ms, 4) +
                           ": a limit in ms above 0 (0 picks the median of random networks)");
  std::vector<OperatorPool> pools = select_operators(domain, options.operators);  // checks K
  if (options.latency_limit_ms > 0) {
    const double fastest = domain.latency_ms(cheapest(domain, Pools(domain, pools)));
    if (fastest > options.latency_limit_ms)
      throw core::InputError(
          "--latency-limit " + core::fixed(options.latency_limit_ms, 4) +
          " ms: the cheapest network of the kept operator pools (every slot at its smallest, "
          "each block at the kept operator that makes it fastest) " +
          (fastest < kInfeasibleMs ? "takes " + core::fixed(fastest, 4) + " ms per frame"
                                   : std::string("fits nowhere")));
  }
  return std::make_unique<HurricaneStrategy>(domain, seed, options, std::move(pools));
}

}  // namespace hao::search
