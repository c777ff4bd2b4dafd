#include "search/strategy.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "core/text.hpp"
#include "search/autoshrink_strategy.hpp"
#include "search/flash_strategy.hpp"
#include "search/hao_strategy.hpp"
#include "search/hurricane_strategy.hpp"
#include "search/netadapt_strategy.hpp"
#include "search/nsga2.hpp"

namespace hao::search {

void Strategy::tell(const Observation& o) {
  history_.push_back(o);
  told_.insert(o.genotype);
}

void Strategy::set_pending(std::vector<Genotype> pending) {
  pending_ = std::move(pending);
  pending_set_ = std::set<Genotype>(pending_.begin(), pending_.end());
}

Genotype Strategy::mutate(const Genotype& g, Rng& rng) const {
  const auto& slots = domain_.slots();
  Genotype m = g;
  std::uniform_int_distribution<std::size_t> slot(0, slots.size() - 1);
  const std::size_t s = slot(rng);
  const int n = static_cast<int>(slots[s].choices.size());
  if (n > 1) {
    std::uniform_int_distribution<int> other(1, n - 1);
    m[s] = (m[s] + other(rng)) % n;
  }
  return domain_.snap(m, rng);
}

Genotype Strategy::untold(Genotype g, Rng& rng) const {
  if (domain_.valid(g) && !told(g)) return g;
  for (int i = 0; i < 20; ++i) {
    g = mutate(g, rng);
    if (!told(g)) return g;
  }
  for (int i = 0; i < 200; ++i) {
    g = domain_.random(rng);
    if (!told(g)) return g;
  }
  if (auto all = domain_.enumerate())
    for (const auto& c : *all)
      if (!told(c)) return c;
  HAO_CHECK(false, "the domain has no untold genotype left");
}

std::vector<std::vector<double>> numeric_choices(const Domain& domain,
                                                 const std::string& strategy) {
  std::vector<std::vector<double>> out;
  for (const Slot& slot : domain.slots()) {
    std::vector<double> values;
    if (slot.ordered_as_listed) {
      for (std::size_t i = 0; i < slot.choices.size(); ++i)
        values.push_back(static_cast<double>(i));
      out.push_back(std::move(values));
      continue;
    }
    for (const std::string& c : slot.choices) {
      std::size_t used = 0;
      double v = 0;
      try {
        v = std::stod(c, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used == 0 || used != c.size())
        throw core::InputError("strategy " + strategy +
                               " orders each slot's choices by size: slot " + slot.name +
                               "'s choice '" + c +
                               "' is not a number (a space of widths, depths, kernels and bits, "
                               "e.g. --space fmnist-mbv2)");
      values.push_back(v);
    }
    out.push_back(std::move(values));
  }
  return out;
}

Genotype extreme_genotype(const Domain& domain, const std::vector<std::vector<double>>& values,
                          bool largest) {
  Genotype g;
  for (const auto& v : values) {
    const auto it =
        largest ? std::max_element(v.begin(), v.end()) : std::min_element(v.begin(), v.end());
    g.push_back(static_cast<int>(it - v.begin()));
  }
  Rng unused(0);
  return domain.snap(g, unused);
}

Genotype TrajectoryStrategy::ask() {
  Next next = next_step();
  if (next.genotype) {
    why_ = next.why;
    return *next.genotype;
  }
  why_ =
      (next.complete ? "trajectory complete: a random " : "waiting on other workers: a random ") +
      noun_;
  Rng rng = ask_rng();
  return untold(domain_.random(rng), rng);
}

namespace {

class RandomStrategy : public Strategy {
 public:
  RandomStrategy(const Domain& d, std::uint64_t seed) : Strategy(d, seed) {}
  std::string name() const override { return "random"; }
  Genotype ask() override {
    Rng rng = ask_rng();
    return untold(domain_.random(rng), rng);
  }
};

/// Regularized evolution (Real et al., AAAI 2019), made two-objective: the population is the
/// last `population` observations (the oldest dies); a parent is a random member of a random
/// tournament's non-dominated subset; the child is the parent with one slot mutated.
class EvolutionStrategy : public Strategy {
 public:
  EvolutionStrategy(const Domain& d, std::uint64_t seed, const StrategyOptions& o)
      : Strategy(d, seed), options_(o) {}
  std::string name() const override { return "evolution"; }
  Genotype ask() override {
    Rng rng = ask_rng();
    const std::size_t n = history_.size(), p = static_cast<std::size_t>(options_.population);
    if (n < p) return untold(domain_.random(rng), rng);
    std::uniform_int_distribution<std::size_t> member(n - p, n - 1);
    std::vector<std::size_t> sample;
    for (int i = 0; i < options_.tournament; ++i) sample.push_back(member(rng));
    std::vector<std::size_t> winners;
    for (std::size_t a : sample) {
      bool dominated = false;
      for (std::size_t b : sample) {
        const auto &x = history_[a], &y = history_[b];
        if (y.latency_ms <= x.latency_ms && y.accuracy >= x.accuracy &&
            (y.latency_ms < x.latency_ms || y.accuracy > x.accuracy))
          dominated = true;
      }
      if (!dominated) winners.push_back(a);
    }
    std::uniform_int_distribution<std::size_t> pick(0, winners.size() - 1);
    return untold(mutate(history_[winners[pick(rng)]].genotype, rng), rng);
  }

 private:
  StrategyOptions options_;
};

}  // namespace

const std::vector<std::string>& strategy_names() {
  static const std::vector<std::string> names{"hao",   "random",     "nsga2",    "evolution",
                                              "flash", "autoshrink", "netadapt", "hurricane"};
  return names;
}

bool strategy_reads_sensitivity(const std::string& name) { return name == "hao"; }

void StrategyOptions::cheap_asks() {
  pool_random = 6;
  pool_mutations = 1;
  pool_others = 3;
  program4_every = 50;
  sweep_points = 3;
}

StrategyOptions StrategyOptions::for_budget(int evaluations) const {
  StrategyOptions o = *this;
  if (o.calibration == 0) o.calibration = std::min(25, (std::max(evaluations, 1) + 1) / 2);
  o.budget = evaluations;
  return o;
}

std::unique_ptr<Strategy> make_strategy(const std::string& name, const Domain& domain,
                                        std::uint64_t seed, const StrategyOptions& options) {
  if (name == "random") return std::make_unique<RandomStrategy>(domain, seed);
  if (name == "evolution") return std::make_unique<EvolutionStrategy>(domain, seed, options);
  if (name == "nsga2") return make_nsga2(domain, seed, options);
  if (name == "hao") return make_hao_strategy(domain, seed, options);
  if (name == "flash") return make_flash_strategy(domain, seed, options);
  if (name == "autoshrink") return make_autoshrink_strategy(domain, seed, shrink_options(options));
  if (name == "netadapt") return make_netadapt_strategy(domain, seed, adapt_options(options));
  if (name == "hurricane") return make_hurricane_strategy(domain, seed, hurricane_options(options));
  throw core::InputError("unknown strategy '" + name + "', expected one of " +
                         core::join(strategy_names(), ", "));
}

}  // namespace hao::search
