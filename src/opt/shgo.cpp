#include "opt/shgo.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <nlopt.hpp>
#include <string>

#include "core/error.hpp"

namespace hao::opt {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
using Key = std::vector<std::int64_t>;  ///< a vertex: per dimension its offset on the finest grid

/// The sampled complex: per dimension `full[i]` intervals on the finest grid; level k takes
/// min(2^k, full[i]) of them, vertex j of a dimension at round(j full / m).
class Complex {
 public:
  Complex(std::vector<std::int64_t> full, std::function<double(const Key&)> value)
      : full_(std::move(full)), value_(std::move(value)) {}

  std::vector<std::int64_t> intervals(int level) const {
    std::vector<std::int64_t> m;
    const std::int64_t step = std::int64_t{1} << std::min(level, 62);
    for (std::int64_t f : full_) m.push_back(std::min(step, f));
    return m;
  }
  /// Vertices of a level: the product of (intervals + 1) over the dimensions, saturated.
  static double vertices(const std::vector<std::int64_t>& m) {
    double n = 1;
    for (std::int64_t x : m) n *= static_cast<double>(x + 1);
    return n;
  }
  bool exhaustive(int level) const { return intervals(level) == full_; }

  /// Cached objective (+infinity where infeasible).
  double at(const Key& k) {
    auto it = cache_.find(k);
    if (it != cache_.end()) return it->second;
    const double v = value_(k);
    cache_.emplace(k, v);
    return v;
  }
  std::size_t evaluated() const { return cache_.size(); }

  /// The minimizers of a level: feasible vertices lower than every neighbour in the
  /// Freudenthal triangulation of its grid (ties broken by the vertex's place in the grid).
  std::vector<Key> minimizers(int level) {
    const std::vector<std::int64_t> m = intervals(level);
    const std::size_t d = m.size();
    const auto total = static_cast<std::size_t>(vertices(m));
    std::vector<double> value(total);
    std::vector<Key> keys(total);
    std::vector<std::int64_t> idx(d, 0);
    for (std::size_t t = 0; t < total; ++t) {
      std::size_t rest = t;
      Key k(d);
      for (std::size_t i = 0; i < d; ++i) {
        idx[i] = static_cast<std::int64_t>(rest % static_cast<std::size_t>(m[i] + 1));
        rest /= static_cast<std::size_t>(m[i] + 1);
        k[i] = m[i] == 0 ? 0
                         : static_cast<std::int64_t>(std::llround(static_cast<double>(idx[i]) *
                                                                  static_cast<double>(full_[i]) /
                                                                  static_cast<double>(m[i])));
      }
      keys[t] = k;
      value[t] = at(k);
    }
    std::vector<std::size_t> stride(d, 1);
    for (std::size_t i = 1; i < d; ++i)
      stride[i] = stride[i - 1] * static_cast<std::size_t>(m[i - 1] + 1);
    std::vector<Key> out;
    const std::size_t patterns = (std::size_t{1} << d) - 1;
    for (std::size_t t = 0; t < total; ++t) {
      if (!(value[t] < kInf)) continue;
      std::size_t rest = t;
      for (std::size_t i = 0; i < d; ++i) {
        idx[i] = static_cast<std::int64_t>(rest % static_cast<std::size_t>(m[i] + 1));
        rest /= static_cast<std::size_t>(m[i] + 1);
      }
      bool lowest = true;
      for (std::size_t s = 1; s <= patterns && lowest; ++s)
        for (int sign : {1, -1}) {
          std::size_t n = t;
          bool inside = true;
          for (std::size_t i = 0; i < d && inside; ++i) {
            if (!(s >> i & 1)) continue;
            const std::int64_t j = idx[i] + sign;
            if (j < 0 || j > m[i]) inside = false;
            n = sign > 0 ? n + stride[i] : n - stride[i];
          }
          if (!inside) continue;
          if (value[n] < value[t] || (value[n] == value[t] && n < t)) {
            lowest = false;
            break;
          }
        }
      if (lowest) out.push_back(keys[t]);
    }
    return out;
  }

  /// Steepest descent over the finest grid's Kuhn neighbours from `k`.
  Key descend(Key k) {
    const std::size_t d = k.size();
    const std::size_t patterns = (std::size_t{1} << d) - 1;
    double v = at(k);
    for (;;) {
      Key best = k;
      double best_v = v;
      for (std::size_t s = 1; s <= patterns; ++s)
        for (int sign : {1, -1}) {
          Key n = k;
          bool inside = true;
          for (std::size_t i = 0; i < d && inside; ++i) {
            if (!(s >> i & 1)) continue;
            n[i] += sign;
            inside = n[i] >= 0 && n[i] <= full_[i];
          }
          if (!inside) continue;
          const double nv = at(n);
          if (nv < best_v) best = n, best_v = nv;
        }
      if (!(best_v < v)) return k;
      k = best;
      v = best_v;
    }
  }

