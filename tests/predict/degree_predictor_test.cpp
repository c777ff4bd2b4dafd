#include "predict/degree_predictor.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/error.hpp"

namespace hao::predict {
namespace {

TEST(DegreePredictor, RecoversAQuadraticAndPicksAnOrderThatFitsIt) {
  std::vector<double> degree, params, acc;
  for (int i = 0; i < 25; ++i) {
    const double d = 10 + 3 * i;
    degree.push_back(d);
    params.push_back(1000.0 * (i % 7 + 1));
    acc.push_back(50 + 0.8 * d - 0.006 * d * d);
  }
  DegreePredictor p;
  p.fit(degree, params, acc);
  EXPECT_GE(p.chosen().order, 2) << p.chosen().name();
  EXPECT_LT(p.chosen().loo_rmse, 1e-6);
  EXPECT_NEAR(p.predict(40, 3000), 50 + 0.8 * 40 - 0.006 * 1600, 1e-6);
}

TEST(DegreePredictor, LeaveOneOutErrorEqualsRefittingWithoutEachSample) {
  // The closed form e_i / (1 - h_ii) against n refits of the chosen model on n - 1 samples.
  std::mt19937 rng(5);
  std::normal_distribution<double> noise(0, 1.5);
  std::uniform_real_distribution<double> u(5, 60);
  std::vector<double> degree, params, acc;
  for (int i = 0; i < 14; ++i) {
    degree.push_back(u(rng));
    params.push_back(std::pow(10.0, 3 + degree.back() / 30 + u(rng) / 40));
    acc.push_back(60 + 0.5 * degree.back() + noise(rng));
  }
  DegreePredictor full;
  full.fit(degree, params, acc);
  for (const auto& m : full.tried()) {
    double sse = 0;
    for (std::size_t out = 0; out < acc.size(); ++out) {
      std::vector<double> d, p, a;
      for (std::size_t i = 0; i < acc.size(); ++i)
        if (i != out) d.push_back(degree[i]), p.push_back(params[i]), a.push_back(acc[i]);
      // Refit that model by hand on the n - 1 samples: least squares on the features `full`
      // standardized with every sample (the closed form's fixed design).
      const auto z = [&](double x, const std::vector<double>& v) {
        double mean = 0, var = 0;
        for (double y : v) mean += y / static_cast<double>(v.size());
        for (double y : v) var += (y - mean) * (y - mean) / static_cast<double>(v.size());
        return (x - mean) / std::sqrt(var);
      };
      std::vector<double> logp;
      for (double q : params) logp.push_back(std::log10(1 + q));
      const int terms = 1 + m.order + (m.parameters ? 1 : 0);
      Eigen::MatrixXd x(static_cast<Eigen::Index>(d.size()), terms);
      Eigen::VectorXd y(static_cast<Eigen::Index>(d.size()));
      const auto feature_row = [&](double dd, double pp) {
        Eigen::RowVectorXd r(terms);
        r(0) = 1;
        for (int k = 1; k <= m.order; ++k) r(k) = r(k - 1) * z(dd, degree);
        if (m.parameters) r(m.order + 1) = z(std::log10(1 + pp), logp);
        return r;
      };
      for (std::size_t i = 0; i < d.size(); ++i) {
        x.row(static_cast<Eigen::Index>(i)) = feature_row(d[i], p[i]);
        y(static_cast<Eigen::Index>(i)) = a[i];
      }
      const Eigen::VectorXd beta = x.colPivHouseholderQr().solve(y);
      const double e = acc[out] - feature_row(degree[out], params[out]).dot(beta);
      sse += e * e;
    }
    EXPECT_NEAR(m.loo_rmse, std::sqrt(sse / static_cast<double>(acc.size())), 1e-6) << m.name();
  }
}

TEST(DegreePredictor, FewSamplesAndBadValuesAreInputErrors) {
  DegreePredictor p;
  EXPECT_THROW(p.fit({1, 2}, {1, 2}, {50, 60}), core::InputError);
  EXPECT_THROW(p.fit({1, 2, 3}, {1, 2}, {50, 60, 70}), core::InputError);
  EXPECT_THROW(p.fit({1, 2, NAN}, {1, 2, 3}, {50, 60, 70}), core::InputError);
  EXPECT_THROW(p.fit({1, 2, 3}, {1, -2, 3}, {50, 60, 70}), core::InputError);
  // Three samples, two alike: the line has a sample of leverage 1, the mean does not.
  p.fit({1, 2, 2}, {0, 0, 0}, {50, 60, 62});
  EXPECT_EQ(p.chosen().name(), "mean");
  EXPECT_NEAR(p.predict(7, 0), 57.333333, 1e-5);
}

}  // namespace
}  // namespace hao::predict
