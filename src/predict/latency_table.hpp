// The OFA-style latency lookup table: one entry per distinct layer or block shape.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ir/network.hpp"

namespace hao::predict {

/// How layers are grouped into table units: per block (layers named "b<i>_<j>_...", as the
/// Accel-NASBench expansion names them; the other layers one by one) or per layer.
enum class Grouping { kBlocks, kLayers };
std::string grouping_name(Grouping g);
Grouping parse_grouping(const std::string& name);

/// The units of a network as shape keys (with repetition): a layer's key is its op, input
/// and output shapes, kernel, stride, groups and bit-widths; a block's key joins those of its
/// layers. Two units with the same key have the same latency in the table.
std::vector<std::string> unit_keys(const ir::Network& net, Grouping grouping);

/// latency = intercept + sum over units of entry[key].
class LatencyTable {
 public:
  /// Least squares on relative errors (each row divided by its measurement, so that the fit
  /// minimizes percentage error), minimum-norm where entries are not identifiable (e.g. keys
  /// that appear exactly once in every network, collinear with the intercept).
  static LatencyTable fit(const std::vector<std::vector<std::string>>& keys,
                          const std::vector<double>& measured_ms);
  /// Prediction; `unknown` counts units whose key the table has never seen (they add 0).
  double predict(const std::vector<std::string>& keys, std::size_t* unknown = nullptr) const;
  std::size_t size() const { return entries_.size(); }

  nlohmann::json to_json() const;
  static LatencyTable from_json(const nlohmann::json& j, const std::string& where);

 private:
  double intercept_ms_ = 0;
  std::map<std::string, double> entries_;
};

}  // namespace hao::predict
