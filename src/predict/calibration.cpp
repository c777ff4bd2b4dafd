#include "predict/calibration.hpp"

#include "core/error.hpp"

namespace hao::predict {
namespace {

nlohmann::json metrics_json(const FitMetrics& m) {
  return {{"n", m.n},
          {"mape_pct", m.mape_pct},
          {"max_ape_pct", m.max_ape_pct},
          {"spearman", m.spearman},
          {"kendall", m.kendall}};
}

}  // namespace

CalibrationResult calibrate_lut(const SampleSet& set, const CalibrationOptions& options) {
  const std::size_t n = set.samples.size();
  if (options.folds < 2) throw core::InputError("--folds must be at least 2");
  std::vector<std::vector<std::string>> keys;
  std::vector<double> measured;
  for (const auto& s : set.samples) {
    keys.push_back(unit_keys(s.net, options.grouping));
    measured.push_back(s.measured_ms);
  }
  const std::string where = set.source + ":" + set.column;
  if (n == 0) throw core::InputError(where + ": no measured rows");
  const LatencyTable all = LatencyTable::fit(keys, measured);
  if (n < static_cast<std::size_t>(options.folds) || n < all.size() + 1)
    throw core::InputError(where + ": " + std::to_string(n) + " measured rows for a table of " +
                           std::to_string(all.size() + 1) + " coefficients and " +
                           std::to_string(options.folds) + " folds: too few rows");
  CalibrationResult r;
  r.cv_predicted.assign(n, 0.0);
  for (const auto& test : kfold(n, options.folds, options.seed)) {
    std::vector<bool> in_test(n, false);
    for (auto i : test) in_test[i] = true;
    std::vector<std::vector<std::string>> train_keys;
    std::vector<double> train_y;
    for (std::size_t i = 0; i < n; ++i)
      if (!in_test[i]) train_keys.push_back(keys[i]), train_y.push_back(measured[i]);
    const LatencyTable t = LatencyTable::fit(train_keys, train_y);
    for (auto i : test) {
      std::size_t unknown = 0;
      r.cv_predicted[i] = t.predict(keys[i], &unknown);
      if (unknown) ++r.cv_unknown_samples;
    }
  }
  r.cv = compare(r.cv_predicted, measured);
  std::vector<double> fitted;
  for (const auto& k : keys) fitted.push_back(all.predict(k));
  r.train = compare(fitted, measured);
  r.model = {{"kind", "lut"},
             {"space", space_name(set.space)},
             {"column", set.column},
             {"grouping", grouping_name(options.grouping)},
             {"samples", n},
             {"skipped_missing", set.skipped_missing},
             {"cv", metrics_json(r.cv)},
             {"cv_folds", options.folds},
             {"cv_seed", options.seed},
             {"cv_unknown_samples", r.cv_unknown_samples},
             {"train", metrics_json(r.train)},
             {"table", all.to_json()}};
  return r;
}

double predict_latency(const nlohmann::json& model, const ir::Network& net, std::size_t* unknown) {
  const std::string kind = model.value("kind", "");
  if (kind != "lut") throw core::InputError("model kind '" + kind + "' is not known, expected lut");
  const LatencyTable t = LatencyTable::from_json(model.at("table"), "model");
  return t.predict(unit_keys(net, parse_grouping(model.value("grouping", "layers"))), unknown);
}

}  // namespace hao::predict
