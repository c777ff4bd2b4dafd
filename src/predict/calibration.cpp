#include "predict/calibration.hpp"

#include <functional>
#include <memory>
#include <regex>
#include <set>

#include "core/error.hpp"
#include "predict/engine_model.hpp"

namespace hao::predict {

ModelKind parse_model_kind(const std::string& name) {
  if (name == "lut") return ModelKind::kLut;
  if (name == "engine") return ModelKind::kEngine;
  throw core::InputError("--kind: unknown model kind '" + name + "', expected lut or engine");
}

std::string model_kind_name(ModelKind kind) { return kind == ModelKind::kLut ? "lut" : "engine"; }

namespace {

nlohmann::json metrics_json(const FitMetrics& m) {
  return {{"n", m.n},
          {"mape_pct", m.mape_pct},
          {"max_ape_pct", m.max_ape_pct},
          {"spearman", m.spearman},
          {"kendall", m.kendall}};
}

// A fitted model, as a function from a sample index to (prediction, units it could not price).
using Predictor = std::function<double(std::size_t, std::size_t&)>;
// Fits on the given sample indices; `json` receives the model when non-null.
using Fitter = std::function<Predictor(const std::vector<std::size_t>&, nlohmann::json*)>;

}  // namespace

CalibrationResult calibrate(const SampleSet& set, const CalibrationOptions& options) {
  const std::size_t n = set.samples.size();
  const std::string where = set.source + ":" + set.column;
  if (n == 0) throw core::InputError(where + ": no measured rows");
  if (options.folds < 2) throw core::InputError("--folds must be at least 2");
  std::vector<double> measured;
  for (const auto& s : set.samples) measured.push_back(s.measured_ms);

  Fitter fit;
  std::size_t coefficients = 0;
  if (options.kind == ModelKind::kLut) {
    auto keys = std::make_shared<std::vector<std::vector<std::string>>>();
    std::set<std::string> vocabulary;
    for (const auto& s : set.samples) {
      keys->push_back(unit_keys(s.net, options.grouping));
      vocabulary.insert(keys->back().begin(), keys->back().end());
    }
    coefficients = vocabulary.size() + 1;
    fit = [keys, &measured](const std::vector<std::size_t>& rows,
                            nlohmann::json* json) -> Predictor {
      std::vector<std::vector<std::string>> k;
      std::vector<double> y;
      for (auto r : rows) k.push_back((*keys)[r]), y.push_back(measured[r]);
      auto table = std::make_shared<LatencyTable>(LatencyTable::fit(k, y));
      if (json) *json = table->to_json();
      return [table, keys](std::size_t i, std::size_t& unknown) {
        return table->predict((*keys)[i], &unknown);
      };
    };
  } else {
    auto terms = std::make_shared<std::vector<hw::EngineTerms>>();
    for (const auto& s : set.samples)
      terms->push_back(hw::engine_terms(s.net, options.engine, options.engine_options));
    coefficients = hw::engine_term_names().size() + 1;
    fit = [terms, &measured, &options](const std::vector<std::size_t>& rows,
                                       nlohmann::json* json) -> Predictor {
      std::vector<hw::EngineTerms> t;
      std::vector<double> y;
      for (auto r : rows) t.push_back((*terms)[r]), y.push_back(measured[r]);
      auto model = std::make_shared<EngineModel>(
          EngineModel::fit(t, y, options.engine, options.engine_options));
      if (json) *json = model->to_json();
      return [model, terms](std::size_t i, std::size_t& unknown) {
        unknown = 0;
        return model->predict((*terms)[i]);
      };
    };
  }
  if (n < static_cast<std::size_t>(options.folds) || n < coefficients)
    throw core::InputError(where + ": " + std::to_string(n) + " measured rows for " +
                           std::to_string(coefficients) + " coefficients and " +
                           std::to_string(options.folds) + " folds: too few rows");

  CalibrationResult r;
  r.coefficients = coefficients;
  r.cv_predicted.assign(n, 0.0);
  for (const auto& test : kfold(n, options.folds, options.seed)) {
    std::vector<bool> in_test(n, false);
    for (auto i : test) in_test[i] = true;
    std::vector<std::size_t> train;
    for (std::size_t i = 0; i < n; ++i)
      if (!in_test[i]) train.push_back(i);
    const Predictor p = fit(train, nullptr);
    for (auto i : test) {
      std::size_t unknown = 0;
      r.cv_predicted[i] = p(i, unknown);
      if (unknown) ++r.cv_unknown_samples;
    }
  }
  r.cv = compare(r.cv_predicted, measured);

  std::vector<std::size_t> all(n);
  for (std::size_t i = 0; i < n; ++i) all[i] = i;
  nlohmann::json fitted_json;
  const Predictor final_model = fit(all, &fitted_json);
  std::vector<double> fitted;
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t unknown = 0;
    fitted.push_back(final_model(i, unknown));
  }
  r.train = compare(fitted, measured);

