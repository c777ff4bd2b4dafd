// Accuracy predictors fitted on a few evaluated samples: ridge regression (additive in the
// features, so an integer program can use it as a surrogate) and Gaussian-process
// regression (non-additive, with a variance), both on dense feature rows.
#pragma once

#include <Eigen/Dense>
#include <vector>

namespace hao::predict {

/// Ridge regression y ~ b + w.x with a penalty `lambda` on w (not on b), solved in closed form.
class Ridge {
 public:
  /// Fits on rows of `x` (n x d) and targets `y` (n). n >= 1; lambda > 0.
  void fit(const Eigen::MatrixXd& x, const Eigen::VectorXd& y, double lambda);
  double predict(const Eigen::VectorXd& x) const;
  const Eigen::VectorXd& weights() const { return w_; }
  double intercept() const { return b_; }

 private:
  Eigen::VectorXd w_;
  double b_ = 0;
};

/// Gaussian-process regression with a squared-exponential kernel k(a, b) = exp(-|a-b|^2 /
/// (2 l^2)) on standardized targets plus a noise term. The length scale l comes from a grid by
/// the largest log marginal likelihood (Rasmussen and Williams, "Gaussian Processes for Machine
/// Learning", 2006, alg. 2.1). Optionally a linear trend in chosen columns: the mean is
/// b.(x_c - m_c), m_c the samples' mean, with a Gaussian prior b ~ N(0, v I), which is the
/// same as adding v (a_c - m_c).(b_c - m_c) to the kernel (ibid., sec. 2.7): one feature that
/// should act linearly and strongly (the summed sensitivity) is then not drowned among the many the
/// isotropic kernel weighs alike.
class GaussianProcess {
 public:
  struct Options {
    std::vector<double> length_scales{1.0, 1.5, 2.0, 3.0};
    double noise = 1e-3;  ///< noise variance relative to the standardized targets
    std::vector<Eigen::Index> linear_columns;  ///< columns of the linear trend (none: no trend)
    /// v, per standardized target unit: a grid searched with the length scales by the
    /// marginal likelihood (a trend the data do not support takes the smallest v).
    std::vector<double> linear_variances{1.0};
  };
  void fit(const Eigen::MatrixXd& x, const Eigen::VectorXd& y, const Options& options);
  void fit(const Eigen::MatrixXd& x, const Eigen::VectorXd& y) { fit(x, y, Options{}); }
  struct Prediction {
    double mean = 0;
    double sd = 0;
  };
  Prediction predict(const Eigen::VectorXd& x) const;
  /// Predictions for every row of `rows` at once.
  std::vector<Prediction> predict_rows(const Eigen::MatrixXd& rows) const;
  double length_scale() const { return length_scale_; }
  double linear_variance() const { return linear_variance_; }
  double log_marginal_likelihood() const { return lml_; }

 private:
  Eigen::MatrixXd covariance(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b, double l) const;
  Eigen::VectorXd prior_variance(const Eigen::MatrixXd& a) const;

  Eigen::MatrixXd x_;
  std::vector<Eigen::Index> linear_columns_;
  std::vector<double> linear_centers_;  ///< the samples' mean of each (the trend's pivot)
  double linear_variance_ = 0;
  Eigen::VectorXd alpha_;
  Eigen::LLT<Eigen::MatrixXd> llt_;
  double length_scale_ = 1, y_mean_ = 0, y_sd_ = 1, lml_ = 0;
};

enum class RegressorKind { kRidge, kGaussianProcess };

/// Kendall's tau-b between k-fold cross-validated predictions and the targets (folds by
/// `kfold(n, folds, seed)`); ridge with lambda 1, the Gaussian process with `gp`. Needs
/// n >= folds >= 2.
double cross_validated_kendall(RegressorKind kind, const Eigen::MatrixXd& x,
                               const Eigen::VectorXd& y, int folds, unsigned seed,
                               const GaussianProcess::Options& gp = {});

}  // namespace hao::predict
