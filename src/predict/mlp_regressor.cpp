#include "predict/mlp_regressor.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"

namespace hao::predict {

double MlpRegressor::predict_ms(const std::vector<double>& features) const {
  if (features.size() != feature_mean.size())
    throw core::InputError("the latency MLP reads " + std::to_string(feature_mean.size()) +
                           " features, given " + std::to_string(features.size()));
  std::vector<double> x(features.size());
  for (std::size_t i = 0; i < x.size(); ++i)
    x[i] = (features[i] - feature_mean[i]) / feature_scale[i];
  for (std::size_t l = 0; l < layers.size(); ++l) {
    const MlpLayer& layer = layers[l];
    std::vector<double> y(layer.bias);
    for (std::size_t o = 0; o < layer.out; ++o)
      for (std::size_t i = 0; i < layer.in; ++i) y[o] += layer.weight[o * layer.in + i] * x[i];
    if (l + 1 < layers.size())
      for (double& v : y) v = std::max(v, 0.0);
    x = std::move(y);
  }
  return std::exp(x.at(0));
}

nlohmann::json MlpRegressor::to_json() const {
  nlohmann::json layer_list = nlohmann::json::array();
  for (const MlpLayer& l : layers)
    layer_list.push_back({{"in", l.in}, {"out", l.out}, {"weight", l.weight}, {"bias", l.bias}});
  nlohmann::json j = {{"target", "log_ms"},           {"features", feature_names},
                      {"feature_mean", feature_mean}, {"feature_scale", feature_scale},
                      {"layers", layer_list},         {"weight_decay", weight_decay}};
  if (!weight_decay_mape.empty()) {
    nlohmann::json candidates = nlohmann::json::array();
    for (const auto& [decay, mape] : weight_decay_mape)
      candidates.push_back({{"weight_decay", decay}, {"holdout_mape_pct", mape}});
    j["weight_decay_selection"] = candidates;
  }
  return j;
}

namespace {

std::vector<double> finite_numbers(const nlohmann::json& j, const char* field, std::size_t size,
                                   const std::string& where) {
  const nlohmann::json& v = j.contains(field) ? j[field] : nlohmann::json();
  if (!v.is_array() || v.size() != size)
    throw core::InputError(where + ": " + field + " must be an array of " + std::to_string(size) +
                           " numbers");
  std::vector<double> out;
  for (const auto& x : v) {
    if (!x.is_number() || !std::isfinite(x.get<double>()))
      throw core::InputError(where + ": " + field + " holds '" + x.dump() +
                             "', expected a finite number");
    out.push_back(x.get<double>());
  }
  return out;
}

}  // namespace

MlpRegressor MlpRegressor::from_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object() || !j.contains("features") || !j["features"].is_array() ||
      !j.contains("layers") || !j["layers"].is_array() || j["layers"].empty())
    throw core::InputError(where + ": an MLP model needs features and a non-empty layers list");
  MlpRegressor m;
  for (const auto& name : j["features"]) {
    if (!name.is_string()) throw core::InputError(where + ": features must be strings");
    m.feature_names.push_back(name.get<std::string>());
  }
  const std::size_t n = m.feature_names.size();
  m.feature_mean = finite_numbers(j, "feature_mean", n, where);
  m.feature_scale = finite_numbers(j, "feature_scale", n, where);
  for (double s : m.feature_scale)
    if (!(s > 0)) throw core::InputError(where + ": feature_scale must be positive");
  std::size_t width = n;
  for (std::size_t l = 0; l < j["layers"].size(); ++l) {
    const nlohmann::json& e = j["layers"][l];
    const std::string at = where + ": layers[" + std::to_string(l) + "]";
    if (!e.is_object() || !e.contains("in") || !e["in"].is_number_unsigned() ||
        !e.contains("out") || !e["out"].is_number_unsigned())
      throw core::InputError(at + ": needs unsigned in and out");
    MlpLayer layer;
    layer.in = e["in"].get<std::size_t>();
    layer.out = e["out"].get<std::size_t>();
    if (layer.in != width || layer.out == 0 || layer.out > 100000)
      throw core::InputError(at + ": in " + std::to_string(layer.in) + ", out " +
                             std::to_string(layer.out) + " do not follow a layer of width " +
                             std::to_string(width));
    layer.weight = finite_numbers(e, "weight", layer.in * layer.out, at);
    layer.bias = finite_numbers(e, "bias", layer.out, at);
    width = layer.out;
    m.layers.push_back(std::move(layer));
  }
  if (width != 1) throw core::InputError(where + ": the last layer must have one output");
  if (j.contains("weight_decay") && j["weight_decay"].is_number())
    m.weight_decay = j["weight_decay"].get<double>();
  return m;
}

}  // namespace hao::predict