  nlohmann::json holdout_json;
  if (!options.holdout_regex.empty()) {
    std::regex pattern;
    try {
      pattern = std::regex(options.holdout_regex);
    } catch (const std::regex_error& e) {
      throw core::InputError("--holdout: '" + options.holdout_regex +
                             "' is not a valid regular expression");
    }
    std::vector<std::size_t> train, test;
    for (std::size_t i = 0; i < n; ++i)
      (std::regex_search(set.samples[i].arch, pattern) ? test : train).push_back(i);
    if (train.size() < coefficients || test.empty())
      throw core::InputError("--holdout '" + options.holdout_regex + "' leaves " +
                             std::to_string(train.size()) + " rows to fit and " +
                             std::to_string(test.size()) + " to test");
    const Predictor p = fit(train, nullptr);
    std::vector<double> pred, meas;
    for (auto i : test) {
      std::size_t unknown = 0;
      pred.push_back(p(i, unknown));
      meas.push_back(measured[i]);
      if (unknown) ++r.holdout_unknown_samples;
    }
    r.holdout = compare(pred, meas);
    holdout_json = {{"regex", options.holdout_regex},
                    {"train_rows", train.size()},
                    {"metrics", metrics_json(r.holdout)},
                    {"unknown_samples", r.holdout_unknown_samples}};
  }

  r.model = {{"kind", model_kind_name(options.kind)},
             {"space", space_name(set.space)},
             {"column", set.column},
             {"samples", n},
             {"skipped_missing", set.skipped_missing},
             {"coefficients", coefficients},
             {"cv", metrics_json(r.cv)},
             {"cv_folds", options.folds},
             {"cv_seed", options.seed},
             {"cv_unknown_samples", r.cv_unknown_samples},
             {"train", metrics_json(r.train)}};
  if (!holdout_json.is_null()) r.model["holdout"] = holdout_json;
  if (options.kind == ModelKind::kLut) {
    r.model["grouping"] = grouping_name(options.grouping);
    r.model["table"] = fitted_json;
  } else {
    r.model["engine_model"] = fitted_json;
  }
  return r;
}

LatencyPredictor load_predictor(const nlohmann::json& model, const std::string& where) {
  const std::string kind = model.is_object() && model.contains("kind") && model["kind"].is_string()
                               ? model["kind"].get<std::string>()
                               : "";
  if (kind == "lut" && model.contains("table")) {
    auto table = std::make_shared<LatencyTable>(LatencyTable::from_json(model["table"], where));
    const nlohmann::json& g =
        model.contains("grouping") ? model["grouping"] : nlohmann::json("layers");
    const Grouping grouping = parse_grouping(g.is_string() ? g.get<std::string>() : "");
    return [table, grouping](const ir::Network& net, std::size_t* unknown) {
      return table->predict(unit_keys(net, grouping), unknown);
    };
  }
  if (kind == "engine" && model.contains("engine_model")) {
    auto engine =
        std::make_shared<EngineModel>(EngineModel::from_json(model["engine_model"], where));
    return [engine](const ir::Network& net, std::size_t* unknown) {
      if (unknown) *unknown = 0;
      return engine->predict(net);
    };
  }
  throw core::InputError(where + ": not a model written by hao calibrate (kind '" + kind +
                         "'; expected lut with a table or engine with an engine_model)");
}

}  // namespace hao::predict
