// FLASH's accuracy predictor: a low-order regression of accuracy on NN-Degree (and the
// parameter count), fitted on a few trained networks, the order chosen by leave-one-out error.
#pragma once

#include <Eigen/Dense>
#include <string>
#include <vector>

namespace hao::predict {

class DegreePredictor {
 public:
  /// One model tried: accuracy ~ polynomial of degree `order` (0..3) in the standardized NN-Degree,
  /// plus a linear term in the standardized log10(1 + parameters) when `parameters`.
  struct Model {
    int order = 1;
    bool parameters = false;
    double loo_rmse = 0;       ///< leave-one-out root mean squared error, in accuracy units
    std::string name() const;  ///< e.g. "degree^2 + log params", "mean"
  };

  /// Fits every model with fewer terms than samples and keeps the one of least leave-one-out
  /// error (the simpler on ties). InputError below 3 samples or with sizes that differ;
  /// degrees and parameters must be finite, parameters >= 0.
  void fit(const std::vector<double>& degree, const std::vector<double>& parameters,
           const std::vector<double>& accuracy);
  double predict(double degree, double parameters) const;
  const Model& chosen() const { return chosen_; }
  const std::vector<Model>& tried() const { return tried_; }

 private:
  Eigen::RowVectorXd row(double degree, double parameters, const Model& m) const;

  double degree_mean_ = 0, degree_sd_ = 1, log_params_mean_ = 0, log_params_sd_ = 1;
  Model chosen_;
  std::vector<Model> tried_;
  Eigen::VectorXd coefficients_;
};

}  // namespace hao::predict
