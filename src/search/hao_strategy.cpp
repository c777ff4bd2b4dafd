#include "search/hao_strategy.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "ilp/folding_program.hpp"
#include "predict/metrics.hpp"
#include "predict/regression.hpp"
#include "search/pareto.hpp"

namespace hao::search {
namespace {

// The surrogate's features: the indicator of each of the space's terms.
Eigen::MatrixXd term_rows(const SelectionSpace& sel, const std::vector<Observation>& history) {
  Eigen::MatrixXd x(static_cast<Eigen::Index>(history.size()),
                    static_cast<Eigen::Index>(sel.terms.size()));
  for (std::size_t i = 0; i < history.size(); ++i)
    for (std::size_t t = 0; t < sel.terms.size(); ++t)
      x(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(t)) =
          ilp::part_present(sel.problem.parts[sel.terms[t]], history[i].genotype) ? 1.0 : 0.0;
  return x;
}

std::string role_of(const std::string& layer) {
  const std::size_t cut = layer.find('_');
  return cut == std::string::npos ? layer : layer.substr(cut + 1);
}

}  // namespace

OmegaTable::OmegaTable(const Domain& domain, const std::vector<Observation>& history) {
  for (const auto& o : history)
    for (const auto& [name, per_bits] : o.omega)
      for (const auto& [bits, omega] : per_bits) {
        Mean& a = by_name_[{name, bits}];
        a.sum += omega, ++a.count;
        Mean& b = by_role_[{role_of(name), bits}];
        b.sum += omega, ++b.count;
      }
  std::vector<double> sums;
  for (const auto& o : history)
    if (!o.omega.empty()) sums.push_back(network(domain, o.genotype));
  if (sums.empty()) return;
  std::nth_element(sums.begin(), sums.begin() + static_cast<long>(sums.size() / 2), sums.end());
  median_ = std::max(sums[sums.size() / 2], 1e-300);
}

double OmegaTable::layer(const std::string& name, int bits) const {
  for (const auto* table : {&by_name_, &by_role_}) {
    const auto it = table->find({table == &by_name_ ? name : role_of(name), bits});
    if (it != table->end()) return it->second.sum / it->second.count;
  }
  return 0;
}

double OmegaTable::network(const Domain& domain, const Genotype& g) const {
  double total = 0;
  for (const auto& [name, bits] : domain.layer_bits(g)) total += layer(name, bits);
  return total;
}

double OmegaTable::feature(const Domain& domain, const Genotype& g) const {
  return std::log10(std::max(network(domain, g), 1e-12 * median_) / median_);
}

namespace {

// The Gaussian process's settings; with sensitivity measured and `trend`, its feature (the last
// column) also enters as a linear trend whose weight the marginal likelihood decides.
predict::GaussianProcess::Options gp_options(const Eigen::MatrixXd& features,
                                             const OmegaTable& omega, bool trend) {
  predict::GaussianProcess::Options o;
  o.length_scales = {0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0};
  if (trend && !omega.empty()) {
    o.linear_columns = {features.cols() - 1};
    o.linear_variances = {0.01, 0.1, 1.0, 10.0};
  }
  return o;
}

// Predictor features of `genotypes`: the domain's (architecture and bits), then the
// sensitivity feature when `omega` has measurements.
Eigen::MatrixXd feature_rows(const Domain& domain, const std::vector<Genotype>& genotypes,
                             const OmegaTable& omega) {
  Eigen::MatrixXd x;
  for (std::size_t i = 0; i < genotypes.size(); ++i) {
    std::vector<double> f = domain.features(genotypes[i]);
    if (!omega.empty()) f.push_back(omega.feature(domain, genotypes[i]));
    if (i == 0)
      x.resize(static_cast<Eigen::Index>(genotypes.size()), static_cast<Eigen::Index>(f.size()));
    for (std::size_t j = 0; j < f.size(); ++j)
      x(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = f[j];
  }
  return x;
}

class HaoStrategy : public Strategy {
 public:
  HaoStrategy(const Domain& d, std::uint64_t seed, const StrategyOptions& o)
      : Strategy(d, seed), options_(o) {
    if (auto all = d.enumerate()) {
      pool_ = std::move(*all);
      pool_features_ = feature_rows(d, pool_, OmegaTable(d, {}));
      for (const auto& g : pool_) pool_latency_.push_back(d.latency_ms(g));
    }
  }
  std::string name() const override { return "hao"; }
  std::string why() const override { return why_; }

  Genotype ask() override {
    Rng rng = ask_rng();
    if (history_.size() < static_cast<std::size_t>(std::max(2, options_.initial_samples))) {
      why_ = "initial random sample";
      return untold(domain_.random(rng), rng);
    }
    std::vector<Genotype> observed;
    Eigen::VectorXd y(static_cast<Eigen::Index>(history_.size()));
    for (std::size_t i = 0; i < history_.size(); ++i) {
      observed.push_back(history_[i].genotype);
      y(static_cast<Eigen::Index>(i)) = history_[i].accuracy;
    }
    predict::GaussianProcess gp;
    const OmegaTable omega(domain_, history_);
    const Eigen::MatrixXd observed_features = feature_rows(domain_, observed, omega);
    gp.fit(observed_features, y, gp_options(observed_features, omega, options_.sensitivity_trend));
    // Kriging believer: the candidates other workers are evaluating count as observed at their
    // predicted accuracy, so the front and the predictive spread near them are as if they were
    // in, and this ask goes elsewhere (the hyperparameters are fitted again with them).
    std::vector<Observation> with_pending;  // the history is copied only when there are some
    if (!pending_.empty()) {
      with_pending = history_;
      const Eigen::MatrixXd pending_features = feature_rows(domain_, pending_, omega);
      const auto fantasy = gp.predict_rows(pending_features);
      Eigen::MatrixXd all_features(observed_features.rows() + pending_features.rows(),
                                   observed_features.cols());
      all_features << observed_features, pending_features;
      Eigen::VectorXd all_y(all_features.rows());
      all_y.head(y.size()) = y;
      for (std::size_t i = 0; i < pending_.size(); ++i) {
        all_y(y.size() + static_cast<Eigen::Index>(i)) = fantasy[i].mean;
        with_pending.push_back({pending_[i], fantasy[i].mean, domain_.latency_ms(pending_[i]), {}});
      }
      gp.fit(all_features, all_y, gp_options(all_features, omega, options_.sensitivity_trend));
    }
    const std::vector<Observation>& believed = pending_.empty() ? history_ : with_pending;

    const std::vector<Genotype>* pool = &pool_;
    const Eigen::MatrixXd* features = &pool_features_;
    const std::vector<double>* latency = &pool_latency_;
    std::vector<Genotype> local;
    std::vector<std::string> source;  // per local candidate, where it came from
    Eigen::MatrixXd local_features;
    std::vector<double> local_latency;
    bool bounds_only = false;  // `latency` holds lower bounds (Domain::latency_bound_ms)
    if (pool_.empty()) {       // a space too large to list: random genotypes and front mutations
      for (int i = 0; i < options_.pool_random; ++i) local.push_back(domain_.random(rng));
      source.assign(local.size(), "random candidate");
      std::vector<Objectives> seen;
      for (const auto& o : history_) seen.push_back({o.latency_ms, o.accuracy});
      std::vector<bool> on_front(history_.size(), false);
      for (std::size_t k : pareto_front(seen)) on_front[k] = true;
      std::vector<std::size_t> others;
      for (std::size_t k = 0; k < history_.size(); ++k)
        if (on_front[k])
          for (int i = 0; i < options_.pool_mutations; ++i)
            local.push_back(mutate(history_[k].genotype, rng));
        else
          others.push_back(k);
      if (options_.pool_others >= 0 &&
          others.size() > static_cast<std::size_t>(options_.pool_others)) {
        std::shuffle(others.begin(), others.end(), rng);
        others.resize(static_cast<std::size_t>(options_.pool_others));
      }
      for (std::size_t k : others) local.push_back(mutate(history_[k].genotype, rng));
      source.resize(local.size(), "mutation of an observed design");
      // Program 4: the additive surrogate's best network at each II target.
      const int every = std::max(1, options_.program4_every);
      if ((history_.size() - static_cast<std::size_t>(std::max(2, options_.initial_samples))) %
              static_cast<std::size_t>(every) ==
          0)
        for (const Proposal& p : program4_proposals(domain_, history_, options_.sweep_points)) {
          local.push_back(p.genotype);
          source.push_back("program 4 at II <= " + std::to_string(p.target_ii_cycles) + " cycles");
        }
      local_features = feature_rows(domain_, local, omega);
      // Bounds only: the exact latency (program 1) is computed below for the candidates
      // whose bound leaves them a chance.
      for (const auto& g : local) local_latency.push_back(domain_.latency_bound_ms(g));
      bounds_only = true;
      pool = &local;
      features = &local_features;
      latency = &local_latency;
    } else if (!omega.empty()) {  // a listed space with measured sensitivities
      local_features = feature_rows(domain_, pool_, omega);
      features = &local_features;
    }
    const auto predicted = gp.predict_rows(*features);

    // Normalization: latency by the pool's bounds (free to know); accuracy from zero (the
    // worst a classifier can score, so the reference point lies beyond every candidate) to the
    // best observed or predicted.
    Normalizer n;
    // A design that fits nowhere (the domain prices it at kInfeasibleMs) neither stretches the
    // latency scale nor joins the front; it is never proposed.
    n.latency_min = 1e300;
    n.latency_max = -1e300;
    // On a log scale when asked: fps spanning a factor of ten then counts each factor alike.
    auto scale = [&](double l) { return options_.log_latency ? std::log(std::max(l, 1e-12)) : l; };
    auto widen = [&](double l) {
      if (l >= kInfeasibleMs) return;
      n.latency_min = std::min(n.latency_min, scale(l));
      n.latency_max = std::max(n.latency_max, scale(l));
    };
    for (double l : *latency) widen(l);
    for (const auto& o : believed) widen(o.latency_ms);
    if (n.latency_min > n.latency_max) n.latency_min = n.latency_max = 0;
    n.accuracy_min = std::min(0.0, believed[0].accuracy);
    n.accuracy_max = believed[0].accuracy;
    for (const auto& o : believed) {
      n.accuracy_min = std::min(n.accuracy_min, o.accuracy);
      n.accuracy_max = std::max(n.accuracy_max, o.accuracy);
    }
    for (const auto& p : predicted) {
      n.accuracy_min = std::min(n.accuracy_min, p.mean);
      n.accuracy_max = std::max(n.accuracy_max, p.mean + options_.optimism * p.sd);
    }
    std::vector<std::pair<double, double>> front;
    for (const auto& o : believed)
      if (o.latency_ms < kInfeasibleMs)
        front.emplace_back(n.latency(scale(o.latency_ms)), n.error(o.accuracy));
    const Staircase staircase(std::move(front));

    // A candidate's gain at latency `l`: the hypervolume it adds at its rated accuracy,
    // divided, with spread, by 1 + the evaluations within 0.5% of `l`. At a lower bound of
    // its latency and without that division, an upper bound of it.
    auto gain = [&](std::size_t i, double l, bool crowd) {
      const double rated = predicted[i].mean + options_.optimism * predicted[i].sd;
      double g = staircase.gain(n.latency(scale(l)), n.error(rated));
      if (options_.spread && crowd) {
        int k = 0;
        for (const auto& o : believed) k += std::abs(o.latency_ms - l) <= 0.005 * l;
        g /= 1 + k;
      }
      return g;
    };
    std::vector<std::size_t> open;  // candidates that may be asked
    std::vector<double> upper;      // per candidate, an upper bound of its gain
    for (std::size_t i = 0; i < pool->size(); ++i) {
      if (told((*pool)[i]) || !domain_.valid((*pool)[i]) || (*latency)[i] >= kInfeasibleMs) {
        upper.push_back(0);
        continue;
      }
      open.push_back(i);
      upper.push_back(gain(i, (*latency)[i], !bounds_only));
    }
    // The exact latency where only a bound is known: program 1, once per candidate.
    std::vector<double> exact(*latency);
    std::vector<bool> known(pool->size(), !bounds_only);
    auto exact_latency = [&](std::size_t i) {
      if (!known[i]) exact[i] = domain_.latency_ms((*pool)[i]), known[i] = true;
      return exact[i];
    };
    // The result is that of computing every exact gain, at a fraction of the program 1 solves.
    std::size_t best = best_by_bounds(open, upper, [&](std::size_t i) {
      const double l = exact_latency(i);
      return l >= kInfeasibleMs ? -std::numeric_limits<double>::infinity() : gain(i, l, true);
    });
    if (best == std::numeric_limits<std::size_t>::max()) best = pool->size();
    // Else the feasible candidate of the largest predictive spread (the first of equals).
    std::size_t most_uncertain = pool->size();
    if (best == pool->size()) {
      std::vector<std::size_t> order = open;
      std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return predicted[a].sd > predicted[b].sd;
      });
      for (std::size_t i : order)
        if (exact_latency(i) < kInfeasibleMs) {
          most_uncertain = i;
          break;
        }
    }
    // No candidate is predicted to move the front: learn where the predictor knows least.
    const bool uncertain = best == pool->size();
    if (uncertain) best = most_uncertain;
    if (best == pool->size()) {
      why_ = "random (no candidate left)";
      return untold(domain_.random(rng), rng);
    }
    why_ = best < source.size() ? source[best] : "table row";
    why_ += uncertain ? ", most uncertain" : ", largest predicted hypervolume gain";
    return (*pool)[best];
  }

