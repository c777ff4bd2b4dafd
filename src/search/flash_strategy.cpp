#include "search/flash_strategy.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.hpp"
#include "core/text.hpp"
#include "predict/degree_predictor.hpp"
#include "search/pareto.hpp"

namespace hao::search {

Genotype latin_hypercube_row(const std::vector<Slot>& slots, int n, int i, std::uint64_t seed) {
  HAO_CHECK(n >= 1 && i >= 0 && i < n, "Latin hypercube row out of range");
  Genotype g;
  for (std::size_t s = 0; s < slots.size(); ++s) {
    // The same permutation of strata for every row of this (seed, slot, n).
    std::vector<int> strata(static_cast<std::size_t>(n));
    std::iota(strata.begin(), strata.end(), 0);
    Rng rng = rng_for(seed ^ 0x4c48u, s * 1000003u + static_cast<std::uint64_t>(n));
    std::shuffle(strata.begin(), strata.end(), rng);
    const std::size_t choices = slots[s].choices.size();
    // Stratum k of n covers [k/n, (k+1)/n) of the choices; its middle picks one.
    const double u = (strata[static_cast<std::size_t>(i)] + 0.5) / n;
    g.push_back(static_cast<int>(std::min<double>(static_cast<double>(choices) - 1,
                                                  std::floor(u * static_cast<double>(choices)))));
  }
  return g;
}

double van_der_corput(std::uint64_t k) {
  double v = 0, f = 0.5;
  for (std::uint64_t x = k + 1; x; x >>= 1, f /= 2)
    if (x & 1) v += f;
  return v;
}

namespace {

class FlashStrategy : public Strategy {
 public:
  FlashStrategy(const Domain& d, std::uint64_t seed, const StrategyOptions& o)
      : Strategy(d, seed), options_(o) {
    if (options_.calibration == 0) options_.calibration = 25;  // unresolved (for_budget): FLASH's
    Rng rng = rng_for(seed, 0);
    if (!d.topology(d.random(rng)))
      throw core::InputError(
          "strategy flash needs a space whose networks have an NN-Degree (nb201, anb); this "
          "space has none");
    if (options_.calibration < 3)
      throw core::InputError("--calibration-networks " + std::to_string(options_.calibration) +
                             ": the NN-Degree predictor needs at least 3 calibration networks");
    if (auto all = d.enumerate()) {
      for (const auto& g : *all) {
        const double l = d.latency_ms(g);
        if (l >= kInfeasibleMs) continue;
        listed_.push_back({g, l, *d.topology(g)});
      }
    }
  }
  std::string name() const override { return "flash"; }
  std::string why() const override { return why_; }

  Genotype ask() override {
    const std::size_t asked = history_.size() + pending_.size();
    Rng rng = ask_rng();
    const auto n = static_cast<std::size_t>(options_.calibration);
    if (asked < n) {
      why_ = "calibration " + std::to_string(asked + 1) + "/" + std::to_string(n) +
             " (Latin hypercube)";
      const Genotype row = latin_hypercube_row(domain_.slots(), options_.calibration,
                                               static_cast<int>(asked), seed_);
      return untold(domain_.snap(row, rng), rng);
    }
    if (history_.size() < 3) {  // calibrations still pending elsewhere: nothing to fit yet
      why_ = "random (calibration pending)";
      return untold(domain_.random(rng), rng);
    }
    std::vector<double> degree, params, accuracy;
    for (const auto& o : history_) {
      const Topology t = *domain_.topology(o.genotype);
      degree.push_back(t.nn_degree);
      params.push_back(t.parameters);
      accuracy.push_back(o.accuracy);
    }
    predict::DegreePredictor predictor;
    predictor.fit(degree, params, accuracy);

    const std::vector<Candidate>& pool = listed_.empty() ? sampled_pool(rng) : listed_;
    double lo = kInfeasibleMs, hi = 0;
    for (const auto& c : pool) lo = std::min(lo, c.latency_ms), hi = std::max(hi, c.latency_ms);
    if (pool.empty() || !(hi > 0)) {
      why_ = "random (no design fits)";
      return untold(domain_.random(rng), rng);
    }
    // The target of this co-design step: geometric between the fastest and the slowest design.
    const double u = van_der_corput(asked - n);
    const double target = lo * std::pow(hi / lo, u);
    const Candidate* best = nullptr;
    double best_acc = 0;
    for (const auto& c : pool) {
      if (c.latency_ms > target * (1 + 1e-9) || told(c.genotype)) continue;
      const double a = predictor.predict(c.topology.nn_degree, c.topology.parameters);
      if (!best || a > best_acc || (a == best_acc && c.latency_ms < best->latency_ms)) {
        best = &c;
        best_acc = a;
      }
    }
    if (!best) {
      why_ = "random (every design at <= " + core::fixed(target, 3) + " ms told)";
      return untold(domain_.random(rng), rng);
    }
    why_ = "predicted " + core::fixed(best_acc, 2) + " at <= " + core::fixed(target, 3) + " ms (" +
           predictor.chosen().name() + ", leave-one-out RMSE " +
           core::fixed(predictor.chosen().loo_rmse, 2) + ")";
    return best->genotype;
  }

 private:
  struct Candidate {
    Genotype genotype;
    double latency_ms = 0;
    Topology topology;
  };

  /// A space too large to list: random genotypes and one-slot mutations of the observed
  /// front, with their latencies.
  const std::vector<Candidate>& sampled_pool(Rng& rng) {
    sampled_.clear();
    std::vector<Genotype> genotypes;
    for (int i = 0; i < 4 * options_.pool_random; ++i) genotypes.push_back(domain_.random(rng));
    std::vector<Objectives> seen;
    for (const auto& o : history_) seen.push_back({o.latency_ms, o.accuracy});
    for (std::size_t i : pareto_front(seen))
      for (int m = 0; m < options_.pool_mutations; ++m)
        genotypes.push_back(mutate(history_[i].genotype, rng));
    for (auto& g : genotypes) {
      if (told(g)) continue;
      const double l = domain_.latency_ms(g);
      if (l < kInfeasibleMs) sampled_.push_back({std::move(g), l, *domain_.topology(g)});
    }
    return sampled_;
  }

  StrategyOptions options_;
  std::vector<Candidate> listed_, sampled_;
  std::string why_;
};

}  // namespace

std::unique_ptr<Strategy> make_flash_strategy(const Domain& domain, std::uint64_t seed,
                                              const StrategyOptions& options) {
  return std::make_unique<FlashStrategy>(domain, seed, options);
}

}  // namespace hao::search
