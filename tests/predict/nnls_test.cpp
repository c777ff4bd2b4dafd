#include "predict/nnls.hpp"

#include <gtest/gtest.h>

#include <random>

namespace hao::predict {

// Reference: the best unconstrained least-squares solution over every subset of free
// variables whose solution is non-negative (the optimum is one of them).
Eigen::VectorXd nnls_by_enumeration(const Eigen::MatrixXd& a, const Eigen::VectorXd& b) {
  const Eigen::Index n = a.cols();
  Eigen::VectorXd best = Eigen::VectorXd::Zero(n);
  double best_residual = b.squaredNorm();
  for (int mask = 1; mask < (1 << n); ++mask) {
    std::vector<Eigen::Index> cols;
    for (Eigen::Index j = 0; j < n; ++j)
      if (mask & (1 << j)) cols.push_back(j);
    Eigen::MatrixXd sub(a.rows(), static_cast<Eigen::Index>(cols.size()));
    for (std::size_t k = 0; k < cols.size(); ++k)
      sub.col(static_cast<Eigen::Index>(k)) = a.col(cols[k]);
    const Eigen::VectorXd s = sub.colPivHouseholderQr().solve(b);
    if ((s.array() < 0).any()) continue;
    Eigen::VectorXd x = Eigen::VectorXd::Zero(n);
    for (std::size_t k = 0; k < cols.size(); ++k) x(cols[k]) = s(static_cast<Eigen::Index>(k));
    const double r = (a * x - b).squaredNorm();
    if (r < best_residual) best_residual = r, best = x;
  }
  return best;
}

TEST(Nnls, MatchesEnumerationOnRandomProblems) {
  std::mt19937 rng(17);
  std::normal_distribution<double> normal;
  for (int trial = 0; trial < 50; ++trial) {
    const int n = 2 + trial % 5, m = 8 + trial % 7;
    Eigen::MatrixXd a(m, n);
    Eigen::VectorXd b(m);
    for (int i = 0; i < m; ++i) {
      b(i) = normal(rng);
      for (int j = 0; j < n; ++j) a(i, j) = normal(rng);
    }
    const Eigen::VectorXd x = nnls(a, b);
    const Eigen::VectorXd ref = nnls_by_enumeration(a, b);
    EXPECT_TRUE((x.array() >= 0).all()) << "seed 17 trial " << trial;
    EXPECT_NEAR((a * x - b).squaredNorm(), (a * ref - b).squaredNorm(), 1e-9)
        << "seed 17 trial " << trial;
  }
}

TEST(Nnls, RecoversANonNegativeTruth) {
  Eigen::MatrixXd a(4, 2);
  a << 1, 0, 0, 1, 1, 1, 2, 1;
  const Eigen::VectorXd truth = (Eigen::VectorXd(2) << 0.5, 2.0).finished();
  const Eigen::VectorXd x = nnls(a, a * truth);
  EXPECT_NEAR(x(0), 0.5, 1e-12);
  EXPECT_NEAR(x(1), 2.0, 1e-12);
}

}  // namespace hao::predict