  /// Samples levels 1, 2, ... by the stopping rule (shgo.hpp); the last level's minimizers.
  std::vector<Key> sample(const ShgoOptions& o, int& levels) {
    std::vector<Key> pool;
    std::size_t previous = std::numeric_limits<std::size_t>::max();
    levels = 0;
    for (int level = 1; level <= o.max_levels; ++level) {
      const double n = vertices(intervals(level));
      if (level == 1 && n > static_cast<double>(o.max_evaluations))
        throw core::InputError("SHGO: the first level's " + std::to_string(n) +
                               " vertices exceed max_evaluations " +
                               std::to_string(o.max_evaluations) + " (too many dimensions)");
      if (n > static_cast<double>(o.max_evaluations)) break;
      pool = minimizers(level);
      levels = level;
      if (exhaustive(level)) break;
      if (level >= o.min_levels && pool.size() == previous) break;
      previous = pool.size();
    }
    return pool;
  }

 private:
  std::vector<std::int64_t> full_;
  std::function<double(const Key&)> value_;
  std::map<Key, double> cache_;
};

void check_options(const ShgoOptions& o) {
  core::IssueList issues("SHGO");
  if (o.min_levels < 0 || o.min_levels > o.max_levels)
    issues.add("min_levels",
               std::to_string(o.min_levels) + ", expected 0 (automatic) or 1..max_levels");
  if (o.max_levels < 1 || o.max_levels > 30)
    issues.add("max_levels", std::to_string(o.max_levels) + ", expected 1..30");
  if (o.max_evaluations < 1) issues.add("max_evaluations", "expected >= 1");
  if (o.local_max_evaluations < 1) issues.add("local_max_evaluations", "expected >= 1");
  issues.throw_if_any();
}

template <typename T>
void check_bounds(const std::vector<T>& lower, const std::vector<T>& upper) {
  core::IssueList issues("SHGO bounds");
  if (lower.empty()) issues.add("bounds", "no dimension");
  if (lower.size() != upper.size())
    issues.add("bounds", std::to_string(lower.size()) + " lower and " +
                             std::to_string(upper.size()) + " upper bounds");
  for (std::size_t i = 0; i < std::min(lower.size(), upper.size()); ++i) {
    const double lo = static_cast<double>(lower[i]), hi = static_cast<double>(upper[i]);
    if (!std::isfinite(lo) || !std::isfinite(hi))
      issues.add("dimension " + std::to_string(i), "bounds must be finite numbers");
    else if (lo > hi)
      issues.add("dimension " + std::to_string(i), "lower bound " + std::to_string(lower[i]) +
                                                       " exceeds upper bound " +
                                                       std::to_string(upper[i]) + " (empty)");
  }
  if (lower.size() > 20)
    issues.add("bounds", std::to_string(lower.size()) + " dimensions, at most 20");
  issues.throw_if_any();
}

}  // namespace

