#include "search/flash_strategy.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>
#include <set>

#include "core/error.hpp"
#include "core/text.hpp"
#include "opt/shgo.hpp"
#include "predict/degree_predictor.hpp"

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

Genotype codesign_start(const Domain& domain, const std::vector<Observation>& observations,
                        double target) {
  const Observation* incumbent = nullptr;
  for (const auto& o : observations)
    if (o.latency_ms <= target && (!incumbent || o.accuracy > incumbent->accuracy)) incumbent = &o;
  return incumbent ? incumbent->genotype : Genotype(domain.slots().size(), 0);
}

std::optional<LatencyModel> LatencyModel::fit(const Domain& domain,
                                              const std::vector<Observation>& observations) {
  std::vector<std::array<double, 3>> rows;
  std::vector<double> log_latency;
  for (const auto& o : observations) {
    if (!(o.latency_ms < kInfeasibleMs)) continue;
    const std::optional<Topology> t = domain.topology(o.genotype);
    if (!t || !(t->macs > 0) || !(t->bit_ops > 0)) continue;
    rows.push_back({1.0, std::log(t->bit_ops), std::log(t->macs)});
    log_latency.push_back(std::log(o.latency_ms));
  }
  if (rows.size() < 3) return std::nullopt;
  Eigen::MatrixXd design(static_cast<Eigen::Index>(rows.size()), 3);
  Eigen::VectorXd target(static_cast<Eigen::Index>(rows.size()));
  for (std::size_t i = 0; i < rows.size(); ++i) {
    for (Eigen::Index k = 0; k < 3; ++k)
      design(static_cast<Eigen::Index>(i), k) = rows[i][static_cast<std::size_t>(k)];
    target(static_cast<Eigen::Index>(i)) = log_latency[i];
  }
  const Eigen::VectorXd c = design.completeOrthogonalDecomposition().solve(target);
  return LatencyModel{{c(0), c(1), c(2)}};
}

double LatencyModel::predict_ms(const Domain& domain, const Genotype& g) const {
  const Topology t = *domain.topology(g);
  return std::exp(coefficients[0] + coefficients[1] * std::log(t.bit_ops) +
                  coefficients[2] * std::log(t.macs));
}

namespace {

/// One run of the hierarchy from `start`: passes over the levels until one changes nothing
/// (block coordinate descent; FLASH makes one pass). The last level's minima, best first.
std::vector<Genotype> descend_levels(const Domain& domain,
                                     const std::vector<std::vector<std::size_t>>& levels,
                                     const std::function<double(const Genotype&)>& predicted,
                                     const std::function<double(const Genotype&)>& latency_ms,
                                     double target, Genotype start,
                                     const std::function<bool(const Genotype&)>& allowed,
                                     std::size_t* evaluations) {
  opt::ShgoOptions so;
  so.max_evaluations = 20000;  // flash_codesign's chunks keep each first grid within it
  std::vector<Genotype> minima;
  for (int pass = 0; pass < 4; ++pass) {
    const Genotype before = start;
    for (const auto& level : levels) {
      if (level.empty()) continue;
      std::vector<int> lower(level.size(), 0), upper;
      for (std::size_t i : level)
        upper.push_back(static_cast<int>(domain.slots()[i].choices.size()) - 1);
      const auto with = [&](const std::vector<int>& x) {
        Genotype y = start;
        for (std::size_t k = 0; k < level.size(); ++k) y[level[k]] = x[k];
        return y;
      };
      double tie = 0;
      for (int u : upper) tie += u + 1;
      const auto objective = [&](const std::vector<int>& x) {
        double sum = 0;
        for (int v : x) sum += v;
        return -predicted(with(x)) - 1e-6 * sum / tie;
      };
      const auto feasible = [&](const std::vector<int>& x) {
        const Genotype y = with(x);
        return domain.valid(y) && (!allowed || allowed(y)) && latency_ms(y) <= target;
      };
      const opt::LatticeResult r = opt::shgo_lattice(objective, lower, upper, feasible, so);
      if (evaluations) *evaluations += r.evaluations;
      if (!r.feasible) return {};
      start = with(r.x);
      minima.clear();
      for (const auto& m : r.minima) minima.push_back(with(m.first));
    }
    if (start == before || levels.size() < 2) break;
  }
  return minima;
}

}  // namespace

