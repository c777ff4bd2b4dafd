#include "search/autoshrink_strategy.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "core/error.hpp"

namespace hao::search {
namespace {

// The draws of iteration t come from their own stream, apart from ask_rng's.
constexpr std::uint64_t kShrinkStream = 0x5a17'0000'0000ULL;

std::size_t stop_edges(const AutoShrinkDomain& d, const ShrinkOptions& o) {
  return o.min_edges > 0 ? static_cast<std::size_t>(o.min_edges) : d.spec().nodes.size();
}

class AutoShrinkStrategy : public TrajectoryStrategy {
 public:
  AutoShrinkStrategy(const AutoShrinkDomain& domain, std::uint64_t seed, ShrinkOptions options)
      : TrajectoryStrategy(domain, seed, "cell"), cells_(domain), options_(options) {}
  std::string name() const override { return "autoshrink"; }

 private:
  Next next_step() const override {
    const ShrinkTrajectory t = shrink_trajectory(cells_, options_, seed_, history_, pending_);
    return {t.next, t.why, t.complete};
  }

  const AutoShrinkDomain& cells_;
  ShrinkOptions options_;
};

}  // namespace

ShrinkCost parse_shrink_cost(const std::string& name) {
  if (name == "macs") return ShrinkCost::kMacs;
  if (name == "latency") return ShrinkCost::kLatency;
  throw core::InputError("--shrink-cost: '" + name + "', expected macs or latency");
}

double shrink_score(const AutoShrinkDomain& domain, const ShrinkOptions& options,
                    const Observation& o) {
  double cost = 0, reference = 1;
  if (options.cost == ShrinkCost::kLatency) {
    if (o.latency_ms >= kInfeasibleMs) return -std::numeric_limits<double>::infinity();
    cost = o.latency_ms;
  } else {
    cost = domain.topology(o.genotype)->macs;
    reference = 1e6;
  }
  return o.accuracy - 10 * (std::log10(std::max(cost, 1e-9)) - std::log10(reference));
}

ShrinkTrajectory shrink_trajectory(const AutoShrinkDomain& domain, const ShrinkOptions& options,
                                   std::uint64_t seed, const std::vector<Observation>& observations,
                                   const std::vector<Genotype>& pending) {
  HAO_CHECK(options.candidates >= 1, "AutoShrink draws at least one edge per iteration");
  std::map<Genotype, const Observation*> seen;
  for (const Observation& o : observations) seen[o.genotype] = &o;
  const auto observed = [&](const Genotype& g) -> const Observation* {
    const auto it = seen.find(g);
    return it == seen.end() ? nullptr : it->second;
  };
  const std::set<Genotype> waiting_on(pending.begin(), pending.end());
  const auto busy = [&](const Genotype& g) { return waiting_on.count(g) != 0; };
  ShrinkTrajectory t;
  Genotype current = domain.full();
  const Observation* o = observed(current);
  if (!o) {
    if (!busy(current)) t.next = current, t.why = "the fully connected cell";
    return t;
  }
  t.steps.push_back({*o, shrink_score(domain, options, *o), {}});
  const std::size_t stop = stop_edges(domain, options);
  for (std::uint64_t iteration = 1;; ++iteration) {
    std::vector<std::size_t> edges = domain.edges(current);
    if (edges.size() <= stop) {
      t.complete = true;
      break;
    }
    Rng rng = rng_for(seed ^ kShrinkStream, iteration);
    std::shuffle(edges.begin(), edges.end(), rng);
    edges.resize(std::min(edges.size(), static_cast<std::size_t>(options.candidates)));
    std::sort(edges.begin(), edges.end());  // evaluated in the cell's edge order
    ShrinkStep step;
    for (std::size_t e : edges) {
      Genotype c = current;
      c[e] = 0;
      c = domain.snap(c, rng);  // the edges of nodes left unreached go too
      if (std::find(step.candidates.begin(), step.candidates.end(), c) == step.candidates.end())
        step.candidates.push_back(c);
    }
    const Observation* best = nullptr;
    double best_score = 0;
    bool waiting = false;
    for (const Genotype& c : step.candidates) {
      const Observation* candidate = observed(c);
      if (!candidate) {
        if (busy(c)) {
          waiting = true;
          continue;
        }
        t.next = c;
        t.why = "iteration " + std::to_string(iteration) + ": without edge " +
                domain
                    .slots()[static_cast<std::size_t>(
                        std::mismatch(c.begin(), c.end(), current.begin()).first - c.begin())]
                    .name +
                " of " + std::to_string(domain.edges(current).size());
        return t;
      }
      const double score = shrink_score(domain, options, *candidate);
      if (!best || score > best_score) best = candidate, best_score = score;
    }
    if (waiting) return t;
    current = best->genotype;
    step.kept = *best;
    step.score = best_score;
    t.steps.push_back(step);
    if (step.score > t.steps[t.best].score) t.best = t.steps.size() - 1;
  }
  return t;
}

int shrink_budget(const AutoShrinkDomain& domain, const ShrinkOptions& options) {
  int budget = 1;
  const auto stop = static_cast<int>(stop_edges(domain, options));
  for (auto e = static_cast<int>(domain.full().size()); e > stop; --e)
    budget += std::min(e, options.candidates);
  return budget;
}

namespace {

const AutoShrinkDomain& cell_domain(const Domain& domain) {
  const auto* cells = dynamic_cast<const AutoShrinkDomain*>(&domain);
  if (!cells)
    throw core::InputError(
        "strategy autoshrink shrinks the edges of a node-DAG cell: it needs a space of kind "
        "autoshrink (e.g. --space fmnist-autoshrink)");
  return *cells;
}

}  // namespace

ShrinkOptions shrink_options(const StrategyOptions& options) {
  ShrinkOptions o;
  o.candidates = options.shrink_candidates;
  o.cost = parse_shrink_cost(options.shrink_cost);
  o.min_edges = options.shrink_min_edges;
  return o;
}

ShrinkTrajectory shrink_trajectory(const Domain& domain, const StrategyOptions& options,
                                   std::uint64_t seed,
                                   const std::vector<Observation>& observations) {
  return shrink_trajectory(cell_domain(domain), shrink_options(options), seed, observations);
}

int shrink_budget(const Domain& domain, const StrategyOptions& options) {
  return shrink_budget(cell_domain(domain), shrink_options(options));
}

std::unique_ptr<Strategy> make_autoshrink_strategy(const Domain& domain, std::uint64_t seed,
                                                   const ShrinkOptions& options) {
  const AutoShrinkDomain& cells = cell_domain(domain);
  if (options.candidates < 1)
    throw core::InputError("--shrink-candidates " + std::to_string(options.candidates) +
                           ": at least 1");
  return std::make_unique<AutoShrinkStrategy>(cells, seed, options);
}

}  // namespace hao::search
