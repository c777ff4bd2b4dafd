// The learned latency regressor (`hao calibrate --kind mlp`): a LibTorch multi-layer
// perceptron on a genotype's encoding (predict/arch_features), fitted to log latency so that
// its error is relative, saved as a predict::MlpRegressor.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "predict/arch_features.hpp"
#include "predict/calibration.hpp"
#include "predict/mlp_regressor.hpp"

namespace hao::nn {

/// What a fit minimizes: the squared error of log latency (a geometric-mean fit), or the
/// mean absolute relative error |predicted / measured - 1| (MAPE itself, after a first 15% of
/// steps on log error to find the scale): where the same encoding is measured both fast and
/// slow (a runtime that sometimes folds a dead branch away), MAPE is lowest at the fast value.
enum class LatencyLoss { kLogSquared, kRelative };
LatencyLoss parse_latency_loss(const std::string& name);  ///< "log-mse" or "relative"

struct LatencyMlpOptions {
  std::vector<std::size_t> hidden = {128, 128};  ///< widths of the hidden ReLU layers
  int steps = 2000;                              ///< Adam steps
  std::size_t batch = 512;                       ///< rows per step (all rows when fewer)
  double lr = 3e-3;
  /// Adam's L2 penalty. One value: used as it is. Several: each fitted on 80% of the rows
  /// (a seeded split) and judged by MAPE on the other 20%; the best is refitted on all rows.
  /// On NAS-Bench-201's raspi4 column from 1,000 rows, 1e-5 overfits (train MAPE 1.4%, test
  /// 26%) and predicts some cells 100x too slow; 1e-2 to 1e-1 keep every miss below 100%.
  std::vector<double> weight_decay = {1e-2, 3e-2, 1e-1};
  LatencyLoss loss = LatencyLoss::kRelative;
  predict::Encoding encoding = predict::Encoding::kStructure;  ///< mlp_family's rows
  unsigned seed = 1;                                           ///< initialization
  int threads = 0;                                             ///< 0: all cores (use_threads)
};

/// Fits log(ms) = MLP(standardized features) by Adam on options.loss, each step on a
/// batch of rows drawn without replacement in shuffled passes (so a fit costs the same on 1,000
/// rows as on 15,000), with the weight decay options.weight_decay gives or selects (the saved
/// model records the choice and each candidate's holdout MAPE). Deterministic for a seed and
/// thread count. Throws core::InputError for no rows, rows of different lengths, a
/// non-positive latency or a negative weight decay.
predict::MlpRegressor fit_latency_mlp(const std::vector<std::vector<double>>& features,
                                      const std::vector<double>& ms,
                                      const std::vector<std::string>& feature_names,
                                      const LatencyMlpOptions& options);

/// The saved regressor as a differentiable module: features (batch x n) -> log ms (batch).
/// Gradients flow to the features (latency-aware DARTS feeds it softmax(alpha)).
torch::Tensor mlp_log_ms(const predict::MlpRegressor& mlp, const torch::Tensor& features);

/// The mlp family of predict::calibrate on `set`: each fit trains a fresh network on the
/// rows' encodings (arch_features of the set's space).
predict::ModelFamily mlp_family(const predict::SampleSet& set, const LatencyMlpOptions& options);

}  // namespace hao::nn