 private:
  StrategyOptions options_;
  std::string why_;
  std::vector<Genotype> pool_;
  Eigen::MatrixXd pool_features_;
  std::vector<double> pool_latency_;
};

}  // namespace

std::unique_ptr<Strategy> make_hao_strategy(const Domain& domain, std::uint64_t seed,
                                            const StrategyOptions& options) {
  return std::make_unique<HaoStrategy>(domain, seed, options);
}

std::size_t best_by_bounds(const std::vector<std::size_t>& candidates,
                           const std::vector<double>& upper,
                           const std::function<double(std::size_t)>& exact) {
  std::vector<std::size_t> order = candidates;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return upper[a] > upper[b]; });
  std::size_t best = std::numeric_limits<std::size_t>::max();
  double best_gain = 0;
  for (std::size_t i : order) {
    if (upper[i] <= 0 || upper[i] < best_gain) break;  // no later candidate can win
    const double g = exact(i);
    if (g > best_gain || (g == best_gain && g > 0 && i < best)) {
      best_gain = g;
      best = i;
    }
  }
  return best;
}

std::vector<Proposal> program4_proposals(const Domain& domain,
                                         const std::vector<Observation>& history, int points) {
  const SelectionSpace* sel = domain.selection();
  if (!sel || history.empty() || points < 1) return {};
  Eigen::VectorXd y(static_cast<Eigen::Index>(history.size()));
  for (std::size_t i = 0; i < history.size(); ++i)
    y(static_cast<Eigen::Index>(i)) = history[i].accuracy;
  predict::Ridge ridge;
  ridge.fit(term_rows(*sel, history), y, 1.0);
  ilp::SelectionProblem problem = sel->problem;
  for (std::size_t t = 0; t < sel->terms.size(); ++t)
    problem.parts[sel->terms[t]].gain = ridge.weights()(static_cast<Eigen::Index>(t));

  // Deterministic: a node limit, not the clock, bounds each solve (asks must not depend on
  // the machine's load); the time limit is a safety net only.
  ilp::SolveOptions options;
  options.max_nodes = 30;  // about 0.15 s a node on the default space: best found within them
  options.time_limit_s = 60;
  // The sweep runs from the fastest any design can be to the fastest design of the
  // surrogate's unconstrained best: beyond that every target gives that network.
  auto [lower, upper] = ilp::selection_ii_range(problem);
  lower = std::max<std::int64_t>(lower, 1);
  // Observed networks, the surrogate's best-rated first: each solve below starts from one.
  // (Without a start, CBC's feasibility pump alone takes seconds on the default space; the
  // unconstrained solve took 18 s after 140 observations, 6 s with the start.)
  std::vector<std::size_t> order(history.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::vector<double> rated;
  for (const auto& o : history) rated.push_back(ilp::selection_gain(problem, o.genotype));
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return rated[a] > rated[b]; });
  // The best-rated observed network that fits at all, or every slot's first choice (in the
  // shipped spaces the smallest), at `target`.
  auto observed_start = [&](std::int64_t target) {
    ilp::SelectionSolution start;
    for (std::size_t i : order) {
      if (history[i].latency_ms >= kInfeasibleMs) continue;
      start = ilp::selection_design(problem, history[i].genotype, target, options);
      if (start.has_solution()) return start;
    }
    return ilp::selection_design(problem, std::vector<int>(problem.slot_sizes.size(), 0), target,
                                 options);
  };
  const std::int64_t loosest = std::max(upper, lower);
  const ilp::SelectionSolution loose_start = observed_start(loosest);
  const ilp::SelectionSolution free = ilp::solve_selection(
      problem, loosest, options, loose_start.has_solution() ? &loose_start : nullptr);
  if (!free.has_solution()) return {};
  const ilp::FoldingSolution fastest =
      ilp::minimize_ii_bisect(ilp::selection_folding(problem, free.choice), options);
  if (fastest.has_solution()) upper = fastest.ii_cycles;
  upper = std::max(upper, lower);
  std::vector<Proposal> out;
  std::set<Genotype> seen;
  // The first (tightest) solve starts from the best-rated observed network whose own design
  // reaches the target; each later one from its predecessor.
  ilp::SelectionSolution previous = observed_start(lower);
  for (int k = 0; k < points; ++k) {
    const double f = points == 1 ? 1.0 : static_cast<double>(k) / (points - 1);
    const auto target = static_cast<std::int64_t>(
        std::llround(static_cast<double>(lower) *
                     std::pow(static_cast<double>(upper) / static_cast<double>(lower), f)));
    const ilp::SelectionSolution s =
        k == points - 1 ? free : ilp::solve_selection(problem, target, options, &previous);
    if (s.has_solution()) previous = s;
    if (!s.has_solution() || !seen.insert(s.choice).second) continue;
    out.push_back({s.choice, target, ridge.intercept() + s.gain, s.stats});
  }
  return out;
}

