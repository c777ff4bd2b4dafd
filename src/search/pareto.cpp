#include "search/pareto.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.hpp"

namespace hao::search {

std::vector<std::size_t> pareto_front(const std::vector<Objectives>& points) {
  std::vector<std::size_t> order(points.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    if (points[a].latency_ms != points[b].latency_ms)
      return points[a].latency_ms < points[b].latency_ms;
    return points[a].accuracy > points[b].accuracy;
  });
  std::vector<std::size_t> front;
  for (std::size_t i : order)
    if (front.empty() || points[i].accuracy > points[front.back()].accuracy) front.push_back(i);
  return front;
}

double Normalizer::latency(double latency_ms) const {
  return latency_max > latency_min ? (latency_ms - latency_min) / (latency_max - latency_min) : 0;
}

double Normalizer::error(double accuracy) const {
  return accuracy_max > accuracy_min ? 1 - (accuracy - accuracy_min) / (accuracy_max - accuracy_min)
                                     : 0;
}

Normalizer Normalizer::of(const std::vector<Objectives>& space) {
  Normalizer n;
  if (space.empty()) return n;
  n.latency_min = n.latency_max = space[0].latency_ms;
  n.accuracy_min = n.accuracy_max = space[0].accuracy;
  for (const auto& p : space) {
    n.latency_min = std::min(n.latency_min, p.latency_ms);
    n.latency_max = std::max(n.latency_max, p.latency_ms);
    n.accuracy_min = std::min(n.accuracy_min, p.accuracy);
    n.accuracy_max = std::max(n.accuracy_max, p.accuracy);
  }
  return n;
}

double hypervolume(const std::vector<Objectives>& points, const Normalizer& n) {
  std::vector<std::pair<double, double>> normalized;
  for (const auto& p : points)
    normalized.emplace_back(n.latency(p.latency_ms), n.error(p.accuracy));
  return Staircase(std::move(normalized)).hypervolume();
}

Staircase::Staircase(std::vector<std::pair<double, double>> points) {
  std::sort(points.begin(), points.end());
  for (const auto& p : points)
    if (p.first < 1 && p.second < 1 && (steps_.empty() || p.second < steps_.back().second))
      steps_.push_back(p);
}

double Staircase::hypervolume() const {
  double h = 0;
  for (std::size_t i = 0; i < steps_.size(); ++i) {
    const double next = i + 1 < steps_.size() ? steps_[i + 1].first : 1.0;
    h += (next - steps_[i].first) * (1 - steps_[i].second);
  }
  return h;
}

double Staircase::gain(double latency, double error) const {
  if (latency >= 1 || error >= 1) return 0;
  // The front's error at latency x is that of the last step at or left of x (1 before any).
  auto it = std::upper_bound(steps_.begin(), steps_.end(), latency,
                             [](double l, const auto& s) { return l < s.first; });
  double current = it == steps_.begin() ? 1.0 : std::prev(it)->second;
  double x = latency, g = 0;
  while (current > error) {
    const double next = it == steps_.end() ? 1.0 : it->first;
    g += (next - x) * (current - error);
    if (it == steps_.end()) break;
    x = next;
    current = it->second;
    ++it;
  }
  return g;
}

double Staircase::expected_gain(double latency, double error_mean, double error_sd) const {
  if (error_sd <= 0) return gain(latency, error_mean);
  if (latency >= 1) return 0;
  auto it = std::upper_bound(steps_.begin(), steps_.end(), latency,
                             [](double l, const auto& s) { return l < s.first; });
  double current = it == steps_.begin() ? 1.0 : std::prev(it)->second;
  double x = latency, g = 0;
  constexpr double kInvSqrt2Pi = 0.3989422804014327;
  while (true) {
    const double next = it == steps_.end() ? 1.0 : it->first;
    // E[max(0, c - E)] for E ~ N(mu, sd): (c - mu) Phi(z) + sd phi(z), z = (c - mu) / sd.
    const double z = (current - error_mean) / error_sd;
    const double cdf = 0.5 * std::erfc(-z / std::sqrt(2.0));
    g += (next - x) *
         ((current - error_mean) * cdf + error_sd * kInvSqrt2Pi * std::exp(-0.5 * z * z));
    if (it == steps_.end()) break;
    x = next;
    current = it->second;
    ++it;
  }
  return g;
}

std::vector<std::size_t> peel_fronts(const std::vector<Objectives>& points, std::size_t n) {
  std::vector<std::size_t> left(points.size()), out, later;
  for (std::size_t i = 0; i < points.size(); ++i) left[i] = i;
  auto same_speed = [&](std::size_t i) {
    for (std::size_t k : out)
      if (std::abs(points[k].latency_ms - points[i].latency_ms) <= 1e-6 * points[i].latency_ms)
        return true;
    return false;
  };
  while (out.size() < n && !left.empty()) {
    std::vector<Objectives> rest_points;
    for (std::size_t i : left) rest_points.push_back(points[i]);
    std::vector<std::size_t> front;
    for (std::size_t k : pareto_front(rest_points)) front.push_back(left[k]);
    std::sort(front.begin(), front.end(), [&](std::size_t a, std::size_t b) {
      return points[a].accuracy > points[b].accuracy;
    });
    for (std::size_t i : front)
      if (out.size() < n) (same_speed(i) ? later : out).push_back(i);
    std::vector<std::size_t> rest;
    for (std::size_t i : left)
      if (std::find(front.begin(), front.end(), i) == front.end()) rest.push_back(i);
    left = std::move(rest);
  }
  for (std::size_t i : later)
    if (out.size() < n) out.push_back(i);
  return out;
}

std::size_t knee(const std::vector<Objectives>& front) {
  HAO_CHECK(!front.empty(), "knee of an empty front");
  double a_lo = 1e300, a_hi = -1e300, s_lo = 1e300, s_hi = -1e300;
  for (const auto& p : front) {
    a_lo = std::min(a_lo, p.accuracy), a_hi = std::max(a_hi, p.accuracy);
    s_lo = std::min(s_lo, -std::log(p.latency_ms)), s_hi = std::max(s_hi, -std::log(p.latency_ms));
  }
  std::size_t chosen = 0;
  double best = -1;
  for (std::size_t i = 0; i < front.size(); ++i) {
    const double s = (a_hi > a_lo ? (front[i].accuracy - a_lo) / (a_hi - a_lo) : 1) +
                     (s_hi > s_lo ? (-std::log(front[i].latency_ms) - s_lo) / (s_hi - s_lo) : 1);
    if (s > best) best = s, chosen = i;
  }
  return chosen;
}

std::optional<std::size_t> first_faster_within(const Objectives& reference,
                                               const std::vector<Objectives>& sweep, double faster,
                                               double within) {
  if (!(reference.latency_ms > 0)) return std::nullopt;
  for (std::size_t i = 0; i < sweep.size(); ++i)
    if (sweep[i].latency_ms > 0 && sweep[i].latency_ms <= (1 - faster) * reference.latency_ms &&
        sweep[i].accuracy >= reference.accuracy - within)
      return i;
  return std::nullopt;
}

}  // namespace hao::search
