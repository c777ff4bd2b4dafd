#include "search/hao_strategy.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "ilp/folding_program.hpp"
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

    const std::vector<Genotype>* pool = &pool_;
    const Eigen::MatrixXd* features = &pool_features_;
    const std::vector<double>* latency = &pool_latency_;
    std::vector<Genotype> local;
    std::vector<std::string> source;  // per local candidate, where it came from
    Eigen::MatrixXd local_features;
    std::vector<double> local_latency;
    if (pool_.empty()) {  // a space too large to list: random genotypes and front mutations
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
      for (const auto& g : local) local_latency.push_back(domain_.latency_ms(g));
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
    for (const auto& o : history_) widen(o.latency_ms);
    if (n.latency_min > n.latency_max) n.latency_min = n.latency_max = 0;
    n.accuracy_min = std::min(0.0, history_[0].accuracy);
    n.accuracy_max = history_[0].accuracy;
    for (const auto& o : history_) {
      n.accuracy_min = std::min(n.accuracy_min, o.accuracy);
      n.accuracy_max = std::max(n.accuracy_max, o.accuracy);
    }
    for (const auto& p : predicted) {
      n.accuracy_min = std::min(n.accuracy_min, p.mean);
      n.accuracy_max = std::max(n.accuracy_max, p.mean + options_.optimism * p.sd);
    }
    std::vector<std::pair<double, double>> front;
    for (const auto& o : history_)
      if (o.latency_ms < kInfeasibleMs)
        front.emplace_back(n.latency(scale(o.latency_ms)), n.error(o.accuracy));
    const Staircase staircase(std::move(front));

    std::size_t best = pool->size();
    double best_gain = 0, best_sd = -1;
    std::size_t most_uncertain = pool->size();
    for (std::size_t i = 0; i < pool->size(); ++i) {
      if (told((*pool)[i]) || !domain_.valid((*pool)[i]) || (*latency)[i] >= kInfeasibleMs)
        continue;
      const double rated = predicted[i].mean + options_.optimism * predicted[i].sd;
      double g = staircase.gain(n.latency(scale((*latency)[i])), n.error(rated));
      if (options_.spread) {
        // Crowding: a gain at a latency already evaluated k times (within 0.5%) counts 1/(1+k).
        int k = 0;
        for (const auto& o : history_)
          k += std::abs(o.latency_ms - (*latency)[i]) <= 0.005 * (*latency)[i];
        g /= 1 + k;
      }
      if (g > best_gain) {
        best_gain = g;
        best = i;
      }
      if (predicted[i].sd > best_sd) {
        best_sd = predicted[i].sd;
        most_uncertain = i;
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
  const ilp::SelectionSolution free =
      ilp::solve_selection(problem, std::max(upper, lower), options);
  if (!free.has_solution()) return {};
  const ilp::FoldingSolution fastest =
      ilp::minimize_ii_bisect(ilp::selection_folding(problem, free.choice), options);
  if (fastest.has_solution()) upper = fastest.ii_cycles;
  upper = std::max(upper, lower);
  std::vector<Proposal> out;
  std::set<Genotype> seen;
  // The first (tightest) solve starts from the observed network the surrogate rates best
  // among those whose own design reaches the target; each later one from its predecessor.
  // (Without a start, CBC's feasibility pump alone takes seconds on the default space.)
  std::vector<std::size_t> order(history.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::vector<double> rated;
  for (const auto& o : history) rated.push_back(ilp::selection_gain(problem, o.genotype));
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return rated[a] > rated[b]; });
  ilp::SelectionSolution previous;
  for (std::size_t i : order) {
    if (history[i].latency_ms >= kInfeasibleMs) continue;
    previous = ilp::selection_design(problem, history[i].genotype, lower, options);
    if (previous.has_solution()) break;
  }
  // Or the network of every slot's first choice (in the shipped spaces the smallest).
  if (!previous.has_solution())
    previous = ilp::selection_design(problem, std::vector<int>(problem.slot_sizes.size(), 0), lower,
                                     options);
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
  return out;
}

}  // namespace hao::search
