#include "predict/latency_table.hpp"

#include <Eigen/Dense>
#include <regex>

#include "core/error.hpp"

namespace hao::predict {

std::string grouping_name(Grouping g) { return g == Grouping::kBlocks ? "blocks" : "layers"; }

Grouping parse_grouping(const std::string& name) {
  if (name == "blocks") return Grouping::kBlocks;
  if (name == "layers") return Grouping::kLayers;
  throw core::InputError("grouping '" + name + "', expected blocks or layers");
}

namespace {

std::string layer_key(const ir::Layer& l) {
  std::string op = l.op == ir::OpKind::kAct ? ir::act_name(l.act) : ir::op_name(l.op);
  std::string key = op + " " + ir::to_string(l.in) + ">" + ir::to_string(l.out);
  if (l.op == ir::OpKind::kConv || l.op == ir::OpKind::kMaxPool || l.op == ir::OpKind::kAvgPool)
    key += " k" + std::to_string(l.kernel_h) + "x" + std::to_string(l.kernel_w) + " s" +
           std::to_string(l.stride_h) + " g" + std::to_string(l.groups);
  if (l.dilation_h != 1 || l.dilation_w != 1)
    key += " d" + std::to_string(l.dilation_h) + "x" + std::to_string(l.dilation_w);
  key += " w" + std::to_string(l.weight_bits) + "a" + std::to_string(l.act_bits);
  if (l.inputs.size() > 1) key += " n" + std::to_string(l.inputs.size());
  return key;
}

}  // namespace

std::vector<std::string> unit_keys(const ir::Network& net, Grouping grouping) {
  static const std::regex kBlock("^(b[0-9]+_[0-9]+)_.*");
  std::vector<std::string> keys;
  std::string block, block_key;
  auto flush = [&] {
    if (!block.empty()) keys.push_back("[" + block_key + "]");
    block.clear();
    block_key.clear();
  };
  for (const auto& l : net.layers) {
    std::smatch m;
    if (grouping == Grouping::kBlocks && std::regex_match(l.name, m, kBlock)) {
      if (m[1].str() != block) flush();
      block = m[1].str();
      block_key += (block_key.empty() ? "" : "; ") + layer_key(l);
      continue;
    }
    flush();
    keys.push_back(layer_key(l));
  }
  flush();
  return keys;
}

LatencyTable LatencyTable::fit(const std::vector<std::vector<std::string>>& keys,
                               const std::vector<double>& measured_ms) {
  HAO_CHECK(keys.size() == measured_ms.size() && !keys.empty(), "one key list per measurement");
  LatencyTable t;
  std::map<std::string, Eigen::Index> column;
  for (const auto& row : keys)
    for (const auto& k : row) column.emplace(k, 0);
  Eigen::Index next = 0;
  for (auto& [k, c] : column) c = next++;
  const auto rows = static_cast<Eigen::Index>(keys.size());
  Eigen::MatrixXd a = Eigen::MatrixXd::Zero(rows, next + 1);
  Eigen::VectorXd b = Eigen::VectorXd::Ones(rows);
  for (Eigen::Index r = 0; r < rows; ++r) {
    const double w = 1.0 / measured_ms[static_cast<std::size_t>(r)];
    for (const auto& k : keys[static_cast<std::size_t>(r)]) a(r, column[k]) += w;
    a(r, next) = w;
  }
  const Eigen::VectorXd x = a.completeOrthogonalDecomposition().solve(b);
  for (const auto& [k, c] : column) t.entries_[k] = x(c);
  t.intercept_ms_ = x(next);
  return t;
}

double LatencyTable::predict(const std::vector<std::string>& keys, std::size_t* unknown) const {
  double ms = intercept_ms_;
  std::size_t missing = 0;
  for (const auto& k : keys) {
    auto it = entries_.find(k);
    if (it == entries_.end())
      ++missing;
    else
      ms += it->second;
  }
  if (unknown) *unknown = missing;
  return ms;
}

nlohmann::json LatencyTable::to_json() const {
  nlohmann::json j;
  j["intercept_ms"] = intercept_ms_;
  j["entries"] = entries_;
  return j;
}

LatencyTable LatencyTable::from_json(const nlohmann::json& j, const std::string& where) {
  LatencyTable t;
  try {
    t.intercept_ms_ = j.at("intercept_ms").get<double>();
    t.entries_ = j.at("entries").get<std::map<std::string, double>>();
  } catch (const nlohmann::json::exception& e) {
    throw core::InputError(where + ": not a latency table (" + std::string(e.what()) + ")");
  }
  return t;
}

}  // namespace hao::predict
