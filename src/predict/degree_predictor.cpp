#include "predict/degree_predictor.hpp"

#include <cmath>

#include "core/error.hpp"

namespace hao::predict {
namespace {

constexpr int kMaxOrder = 3;

/// Mean and standard deviation (1 when the values are all alike, so that a flat feature
/// standardizes to 0 instead of dividing by 0).
std::pair<double, double> mean_sd(const std::vector<double>& v) {
  double mean = 0, var = 0;
  for (double x : v) mean += x / static_cast<double>(v.size());
  for (double x : v) var += (x - mean) * (x - mean) / static_cast<double>(v.size());
  const double sd = std::sqrt(var);
  return {mean, sd > 1e-12 * (1 + std::abs(mean)) ? sd : 1.0};
}

}  // namespace

std::string DegreePredictor::Model::name() const {
  if (order == 0) return parameters ? "log params" : "mean";
  std::string s = order == 1 ? "degree" : "degree^" + std::to_string(order);
  return parameters ? s + " + log params" : s;
}

Eigen::RowVectorXd DegreePredictor::row(double degree, double parameters, const Model& m) const {
  Eigen::RowVectorXd r(1 + m.order + (m.parameters ? 1 : 0));
  const double z = (degree - degree_mean_) / degree_sd_;
  r(0) = 1;
  for (int k = 1; k <= m.order; ++k) r(k) = r(k - 1) * z;
  if (m.parameters)
    r(m.order + 1) = (std::log10(1 + parameters) - log_params_mean_) / log_params_sd_;
  return r;
}

void DegreePredictor::fit(const std::vector<double>& degree, const std::vector<double>& parameters,
                          const std::vector<double>& accuracy) {
  const std::size_t n = accuracy.size();
  if (degree.size() != n || parameters.size() != n)
    throw core::InputError("NN-Degree predictor: " + std::to_string(degree.size()) + " degrees, " +
                           std::to_string(parameters.size()) + " parameter counts, " +
                           std::to_string(n) + " accuracies; expected as many of each");
  if (n < 3)
    throw core::InputError("NN-Degree predictor: " + std::to_string(n) +
                           " calibration networks, expected at least 3");
  std::vector<double> log_params;
  for (std::size_t i = 0; i < n; ++i) {
    if (!std::isfinite(degree[i]) || !std::isfinite(accuracy[i]) || !(parameters[i] >= 0) ||
        !std::isfinite(parameters[i]))
      throw core::InputError("NN-Degree predictor: sample " + std::to_string(i) +
                             " has a degree, parameter count or accuracy that is not a finite "
                             "number (parameters must be >= 0)");
    log_params.push_back(std::log10(1 + parameters[i]));
  }
  std::tie(degree_mean_, degree_sd_) = mean_sd(degree);
  std::tie(log_params_mean_, log_params_sd_) = mean_sd(log_params);
  Eigen::VectorXd y(static_cast<Eigen::Index>(n));
  for (std::size_t i = 0; i < n; ++i) y(static_cast<Eigen::Index>(i)) = accuracy[i];

  tried_.clear();
  bool have = false;
  for (bool with_params : {false, true})
    for (int order = 0; order <= kMaxOrder; ++order) {
      Model m{order, with_params, 0};
      const Eigen::Index terms = 1 + order + (with_params ? 1 : 0);
      if (static_cast<std::size_t>(terms) >= n) continue;  // leave-one-out needs n > terms
      Eigen::MatrixXd x(static_cast<Eigen::Index>(n), terms);
      for (std::size_t i = 0; i < n; ++i)
        x.row(static_cast<Eigen::Index>(i)) = row(degree[i], parameters[i], m);
      // Ordinary least squares through a tiny ridge (a collinear design stays solvable); the
      // leave-one-out residual of sample i is e_i / (1 - h_ii), h the hat matrix.
      Eigen::MatrixXd gram = x.transpose() * x;
      gram.diagonal().array() += 1e-9 * (1 + gram.diagonal().maxCoeff());
      const Eigen::LDLT<Eigen::MatrixXd> ldlt = gram.ldlt();
      const Eigen::VectorXd beta = ldlt.solve(x.transpose() * y);
      const Eigen::VectorXd residual = y - x * beta;
      const Eigen::MatrixXd hat_factor = ldlt.solve(x.transpose());  // (X'X)^-1 X'
      double sse = 0;
      bool defined = true;
      for (Eigen::Index i = 0; i < x.rows(); ++i) {
        const double h = x.row(i).dot(hat_factor.col(i));
        if (h > 1 - 1e-9) {  // a sample the model fits whatever its value: no LOO estimate
          defined = false;
          break;
        }
        const double e = residual(i) / (1 - h);
        sse += e * e;
      }
      if (!defined) continue;
      m.loo_rmse = std::sqrt(sse / static_cast<double>(n));
      tried_.push_back(m);
      if (!have || m.loo_rmse < chosen_.loo_rmse - 1e-12) {
        chosen_ = m;
        coefficients_ = beta;
        have = true;
      }
    }
  HAO_CHECK(have, "the mean (leverage 1/n) is always defined");
}

double DegreePredictor::predict(double degree, double parameters) const {
  return row(degree, parameters, chosen_).dot(coefficients_);
}

}  // namespace hao::predict