std::map<std::string, double> predictor_kendall(const Domain& domain,
                                                const std::vector<Observation>& history,
                                                unsigned seed, bool sensitivity_trend) {
  if (history.size() < 10) return {};
  std::vector<Genotype> g;
  Eigen::VectorXd y(static_cast<Eigen::Index>(history.size()));
  for (std::size_t i = 0; i < history.size(); ++i) {
    g.push_back(history[i].genotype);
    y(static_cast<Eigen::Index>(i)) = history[i].accuracy;
  }
  const OmegaTable omega(domain, history);
  auto kendall = [&](const OmegaTable& table, const std::string& suffix,
                     std::map<std::string, double>& out) {
    const Eigen::MatrixXd x = feature_rows(domain, g, table);
    out["gp" + suffix] =
        predict::cross_validated_kendall(predict::RegressorKind::kGaussianProcess, x, y, 5, seed,
                                         gp_options(x, table, sensitivity_trend));
    out["ridge" + suffix] =
        predict::cross_validated_kendall(predict::RegressorKind::kRidge, x, y, 5, seed);
  };
  std::map<std::string, double> out;
  kendall(omega, "", out);
  if (!omega.empty()) kendall(OmegaTable(domain, {}), "_no_sensitivity", out);
  // The training-free rank, where the space has one: NN-Degree against the accuracies.
  if (domain.topology(g.front())) {
    std::vector<double> degree, accuracy;
    for (const auto& o : history) {
      degree.push_back(domain.topology(o.genotype)->nn_degree);
      accuracy.push_back(o.accuracy);
    }
    out["nn_degree"] = predict::kendall_tau_b(degree, accuracy);
  }
  return out;
}

}  // namespace hao::search
