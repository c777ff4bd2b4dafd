// A multi-layer perceptron that predicts latency from an architecture encoding: the model
// `hao calibrate --kind mlp` fits (with LibTorch, nn/latency_mlp) and saves. Prediction is
// written here in plain C++ so that `hao predict` and the search loop price genotypes without
// LibTorch; nn/latency_mlp rebuilds the same network as a differentiable module.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace hao::predict {

struct MlpLayer {
  std::size_t in = 0, out = 0;
  std::vector<double> weight;  ///< out x in, row-major (LibTorch's Linear layout)
  std::vector<double> bias;    ///< out
};

/// log(latency in ms) = layers(standardized features): Linear, ReLU, ..., Linear to one value.
struct MlpRegressor {
  std::vector<std::string> feature_names;
  std::vector<double> feature_mean, feature_scale;  ///< x' = (x - mean) / scale
  std::vector<MlpLayer> layers;
  /// How it was fitted (informational; not needed to predict): the weight decay used and, when
  /// it was selected, each candidate's MAPE on the held-out rows.
  double weight_decay = 0;
  std::vector<std::pair<double, double>> weight_decay_mape;

  /// Latency in ms. Throws core::InputError when `features` has the wrong length.
  double predict_ms(const std::vector<double>& features) const;

  nlohmann::json to_json() const;
  /// Throws core::InputError naming `where` for a malformed model (layer shapes that do not
  /// chain, weights of the wrong length, non-finite values).
  static MlpRegressor from_json(const nlohmann::json& j, const std::string& where);
};

}  // namespace hao::predict