std::vector<Genotype> flash_codesign(const Domain& domain,
                                     const std::function<double(const Genotype&)>& predicted,
                                     const std::function<double(const Genotype&)>& latency_ms,
                                     double target, Genotype start,
                                     const std::function<bool(const Genotype&)>& allowed,
                                     std::size_t* evaluations) {
  // Starts: `start`, and with several levels also `start` with every slot of the last level at
  // its k-th choice, for each k: the levels are coupled through the latency (wider networks
  // fit with fewer skips), and one descent stops where no single level improves.
  // A level whose first SHGO grid (min(3, choices) points per slot) would pass 20,000 points
  // is walked in consecutive chunks that stay within it.
  std::vector<std::vector<std::size_t>> levels;
  for (const auto& level : domain.hierarchy()) {
    std::vector<std::size_t> chunk;
    double points = 1;
    for (std::size_t i : level) {
      const double p =
          static_cast<double>(std::min<std::size_t>(3, domain.slots()[i].choices.size()));
      if (!chunk.empty() && points * p > 20000) {
        levels.push_back(std::move(chunk));
        chunk.clear();
        points = 1;
      }
      chunk.push_back(i);
      points *= p;
    }
    if (!chunk.empty()) levels.push_back(std::move(chunk));
  }
  std::vector<Genotype> starts{start};
  if (levels.size() > 1 && !levels.back().empty()) {
    std::size_t most = 0;
    for (std::size_t i : levels.back()) most = std::max(most, domain.slots()[i].choices.size());
    for (std::size_t k = 0; k < most; ++k) {
      Genotype g = start;
      for (std::size_t i : levels.back())
        g[i] =
            std::min(static_cast<int>(k), static_cast<int>(domain.slots()[i].choices.size()) - 1);
      if (g != start) starts.push_back(g);
    }
  }
  std::vector<std::pair<double, Genotype>> all;
  std::set<Genotype> seen;
  for (const Genotype& s : starts)
    for (Genotype& m :
         descend_levels(domain, levels, predicted, latency_ms, target, s, allowed, evaluations))
      if (seen.insert(m).second) all.emplace_back(predicted(m), std::move(m));
  std::stable_sort(all.begin(), all.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<Genotype> out;
  for (auto& [value, g] : all) out.push_back(std::move(g));
  return out;
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
          "strategy flash needs a space whose networks have an NN-Degree (every built-in space "
          "has one: mbv2, densenet, nb201, anb); this space has none");
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

    if (listed_.empty()) return codesign(predictor, asked - n, rng);
    double lo = kInfeasibleMs, hi = 0;
    for (const auto& c : listed_) lo = std::min(lo, c.latency_ms), hi = std::max(hi, c.latency_ms);
    if (!(hi > 0)) {
      why_ = "random (no design fits)";
      return untold(domain_.random(rng), rng);
    }
    const double target = sweep_target(lo, hi, asked - n);
    const Candidate* best = nullptr;
    double best_acc = 0;
    for (const auto& c : listed_) {
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
    why_ = predicted_why("predicted", best_acc, target, predictor);
    return best->genotype;
  }

 private:
  /// A co-design step's target: geometric between the fastest and the slowest design (lo, hi),
  /// at the step's van der Corput point.
  static double sweep_target(double lo, double hi, std::size_t step) {
    return lo * std::pow(hi / lo, van_der_corput(step));
  }
  /// "PREFIX A at <= T ms (MODEL, leave-one-out RMSE R)": why() of a co-design ask.
  static std::string predicted_why(const std::string& prefix, double accuracy, double target,
                                   const predict::DegreePredictor& predictor) {
    return prefix + " " + core::fixed(accuracy, 2) + " at <= " + core::fixed(target, 3) + " ms (" +
           predictor.chosen().name() + ", leave-one-out RMSE " +
           core::fixed(predictor.chosen().loo_rmse, 2) + ")";
  }

  struct Candidate {
    Genotype genotype;
    double latency_ms = 0;
    Topology topology;
  };

  /// A space too large to list: the target sweeps the observed latencies' range; FLASH's
  /// hierarchical SHGO (flash_codesign) from the incumbent (the most accurate observation under
  /// the target, else every slot's first choice) under the latency model fitted to the
  /// observations; then the hardware: program 1 (latency_ms) on its first three proposals, the
  /// first that meets the target asked. Up to three rounds: a proposal program 1 prices above
  /// the target tightens the model's target by the ratio it missed by; one that fits nowhere is
  /// never proposed again.
  Genotype codesign(const predict::DegreePredictor& predictor, std::size_t step, Rng& rng) {
    double lo = kInfeasibleMs, hi = 0;
    for (const auto& o : history_)
      if (o.latency_ms < kInfeasibleMs)
        lo = std::min(lo, o.latency_ms), hi = std::max(hi, o.latency_ms);
    const std::optional<LatencyModel> model = LatencyModel::fit(domain_, history_);
    if (!(hi > 0) || !model) {
      why_ = "random (fewer than 3 observed designs fit, or the space has no MAC counts)";
      return untold(domain_.random(rng), rng);
    }
    const double target = sweep_target(lo, hi, step);
    const Genotype start = codesign_start(domain_, history_, target);
    const auto predicted = [&](const Genotype& x) {
      const Topology t = *domain_.topology(x);
      return predictor.predict(t.nn_degree, t.parameters);
    };
    std::set<Genotype> missed;
    double model_target = target;
    for (int round = 0; round < 3; ++round) {
      const std::vector<Genotype> minima = flash_codesign(
          domain_, predicted, [&](const Genotype& x) { return model->predict_ms(domain_, x); },
          model_target, start,
          [&](const Genotype& x) { return !told(x) && !missed.count(x) && !unfit_.count(x); });
      if (minima.empty()) {
        why_ = "random (nothing untold fits " + core::fixed(target, 3) + " ms)";
        return untold(domain_.random(rng), rng);
      }
      for (std::size_t i = 0; i < minima.size() && i < 3; ++i) {
        const double exact = domain_.latency_ms(minima[i]);
        if (exact <= target * (1 + 1e-9)) {
          why_ = predicted_why("SHGO: predicted", predicted(minima[i]), target, predictor);
          return minima[i];
        }
        if (exact >= kInfeasibleMs) {
          unfit_.insert(minima[i]);
        } else {
          missed.insert(minima[i]);
          model_target = std::min(model_target, model_target * target / exact);
        }
      }
    }
    why_ = "random (SHGO's proposals miss " + core::fixed(target, 3) + " ms on program 1)";
    return untold(domain_.random(rng), rng);
  }

  StrategyOptions options_;
  std::vector<Candidate> listed_;
  std::set<Genotype> unfit_;  ///< proposals no accelerator fits (program 1)
  std::string why_;
};

}  // namespace

std::unique_ptr<Strategy> make_flash_strategy(const Domain& domain, std::uint64_t seed,
                                              const StrategyOptions& options) {
  return std::make_unique<FlashStrategy>(domain, seed, options);
}

}  // namespace hao::search
