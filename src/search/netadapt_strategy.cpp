#include "search/netadapt_strategy.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "core/error.hpp"
#include "core/text.hpp"

namespace hao::search {
namespace {

// The draws of iteration t come from their own stream, apart from ask_rng's.
constexpr std::uint64_t kAdaptStream = 0xada9'0000'0000ULL;

class Shrinker {
 public:
  Shrinker(const Domain& domain, std::vector<std::vector<double>> values)
      : domain_(domain), values_(std::move(values)) {}

  /// `g` with slot `s` one choice smaller (the next smaller value), snapped; nullopt when the
  /// slot is at its smallest or the change does not survive the snap (a block not present).
  std::optional<Genotype> shrink(const Genotype& g, std::size_t s, Rng& rng) const {
    const auto& v = values_[s];
    const double now = v[static_cast<std::size_t>(g[s])];
    int best = -1;
    for (std::size_t c = 0; c < v.size(); ++c)
      if (v[c] < now && (best < 0 || v[c] > v[static_cast<std::size_t>(best)]))
        best = static_cast<int>(c);
    if (best < 0) return std::nullopt;
    Genotype c = g;
    c[s] = best;
    c = domain_.snap(c, rng);
    if (c == g) return std::nullopt;
    return c;
  }

  std::vector<std::size_t> shrinkable(const Genotype& g, Rng& rng) const {
    std::vector<std::size_t> out;
    for (std::size_t s = 0; s < values_.size(); ++s)
      if (shrink(g, s, rng)) out.push_back(s);
    return out;
  }

  bool meets(const Genotype& g, double target_ms) const {
    return domain_.latency_bound_ms(g) <= target_ms && domain_.latency_ms(g) <= target_ms;
  }

  /// From `g`, the slots of `set` shrunk one choice each in turn until the network meets the
  /// target; nullopt when they reach their smallest first.
  std::optional<Genotype> shrink_to(Genotype g, const std::vector<std::size_t>& set,
                                    double target_ms, Rng& rng) const {
    for (;;) {
      bool moved = false;
      for (std::size_t s : set) {
        if (auto c = shrink(g, s, rng)) {
          g = std::move(*c);
          moved = true;
          if (meets(g, target_ms)) return g;
        }
      }
      if (!moved) return std::nullopt;
    }
  }

 private:
  const Domain& domain_;
  std::vector<std::vector<double>> values_;
};

struct Sample {
  Genotype genotype;
  std::vector<std::size_t> set;  // the slots shrunk
};

struct Iteration {
  std::vector<Sample> samples;
  double target_ms = 0;  // the target they meet
  int layers = 0;        // slots per set
  bool relaxed = false;  // single-layer descent: no slot alone reached the planned target
};

// An iteration's samples from `current` at `target_ms`: with layers 1 every shrinkable slot
// alone, else `samples` random sets of `layers` slots (up to 5 draws a sample); when no set
// meets the target, sets twice as large, and so on. Single-layer descent takes no larger sets:
// when fewer than J slots alone reach the target, it rises to the latency J slots alone reach
// (each slot's lowest, the J-th of them; none lower than the current network's: no samples),
// except for a start that fits nowhere, which takes sets of 2, 4, ... slots until one fits.
Iteration iteration_samples(const Domain& domain, const Shrinker& shrinker, const Genotype& current,
                            double target_ms, const AdaptOptions& o, Rng& rng) {
  const std::vector<std::size_t> slots = shrinker.shrinkable(current, rng);
  Iteration it{{}, target_ms, o.layers, false};
  std::set<Genotype> seen;
  const auto add = [&](std::optional<Genotype> g, std::vector<std::size_t> set) {
    if (g && seen.insert(*g).second) it.samples.push_back({std::move(*g), std::move(set)});
  };
  if (o.layers == 1) {
    for (std::size_t s : slots) add(shrinker.shrink_to(current, {s}, target_ms, rng), {s});
    if (it.samples.size() >= static_cast<std::size_t>(o.samples) ||
        (!it.samples.empty() && target_ms >= kFitTargetMs))
      return it;
  }
  if (o.layers == 1 && target_ms < kFitTargetMs) {
    // Per slot, the lowest latency it reaches alone; the target becomes the J-th lowest of
    // them (or the highest, with fewer slots), so that about J slots are tried.
    const double now = domain.latency_ms(current);
    std::vector<double> lowest;
    for (std::size_t s : slots) {
      double low = now;
      for (Genotype g = current; auto c = shrinker.shrink(g, s, rng);) {
        g = std::move(*c);
        low = std::min(low, domain.latency_ms(g));
      }
      if (low < now) lowest.push_back(low);
    }
    if (lowest.empty()) return it;
    std::sort(lowest.begin(), lowest.end());
    const double relaxed = lowest[std::min(lowest.size(), static_cast<std::size_t>(o.samples)) - 1];
    if (relaxed <= target_ms) return it;  // every slot that can go lower reaches the plan's
    it.target_ms = relaxed;
    it.relaxed = true;
    it.samples.clear();
    seen.clear();
    for (std::size_t s : slots) add(shrinker.shrink_to(current, {s}, it.target_ms, rng), {s});
    return it;
  }
  // (A start that fits nowhere takes sets of 2, 4, ... slots in single-layer descent too.)
  for (std::size_t l = std::max<std::size_t>(2, static_cast<std::size_t>(o.layers)); !slots.empty();
       l *= 2) {
    l = std::min(l, slots.size());
    it.layers = static_cast<int>(l);
    for (int draw = 0;
         draw < 5 * o.samples && it.samples.size() < static_cast<std::size_t>(o.samples); ++draw) {
      std::vector<std::size_t> set = slots;
      std::shuffle(set.begin(), set.end(), rng);
      set.resize(l);
      std::sort(set.begin(), set.end());
      add(shrinker.shrink_to(current, set, target_ms, rng), set);
    }
    if (!it.samples.empty() || l == slots.size()) break;
  }
  return it;
}

std::string slot_names(const Domain& domain, const std::vector<std::size_t>& set) {
  std::vector<std::string> names;
  for (std::size_t s : set) names.push_back(domain.slots()[s].name);
  return core::join(names, ", ");
}

class NetAdaptStrategy : public TrajectoryStrategy {
 public:
  NetAdaptStrategy(const Domain& domain, std::uint64_t seed, AdaptOptions options)
      : TrajectoryStrategy(domain, seed, "network"), options_(options) {}
  std::string name() const override { return "netadapt"; }