ShgoResult shgo(const std::function<double(const std::vector<double>&)>& f,
                const std::vector<double>& lower, const std::vector<double>& upper,
                const std::vector<Constraint>& constraints, const ShgoOptions& options) {
  check_options(options);
  check_bounds(lower, upper);
  ShgoOptions o = options;
  if (o.min_levels == 0) o.min_levels = std::min(4, o.max_levels);
  const std::size_t d = lower.size();
  const std::int64_t finest = std::int64_t{1} << options.max_levels;
  std::vector<std::int64_t> full(d);
  for (std::size_t i = 0; i < d; ++i) full[i] = upper[i] > lower[i] ? finest : 0;
  ShgoResult r;
  const auto feasible = [&](const std::vector<double>& x) {
    for (const auto& c : constraints)
      if (!(c(x) <= 0)) return false;
    return true;
  };
  const auto point = [&](const Key& k) {
    std::vector<double> x(d);
    for (std::size_t i = 0; i < d; ++i)
      x[i] = full[i] == 0 ? lower[i]
                          : lower[i] + (upper[i] - lower[i]) * static_cast<double>(k[i]) /
                                           static_cast<double>(finest);
    return x;
  };
  std::size_t calls = 0;
  Complex complex(full, [&](const Key& k) {
    const std::vector<double> x = point(k);
    if (!feasible(x)) return kInf;
    ++calls;
    const double v = f(x);
    return std::isnan(v) ? kInf : v;
  });
  const std::vector<Key> pool = complex.sample(o, r.levels);
  r.minimizers = pool.size();

  // Local minimization over the free dimensions from every minimizer.
  std::vector<std::size_t> free;
  for (std::size_t i = 0; i < d; ++i)
    if (full[i] > 0) free.push_back(i);
  std::vector<ShgoMinimum> found;
  for (const Key& k : pool) {
    std::vector<double> x0 = point(k);
    ShgoMinimum best{x0, complex.at(k)};
    if (!free.empty() && calls < options.max_evaluations) {
      nlopt::opt local(nlopt::LN_COBYLA, static_cast<unsigned>(free.size()));
      std::vector<double> lo, hi, y, tol;
      for (std::size_t i : free) {
        lo.push_back(lower[i]);
        hi.push_back(upper[i]);
        y.push_back(x0[i]);
        tol.push_back(options.local_xtol * (upper[i] - lower[i]));
      }
      struct Ctx {
        const std::function<double(const std::vector<double>&)>* f;
        const std::vector<Constraint>* constraints;
        std::vector<double> base;
        const std::vector<std::size_t>* free;
        std::size_t* calls;
        std::size_t constraint = 0;
        std::vector<double> full_x(const std::vector<double>& y) const {
          std::vector<double> x = base;
          for (std::size_t j = 0; j < free->size(); ++j) x[(*free)[j]] = y[j];
          return x;
        }
      };
      Ctx ctx{&f, &constraints, x0, &free, &calls};
      local.set_lower_bounds(lo);
      local.set_upper_bounds(hi);
      local.set_xtol_abs(tol);
      local.set_maxeval(options.local_max_evaluations);
      local.set_min_objective(
          [](const std::vector<double>& z, std::vector<double>&, void* data) {
            auto* c = static_cast<Ctx*>(data);
            ++*c->calls;
            const double v = (*c->f)(c->full_x(z));
            return std::isnan(v) ? 1e300 : v;
          },
          &ctx);
      std::vector<Ctx> per_constraint(constraints.size(), ctx);
      for (std::size_t j = 0; j < constraints.size(); ++j) {
        per_constraint[j].constraint = j;
        local.add_inequality_constraint(
            [](const std::vector<double>& z, std::vector<double>&, void* data) {
              const auto* c = static_cast<Ctx*>(data);
              return (*c->constraints)[c->constraint](c->full_x(z));
            },
            &per_constraint[j], 1e-12);
      }
      double fy = 0;
      try {
        local.optimize(y, fy);
      } catch (const std::exception&) {
        // Round-off or a failed step: y holds the last point, checked below like any other.
      }
      const std::vector<double> x = ctx.full_x(y);
      if (feasible(x)) {
        const double v = f(x);
        ++calls;
        if (v < best.f) best = {x, v};
      }
    }
    found.push_back(best);
  }
  std::sort(found.begin(), found.end(),
            [](const ShgoMinimum& a, const ShgoMinimum& b) { return a.f < b.f; });
  for (const auto& m : found) {
    bool seen = false;
    for (const auto& kept : r.minima) {
      double gap = 0;
      for (std::size_t i = 0; i < d; ++i)
        gap = std::max(gap, std::abs(m.x[i] - kept.x[i]) / std::max(upper[i] - lower[i], 1e-300));
      seen = seen || gap < 1e-5;
    }
    if (!seen) r.minima.push_back(m);
  }
  r.evaluations = calls;
  if (!r.minima.empty()) {
    r.x = r.minima.front().x;
    r.f = r.minima.front().f;
    r.feasible = true;
  }
  return r;
}

LatticeResult shgo_lattice(const LatticeObjective& f, const std::vector<int>& lower,
                           const std::vector<int>& upper,
                           const std::function<bool(const std::vector<int>&)>& feasible,
                           const ShgoOptions& options) {
  check_options(options);
  check_bounds(lower, upper);
  ShgoOptions o = options;
  if (o.min_levels == 0) o.min_levels = std::min(2, o.max_levels);
  const std::size_t d = lower.size();
  std::vector<std::int64_t> full(d);
  for (std::size_t i = 0; i < d; ++i)
    full[i] = static_cast<std::int64_t>(upper[i]) - static_cast<std::int64_t>(lower[i]);
  const auto point = [&](const Key& k) {
    std::vector<int> x(d);
    for (std::size_t i = 0; i < d; ++i) x[i] = lower[i] + static_cast<int>(k[i]);
    return x;
  };
  Complex complex(full, [&](const Key& k) {
    const std::vector<int> x = point(k);
    if (feasible && !feasible(x)) return kInf;
    const double v = f(x);
    return std::isnan(v) ? kInf : v;
  });
  LatticeResult r;
  const std::vector<Key> pool = complex.sample(o, r.levels);
  r.minimizers = pool.size();
  r.exhaustive = complex.exhaustive(r.levels);
  std::map<Key, double> found;
  for (const Key& k : pool) {
    const Key m = complex.descend(k);
    found.emplace(m, complex.at(m));
  }
  for (const auto& [k, v] : found) r.minima.push_back({point(k), v});
  std::sort(r.minima.begin(), r.minima.end(),
            [](const auto& a, const auto& b) { return a.second < b.second; });
  r.evaluations = complex.evaluated();
  if (!r.minima.empty()) {
    r.x = r.minima.front().first;
    r.f = r.minima.front().second;
    r.feasible = true;
  }
  return r;
}

}  // namespace hao::opt
