// Error and rank metrics for predictors, and seeded k-fold splits.
#pragma once

#include <cstddef>
#include <vector>

namespace hao::predict {

struct FitMetrics {
  std::size_t n = 0;
  double mape_pct = 0;     ///< mean absolute percentage error
  double max_ape_pct = 0;  ///< largest absolute percentage error
  double median_ape_pct = 0;
  double spearman = 0;  ///< rank correlation (average ranks for ties)
  double kendall = 0;   ///< Kendall's tau-b
};

/// Compares predictions with measurements (same length, measurements > 0).
FitMetrics compare(const std::vector<double>& predicted, const std::vector<double>& measured);
double spearman(const std::vector<double>& a, const std::vector<double>& b);
double kendall_tau_b(const std::vector<double>& a, const std::vector<double>& b);

/// 0..n-1 in an order drawn from `seed`, the same on every standard library.
std::vector<std::size_t> shuffled(std::size_t n, unsigned seed);
/// Splits 0..n-1 into k test folds after a shuffle seeded with `seed` (the same seed, the
/// same folds). Every index lands in exactly one fold.
std::vector<std::vector<std::size_t>> kfold(std::size_t n, int k, unsigned seed);

}  // namespace hao::predict