 private:
  Next next_step() const override {
    const AdaptTrajectory t = adapt_trajectory(domain_, options_, seed_, history_, pending_);
    return {t.next, t.why, t.complete};
  }

  AdaptOptions options_;
};

}  // namespace

std::vector<double> adapt_steps(double span, int iterations, double decay) {
  HAO_CHECK(iterations >= 1 && decay > 0, "adapt_steps needs an iteration and a positive decay");
  double total = 0, step = 1;
  std::vector<double> out;
  for (int i = 0; i < iterations; ++i, step *= decay) {
    out.push_back(step);
    total += step;
  }
  for (double& s : out) s *= span / total;
  return out;
}

AdaptTrajectory adapt_trajectory(const Domain& domain, const AdaptOptions& options,
                                 std::uint64_t seed, const std::vector<Observation>& observations,
                                 const std::vector<Genotype>& pending) {
  HAO_CHECK(options.layers >= 1 && options.samples >= 1, "netadapt: layers and samples >= 1");
  const std::vector<std::vector<double>> values = numeric_choices(domain, "netadapt");
  const Shrinker shrinker(domain, values);
  std::map<Genotype, const Observation*> seen;
  for (const Observation& o : observations) seen[o.genotype] = &o;
  const std::set<Genotype> waiting_on(pending.begin(), pending.end());

  AdaptTrajectory t;
  const Genotype start = extreme_genotype(domain, values, true);
  const Genotype smallest = extreme_genotype(domain, values, false);
  const double smallest_ms = domain.latency_ms(smallest);
  AdaptStep first{start, domain.latency_ms(start), 0, 0, {}, {}, 0};
  if (first.latency_ms < kInfeasibleMs) {  // judged: the trajectory's slow end
    const auto it = seen.find(start);
    if (it == seen.end()) {
      if (!waiting_on.count(start)) t.next = start, t.why = "the largest network";
      return t;
    }
    first.accuracy = it->second->accuracy;
  }
  t.steps.push_back(first);
  if (smallest_ms >= kInfeasibleMs) {  // not even the smallest network fits: no descent
    t.complete = true;
    return t;
  }

  // Samples an iteration judges: `samples`, or with layers 1 one per slot the start can shrink.
  Rng count_rng(0);
  const int per_iteration =
      options.layers == 1
          ? std::max(1, static_cast<int>(shrinker.shrinkable(start, count_rng).size()))
          : options.samples;
  int judged = first.latency_ms < kInfeasibleMs ? 1 : 0;
  for (std::uint64_t iteration = 1;; ++iteration) {
    const AdaptStep& last = t.steps.back();
    if (last.latency_ms <= smallest_ms * (1 + 1e-9)) {
      t.complete = true;
      break;
    }
    // Planned afresh each iteration: the steps left decay and add up to the span from this
    // network to the smallest over the iterations the budget has left (a kept sample that
    // overshot its target leaves smaller steps).
    double target = kFitTargetMs;
    if (last.latency_ms < kInfeasibleMs) {
      const int left = std::max(1, (options.budget - judged) / per_iteration);
      const double cut =
          adapt_steps(std::log(last.latency_ms / smallest_ms), left, options.decay)[0];
      target = std::max(smallest_ms, last.latency_ms * std::exp(-cut));
    }
    Rng rng = rng_for(seed ^ kAdaptStream, iteration);
    const Iteration samples = iteration_samples(domain, shrinker, last.kept, target, options, rng);
    if (samples.samples.empty()) {
      t.complete = true;
      break;
    }
    AdaptStep step{{}, 0, 0, samples.target_ms, {}, {}, samples.layers};
    const Observation* best = nullptr;
    bool waiting = false;
    for (std::size_t i = 0; i < samples.samples.size(); ++i) {
      const Genotype& g = samples.samples[i].genotype;
      step.samples.push_back(g);
      step.sets.push_back(samples.samples[i].set);
      const auto it = seen.find(g);
      if (it == seen.end()) {
        if (waiting_on.count(g)) {
          waiting = true;
          continue;
        }
        t.next = g;
        const Sample& sample = samples.samples[i];
        std::string note;
        if (samples.layers != options.layers)
          note = " (no set of " + std::to_string(options.layers) + " slots reached it)";
        else if (samples.relaxed)
          note = " (where " + std::to_string(options.samples) +
                 " slots reach alone; fewer reached " + core::fixed(target, 5) + " ms)";
        t.why = "iteration " + std::to_string(iteration) + ", sample " + std::to_string(i + 1) +
                " of " + std::to_string(samples.samples.size()) + ": " +
                slot_names(domain, sample.set) + " shrunk to " +
                (samples.target_ms >= kFitTargetMs ? std::string("fit the device")
                                                   : core::fixed(samples.target_ms, 5) + " ms") +
                note;
        return t;
      }
      const Observation* o = it->second;
      if (!best || o->accuracy > best->accuracy ||
          (o->accuracy == best->accuracy && o->latency_ms < best->latency_ms))
        best = o;
    }
    if (waiting) return t;
    judged += static_cast<int>(samples.samples.size());
    step.kept = best->genotype;
    step.latency_ms = domain.latency_ms(best->genotype);
    step.accuracy = best->accuracy;
    t.steps.push_back(std::move(step));
  }
  return t;
}

AdaptOptions adapt_options(const StrategyOptions& options) {
  AdaptOptions o;
  o.layers = options.adapt_layers;
  o.samples = options.adapt_samples;
  o.budget = options.budget;
  return o;
}

std::unique_ptr<Strategy> make_netadapt_strategy(const Domain& domain, std::uint64_t seed,
                                                 const AdaptOptions& options) {
  if (options.layers < 1)
    throw core::InputError("--layers " + std::to_string(options.layers) + ": at least 1");
  if (options.samples < 1)
    throw core::InputError("--samples " + std::to_string(options.samples) + ": at least 1");
  if (static_cast<std::size_t>(options.layers) > domain.slots().size())
    throw core::InputError("--layers " + std::to_string(options.layers) + ": the space has " +
                           std::to_string(domain.slots().size()) + " slots to shrink");
  // InputError for choices that are not numbers.
  const std::vector<std::vector<double>> values = numeric_choices(domain, "netadapt");
  // A table of sampled networks (anb's 512) seldom holds a network one choice smaller in one
  // slot than another: the descent would stop at its start, as if the space had one network.
  const Genotype start = extreme_genotype(domain, values, true);
  Rng rng(0);
  if (start != extreme_genotype(domain, values, false) &&
      Shrinker(domain, values).shrinkable(start, rng).empty())
    throw core::InputError(
        "strategy netadapt shrinks one slot at a time: no network one choice smaller in a "
        "single slot than the space's largest (" +
        domain.label(start) +
        ") is in the space; a table of sampled networks cannot be descended (a generative "
        "space can, e.g. --space fmnist-mbv2 in hao search)");
  return std::make_unique<NetAdaptStrategy>(domain, seed, options);
}

}  // namespace hao::search
