#include "predict/nnls.hpp"

#include <vector>

namespace hao::predict {

Eigen::VectorXd nnls(const Eigen::MatrixXd& a, const Eigen::VectorXd& b, int max_iterations) {
  const Eigen::Index n = a.cols();
  if (max_iterations <= 0) max_iterations = static_cast<int>(3 * n + 30);
  Eigen::VectorXd x = Eigen::VectorXd::Zero(n);
  std::vector<bool> passive(static_cast<std::size_t>(n), false);
  const double tol = 1e-10 * std::max(1.0, a.norm() * b.norm());
  auto solve_passive = [&]() {
    std::vector<Eigen::Index> cols;
    for (Eigen::Index j = 0; j < n; ++j)
      if (passive[static_cast<std::size_t>(j)]) cols.push_back(j);
    Eigen::MatrixXd ap(a.rows(), static_cast<Eigen::Index>(cols.size()));
    for (std::size_t k = 0; k < cols.size(); ++k)
      ap.col(static_cast<Eigen::Index>(k)) = a.col(cols[k]);
    const Eigen::VectorXd sp = ap.colPivHouseholderQr().solve(b);
    Eigen::VectorXd s = Eigen::VectorXd::Zero(n);
    for (std::size_t k = 0; k < cols.size(); ++k) s(cols[k]) = sp(static_cast<Eigen::Index>(k));
    return s;
  };
  for (int outer = 0; outer < max_iterations; ++outer) {
    const Eigen::VectorXd w = a.transpose() * (b - a * x);
    Eigen::Index best = -1;
    for (Eigen::Index j = 0; j < n; ++j)
      if (!passive[static_cast<std::size_t>(j)] && w(j) > tol && (best < 0 || w(j) > w(best)))
        best = j;
    if (best < 0) break;  // Kuhn-Tucker conditions hold
    passive[static_cast<std::size_t>(best)] = true;
    for (int inner = 0; inner < max_iterations; ++inner) {
      const Eigen::VectorXd s = solve_passive();
      bool feasible = true;
      for (Eigen::Index j = 0; j < n; ++j)
        if (passive[static_cast<std::size_t>(j)] && s(j) <= 0) feasible = false;
      if (feasible) {
        x = s;
        break;
      }
      // Step from x toward s as far as feasibility allows; drop variables that reach zero.
      double alpha = 1.0;
      for (Eigen::Index j = 0; j < n; ++j)
        if (passive[static_cast<std::size_t>(j)] && s(j) <= 0)
          alpha = std::min(alpha, x(j) / (x(j) - s(j)));
      x += alpha * (s - x);
      for (Eigen::Index j = 0; j < n; ++j)
        if (passive[static_cast<std::size_t>(j)] && x(j) <= 1e-14) {
          passive[static_cast<std::size_t>(j)] = false;
          x(j) = 0;
        }
    }
  }
  return x;
}

}  // namespace hao::predict
