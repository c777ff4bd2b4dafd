// The physical latency model of the layer-sequential engine: latency = intercept + sum over
// the engine terms (hw/engine.hpp) of coefficient x term, coefficients >= 0 and in physical
// units (ms per cycle, per byte, per layer, per host element, per host MAC, per round trip).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "hw/engine.hpp"
#include "predict/metrics.hpp"
#include "predict/samples.hpp"

namespace hao::predict {

class EngineModel {
 public:
  /// Non-negative least squares on relative errors (rows divided by their measurement).
  static EngineModel fit(const std::vector<hw::EngineTerms>& terms,
                         const std::vector<double>& measured_ms, const hw::EngineShape& shape,
                         const hw::EngineOptions& options);
  double predict(const hw::EngineTerms& t) const;
  double predict(const ir::Network& net) const;
  std::size_t coefficients() const { return coefficients_.size() + 1; }
  /// The engine the model was fitted on (its terms are counted on this shape).
  const hw::EngineShape& shape() const { return shape_; }
  nlohmann::json to_json() const;
  static EngineModel from_json(const nlohmann::json& j, const std::string& where);

 private:
  hw::EngineShape shape_;
  hw::EngineOptions options_;
  std::vector<double> coefficients_;  // per term, in engine_term_names() order
  double intercept_ms_ = 0;
};

}  // namespace hao::predict
