#include "predict/regression.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace hao::predict {
namespace {

Eigen::MatrixXd uniform_rows(int n, int d, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  Eigen::MatrixXd x(n, d);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < d; ++j) x(i, j) = u(rng);
  return x;
}

// Against the normal equations solved directly: [X 1]^T [X 1] + diag(lambda.., 0).
TEST(Ridge, EqualsTheNormalEquations) {
  const Eigen::MatrixXd x = uniform_rows(30, 4, 1);
  Eigen::VectorXd y(30);
  for (int i = 0; i < 30; ++i) y(i) = 3 * x(i, 0) - x(i, 2) + 0.5 + 0.1 * std::sin(i);
  Ridge r;
  r.fit(x, y, 0.7);
  Eigen::MatrixXd a(30, 5);
  a << x, Eigen::VectorXd::Ones(30);
  Eigen::MatrixXd m = a.transpose() * a;
  for (int j = 0; j < 4; ++j) m(j, j) += 0.7;
  const Eigen::VectorXd w = m.ldlt().solve(a.transpose() * y);
  for (int j = 0; j < 4; ++j) EXPECT_NEAR(r.weights()(j), w(j), 1e-9);
  EXPECT_NEAR(r.intercept(), w(4), 1e-9);
}

TEST(GaussianProcess, InterpolatesItsSamplesAndIsUncertainFarFromThem) {
  const Eigen::MatrixXd x = uniform_rows(20, 2, 2);
  Eigen::VectorXd y(20);
  for (int i = 0; i < 20; ++i) y(i) = std::sin(3 * x(i, 0)) + x(i, 1);
  GaussianProcess gp;
  gp.fit(x, y);
  for (int i = 0; i < 20; ++i) {
    const auto p = gp.predict(x.row(i).transpose());
    EXPECT_NEAR(p.mean, y(i), 0.02) << i;
    EXPECT_LT(p.sd, 0.1) << i;
  }
  const auto rows = gp.predict_rows(x);
  EXPECT_NEAR(rows[3].mean, gp.predict(x.row(3).transpose()).mean, 1e-12);
  Eigen::VectorXd far(2);
  far << 40, 40;
  const double sd_y = std::sqrt((y.array() - y.mean()).square().mean());
  EXPECT_NEAR(gp.predict(far).sd, sd_y, 1e-6 * sd_y);  // the prior's
  EXPECT_NEAR(gp.predict(far).mean, y.mean(), 1e-6);
}

// A linear trend in one column extrapolates along it; where the data have none, offering one
// costs little accuracy.
TEST(GaussianProcess, LinearTrendExtrapolatesAndCostsLittleWhereThereIsNone) {
  const Eigen::MatrixXd x = uniform_rows(25, 3, 3);
  Eigen::VectorXd trend(25), flat(25);
  for (int i = 0; i < 25; ++i) {
    trend(i) = 2 * x(i, 0) + 0.3 * std::sin(5 * x(i, 1));
    flat(i) = std::sin(5 * x(i, 1));
  }
  GaussianProcess::Options with;
  with.linear_columns = {0};
  with.linear_variances = {0.01, 0.1, 1.0, 10.0};
  Eigen::VectorXd q(3);
  q << 3.0, 0.5, 0.5;  // x0 well beyond the samples' [0, 1]
  const double truth = 2 * 3.0 + 0.3 * std::sin(2.5);
  GaussianProcess linear, plain;
  linear.fit(x, trend, with);
  plain.fit(x, trend);
  // Without the trend the prediction falls back to the samples' mean; with it, it follows the
  // slope part of the way (the squared-exponential part explains some of it within [0, 1]).
  const double off_linear = std::abs(linear.predict(q).mean - truth);
  const double off_plain = std::abs(plain.predict(q).mean - truth);
  EXPECT_GT(off_plain, 4.0);
  EXPECT_LT(off_linear, 0.5 * off_plain);
  EXPECT_GT(linear.linear_variance(), 0.01);
  GaussianProcess unsupported, alone;
  unsupported.fit(x, flat, with);
  alone.fit(x, flat);
  const Eigen::MatrixXd held = uniform_rows(200, 3, 4);
  double err_with = 0, err_alone = 0;
  for (int i = 0; i < 200; ++i) {
    const double t = std::sin(5 * held(i, 1));
    err_with += std::pow(unsupported.predict(held.row(i).transpose()).mean - t, 2);
    err_alone += std::pow(alone.predict(held.row(i).transpose()).mean - t, 2);
  }
  std::cerr << "held-out squared error: " << err_with / 200 << " with the trend offered ("
            << "variance " << unsupported.linear_variance() << "), " << err_alone / 200
            << " without\n";
  EXPECT_LT(err_with, 1.5 * err_alone);
}

}  // namespace
}  // namespace hao::predict
