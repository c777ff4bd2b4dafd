#include "predict/regression.hpp"

#include <cmath>

#include "core/error.hpp"
#include "predict/metrics.hpp"

namespace hao::predict {

void Ridge::fit(const Eigen::MatrixXd& x, const Eigen::VectorXd& y, double lambda) {
  HAO_CHECK(x.rows() == y.size() && x.rows() >= 1 && lambda > 0, "ridge: bad shapes");
  const Eigen::RowVectorXd x_mean = x.colwise().mean();
  const double y_mean = y.mean();
  const Eigen::MatrixXd xc = x.rowwise() - x_mean;
  Eigen::MatrixXd gram = xc.transpose() * xc;
  gram.diagonal().array() += lambda;
  w_ = gram.ldlt().solve(xc.transpose() * (y.array() - y_mean).matrix());
  b_ = y_mean - x_mean.dot(w_);
}

double Ridge::predict(const Eigen::VectorXd& x) const { return b_ + x.dot(w_); }

namespace {

Eigen::MatrixXd kernel(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b, double length_scale) {
  const Eigen::VectorXd an = a.rowwise().squaredNorm(), bn = b.rowwise().squaredNorm();
  Eigen::MatrixXd d = (-2.0 * a * b.transpose()).colwise() + an;
  d.rowwise() += bn.transpose();
  return (-d.array().max(0.0) / (2 * length_scale * length_scale)).exp();
}

}  // namespace

Eigen::MatrixXd GaussianProcess::covariance(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b,
                                            double l) const {
  Eigen::MatrixXd k = kernel(a, b, l);
  for (std::size_t j = 0; j < linear_columns_.size(); ++j) {
    const Eigen::Index c = linear_columns_[j];
    k += linear_variance_ * (a.col(c).array() - linear_centers_[j]).matrix() *
         (b.col(c).array() - linear_centers_[j]).matrix().transpose();
  }
  return k;
}

Eigen::VectorXd GaussianProcess::prior_variance(const Eigen::MatrixXd& a) const {
  Eigen::VectorXd v = Eigen::VectorXd::Ones(a.rows());
  for (std::size_t j = 0; j < linear_columns_.size(); ++j)
    v.array() +=
        linear_variance_ * (a.col(linear_columns_[j]).array() - linear_centers_[j]).square();
  return v;
}

void GaussianProcess::fit(const Eigen::MatrixXd& x, const Eigen::VectorXd& y,
                          const Options& options) {
  HAO_CHECK(x.rows() == y.size() && x.rows() >= 1 && !options.length_scales.empty(),
            "gp: bad shapes");
  for (Eigen::Index c : options.linear_columns)
    HAO_CHECK(c >= 0 && c < x.cols(), "gp: linear column out of range");
  x_ = x;
  linear_columns_ = options.linear_columns;
  linear_centers_.clear();
  for (Eigen::Index c : linear_columns_) linear_centers_.push_back(x.col(c).mean());
  HAO_CHECK(!options.linear_variances.empty(), "gp: no linear variance");
  y_mean_ = y.mean();
  const double var = (y.array() - y_mean_).square().mean();
  y_sd_ = var > 1e-18 ? std::sqrt(var) : 1.0;
  const Eigen::VectorXd yn = (y.array() - y_mean_) / y_sd_;
  double best_variance = 0;
  bool first = true;
  // Without linear columns the variances make no difference: one pass.
  const std::vector<double> variances =
      linear_columns_.empty() ? std::vector<double>{0.0} : options.linear_variances;
  for (double lv : variances)
    for (double l : options.length_scales) {
      linear_variance_ = lv;
      Eigen::MatrixXd k = covariance(x, x, l);
      k.diagonal().array() += options.noise;
      Eigen::LLT<Eigen::MatrixXd> llt(k);
      if (llt.info() != Eigen::Success) continue;
      const Eigen::VectorXd alpha = llt.solve(yn);
      const double lml =
          -0.5 * yn.dot(alpha) - llt.matrixL().toDenseMatrix().diagonal().array().log().sum();
      if (first || lml > lml_) {
        first = false;
        lml_ = lml;
        length_scale_ = l;
        best_variance = lv;
        alpha_ = alpha;
        llt_ = llt;
      }
    }
  linear_variance_ = best_variance;
  HAO_CHECK(!first, "gp: no length scale gave a positive definite kernel");
}

GaussianProcess::Prediction GaussianProcess::predict(const Eigen::VectorXd& x) const {
  const Eigen::MatrixXd row = x.transpose();
  const Eigen::VectorXd ks = covariance(x_, row, length_scale_).col(0);
  const Eigen::VectorXd v = llt_.matrixL().solve(ks);
  const double var = std::max(prior_variance(row)(0) - v.squaredNorm(), 1e-12);
  return {y_mean_ + y_sd_ * ks.dot(alpha_), y_sd_ * std::sqrt(var)};
}

std::vector<GaussianProcess::Prediction> GaussianProcess::predict_rows(
    const Eigen::MatrixXd& rows) const {
  const Eigen::MatrixXd ks = covariance(x_, rows, length_scale_);  // n x m
  const Eigen::VectorXd mean = ks.transpose() * alpha_;
  const Eigen::MatrixXd v = llt_.matrixL().solve(ks);
  const Eigen::VectorXd reduction = v.colwise().squaredNorm().transpose();
  const Eigen::VectorXd prior = prior_variance(rows);
  std::vector<Prediction> out(static_cast<std::size_t>(rows.rows()));
  for (Eigen::Index i = 0; i < rows.rows(); ++i)
    out[static_cast<std::size_t>(i)] = {
        y_mean_ + y_sd_ * mean(i), y_sd_ * std::sqrt(std::max(prior(i) - reduction(i), 1e-12))};
  return out;
}

double cross_validated_kendall(RegressorKind kind, const Eigen::MatrixXd& x,
                               const Eigen::VectorXd& y, int folds, unsigned seed,
                               const GaussianProcess::Options& gp) {
  const auto n = static_cast<std::size_t>(x.rows());
  HAO_CHECK(folds >= 2 && n >= static_cast<std::size_t>(folds), "cv: too few samples");
  std::vector<double> predicted(n), measured(y.data(), y.data() + n);
  for (const auto& test : kfold(n, folds, seed)) {
    std::vector<bool> held(n, false);
    for (std::size_t i : test) held[i] = true;
    Eigen::MatrixXd xt(static_cast<Eigen::Index>(n - test.size()), x.cols());
    Eigen::VectorXd yt(xt.rows());
    Eigen::Index r = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (held[i]) continue;
      xt.row(r) = x.row(static_cast<Eigen::Index>(i));
      yt(r++) = y(static_cast<Eigen::Index>(i));
    }
    if (kind == RegressorKind::kRidge) {
      Ridge m;
      m.fit(xt, yt, 1.0);
      for (std::size_t i : test) predicted[i] = m.predict(x.row(static_cast<Eigen::Index>(i)));
    } else {
      GaussianProcess m;
      m.fit(xt, yt, gp);
      for (std::size_t i : test) predicted[i] = m.predict(x.row(static_cast<Eigen::Index>(i))).mean;
    }
  }
  return kendall_tau_b(predicted, measured);
}

}  // namespace hao::predict
