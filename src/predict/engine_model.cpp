#include "predict/engine_model.hpp"

#include "core/error.hpp"
#include "predict/nnls.hpp"

namespace hao::predict {

EngineModel EngineModel::fit(const std::vector<hw::EngineTerms>& terms,
                             const std::vector<double>& measured_ms, const hw::EngineShape& shape,
                             const hw::EngineOptions& options) {
  HAO_CHECK(terms.size() == measured_ms.size() && !terms.empty(), "one term set per measurement");
  const auto rows = static_cast<Eigen::Index>(terms.size());
  const auto k = static_cast<Eigen::Index>(hw::engine_term_names().size());
  Eigen::MatrixXd a(rows, k + 1);
  for (Eigen::Index r = 0; r < rows; ++r) {
    const auto v = hw::as_vector(terms[static_cast<std::size_t>(r)]);
    const double w = 1.0 / measured_ms[static_cast<std::size_t>(r)];
    for (Eigen::Index c = 0; c < k; ++c) a(r, c) = v[static_cast<std::size_t>(c)] * w;
    a(r, k) = w;
  }
  // Scale columns to unit maximum so that cycles, bytes and counts weigh alike in the solver.
  Eigen::VectorXd scale = a.cwiseAbs().colwise().maxCoeff().transpose();
  for (Eigen::Index c = 0; c <= k; ++c)
    if (scale(c) > 0)
      a.col(c) /= scale(c);
    else
      scale(c) = 1;
  const Eigen::VectorXd x = nnls(a, Eigen::VectorXd::Ones(rows)).cwiseQuotient(scale);
  EngineModel m;
  m.shape_ = shape;
  m.options_ = options;
  for (Eigen::Index c = 0; c < k; ++c) m.coefficients_.push_back(x(c));
  m.intercept_ms_ = x(k);
  return m;
}

double EngineModel::predict(const hw::EngineTerms& t) const {
  const auto v = hw::as_vector(t);
  double ms = intercept_ms_;
  for (std::size_t i = 0; i < v.size(); ++i) ms += coefficients_[i] * v[i];
  return ms;
}

double EngineModel::predict(const ir::Network& net) const {
  return predict(hw::engine_terms(net, shape_, options_));
}

nlohmann::json EngineModel::to_json() const {
  nlohmann::json c;
  const auto names = hw::engine_term_names();
  for (std::size_t i = 0; i < names.size(); ++i) c["ms_per_" + names[i]] = coefficients_[i];
  return {{"engine", {{"pp", shape_.pp}, {"pi", shape_.pi}, {"po", shape_.po}}},
          {"host_cache_bytes", options_.host_cache_bytes},
          {"intercept_ms", intercept_ms_},
          {"coefficients", c}};
}

EngineModel EngineModel::from_json(const nlohmann::json& j, const std::string& where) {
  EngineModel m;
  try {
    m.shape_ = {j.at("engine").at("pp").get<std::int64_t>(),
                j.at("engine").at("pi").get<std::int64_t>(),
                j.at("engine").at("po").get<std::int64_t>()};
    m.options_.host_cache_bytes = j.at("host_cache_bytes").get<double>();
    m.intercept_ms_ = j.at("intercept_ms").get<double>();
    for (const auto& name : hw::engine_term_names())
      m.coefficients_.push_back(j.at("coefficients").at("ms_per_" + name).get<double>());
  } catch (const nlohmann::json::exception& e) {
    throw core::InputError(where + ": not an engine model (" + std::string(e.what()) + ")");
  }
  return m;
}

}  // namespace hao::predict
