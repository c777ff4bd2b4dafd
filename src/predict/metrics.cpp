#include "predict/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "core/error.hpp"

namespace hao::predict {
namespace {

std::vector<double> ranks(const std::vector<double>& v) {
  std::vector<std::size_t> order(v.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return v[a] < v[b]; });
  std::vector<double> r(v.size());
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]]) ++j;
    const double average = (static_cast<double>(i) + static_cast<double>(j)) / 2.0 + 1.0;
    for (std::size_t k = i; k <= j; ++k) r[order[k]] = average;
    i = j + 1;
  }
  return r;
}

double pearson(const std::vector<double>& a, const std::vector<double>& b) {
  const double n = static_cast<double>(a.size());
  const double ma = std::accumulate(a.begin(), a.end(), 0.0) / n;
  const double mb = std::accumulate(b.begin(), b.end(), 0.0) / n;
  double sab = 0, saa = 0, sbb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) * (a[i] - ma);
    sbb += (b[i] - mb) * (b[i] - mb);
  }
  return saa > 0 && sbb > 0 ? sab / std::sqrt(saa * sbb) : 0.0;
}

}  // namespace

double spearman(const std::vector<double>& a, const std::vector<double>& b) {
  HAO_CHECK(a.size() == b.size(), "spearman needs equal lengths");
  return pearson(ranks(a), ranks(b));
}

double kendall_tau_b(const std::vector<double>& a, const std::vector<double>& b) {
  HAO_CHECK(a.size() == b.size(), "kendall needs equal lengths");
  double concordant = 0, discordant = 0, ties_a = 0, ties_b = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    for (std::size_t j = i + 1; j < a.size(); ++j) {
      const double da = a[i] - a[j], db = b[i] - b[j];
      if (da == 0 && db == 0) continue;
      if (da == 0)
        ++ties_a;
      else if (db == 0)
        ++ties_b;
      else if ((da > 0) == (db > 0))
        ++concordant;
      else
        ++discordant;
    }
  const double denom =
      std::sqrt((concordant + discordant + ties_a) * (concordant + discordant + ties_b));
  return denom > 0 ? (concordant - discordant) / denom : 0.0;
}

FitMetrics compare(const std::vector<double>& predicted, const std::vector<double>& measured) {
  HAO_CHECK(predicted.size() == measured.size(), "compare needs equal lengths");
  FitMetrics m;
  m.n = measured.size();
  if (m.n == 0) return m;
  std::vector<double> ape(m.n);
  for (std::size_t i = 0; i < m.n; ++i) {
    ape[i] = 100.0 * std::abs(predicted[i] - measured[i]) / measured[i];
    m.mape_pct += ape[i];
    m.max_ape_pct = std::max(m.max_ape_pct, ape[i]);
  }
  m.mape_pct /= static_cast<double>(m.n);
  std::sort(ape.begin(), ape.end());
  m.median_ape_pct = m.n % 2 ? ape[m.n / 2] : (ape[m.n / 2 - 1] + ape[m.n / 2]) / 2;
  m.spearman = spearman(predicted, measured);
  m.kendall = kendall_tau_b(predicted, measured);
  return m;
}

std::vector<std::size_t> shuffled(std::size_t n, unsigned seed) {
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::mt19937 rng(seed);
  // Fisher-Yates with our own draws: std::shuffle's sequence differs between library versions.
  for (std::size_t i = n; i > 1; --i) std::swap(order[i - 1], order[rng() % i]);
  return order;
}

std::vector<std::vector<std::size_t>> kfold(std::size_t n, int k, unsigned seed) {
  HAO_CHECK(k >= 2, "k-fold needs k >= 2");
  const std::vector<std::size_t> order = shuffled(n, seed);
  std::vector<std::vector<std::size_t>> folds(static_cast<std::size_t>(k));
  for (std::size_t i = 0; i < n; ++i) folds[i % folds.size()].push_back(order[i]);
  return folds;
}

}  // namespace hao::predict
