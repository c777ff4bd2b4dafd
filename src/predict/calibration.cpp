#include "predict/calibration.hpp"

#include <functional>
#include <memory>
#include <regex>
#include <set>

#include "core/error.hpp"
#include "predict/arch_features.hpp"
#include "predict/engine_model.hpp"
#include "predict/mlp_regressor.hpp"

namespace hao::predict {

ModelKind parse_model_kind(const std::string& name) {
  if (name == "lut") return ModelKind::kLut;
  if (name == "engine") return ModelKind::kEngine;
  if (name == "mlp") return ModelKind::kMlp;
  throw core::InputError("--kind: unknown model kind '" + name + "', expected lut, engine or mlp");
}

std::string model_kind_name(ModelKind kind) {
  if (kind == ModelKind::kLut) return "lut";
  return kind == ModelKind::kEngine ? "engine" : "mlp";
}

namespace {

nlohmann::json metrics_json(const FitMetrics& m) {
  return {{"n", m.n},
          {"mape_pct", m.mape_pct},
          {"max_ape_pct", m.max_ape_pct},
          {"median_ape_pct", m.median_ape_pct},
          {"spearman", m.spearman},
          {"kendall", m.kendall}};
}

std::vector<double> measured_ms(const SampleSet& set) {
  std::vector<double> measured;
  for (const auto& s : set.samples) measured.push_back(s.measured_ms);
  return measured;
}

// The model fitted on `train`, tested on `test`.
FitMetrics test_fit(const ModelFamily& family, const std::vector<double>& measured,
                    const std::vector<std::size_t>& train, const std::vector<std::size_t>& test,
                    std::size_t& unknown_samples) {
  const RowPredictor p = family.fit(train, nullptr);
  std::vector<double> pred, meas;
  for (auto i : test) {
    std::size_t unknown = 0;
    pred.push_back(p(i, unknown));
    meas.push_back(measured[i]);
    if (unknown) ++unknown_samples;
  }
  return compare(pred, meas);
}

}  // namespace

ModelFamily model_family(const SampleSet& set, const CalibrationOptions& options) {
  auto measured = std::make_shared<std::vector<double>>(measured_ms(set));
  ModelFamily family;
  family.kind = options.kind;
  if (options.kind == ModelKind::kMlp)
    throw core::InputError("--kind mlp needs hao built with LibTorch (Debian libtorch-dev)");
  if (options.kind == ModelKind::kLut) {
    auto keys = std::make_shared<std::vector<std::vector<std::string>>>();
    std::set<std::string> vocabulary;
    for (const auto& s : set.samples) {
      keys->push_back(unit_keys(s.net, options.grouping));
      vocabulary.insert(keys->back().begin(), keys->back().end());
    }
    family.coefficients = vocabulary.size() + 1;
    family.model_key = "table";
    family.fit = [keys, measured](const std::vector<std::size_t>& rows,
                                  nlohmann::json* json) -> RowPredictor {
      std::vector<std::vector<std::string>> k;
      std::vector<double> y;
      for (auto r : rows) k.push_back((*keys)[r]), y.push_back((*measured)[r]);
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
    family.coefficients = hw::engine_term_names().size() + 1;
    family.model_key = "engine_model";
    family.fit = [terms, measured, engine = options.engine,
                  engine_options = options.engine_options](const std::vector<std::size_t>& rows,
                                                           nlohmann::json* json) -> RowPredictor {
      std::vector<hw::EngineTerms> t;
      std::vector<double> y;
      for (auto r : rows) t.push_back((*terms)[r]), y.push_back((*measured)[r]);
      auto model = std::make_shared<EngineModel>(EngineModel::fit(t, y, engine, engine_options));
      if (json) *json = model->to_json();
      return [model, terms](std::size_t i, std::size_t& unknown) {
        unknown = 0;
        return model->predict((*terms)[i]);
      };
    };
  }
  // A table fitted on fewer rows than entries is the minimum-norm one (a learning curve's
  // small sizes); the engine's non-negative fit needs a row per coefficient.
  family.min_rows = options.kind == ModelKind::kLut ? 2 : family.coefficients;
  return family;
}

CalibrationResult calibrate(const SampleSet& set, const CalibrationOptions& options) {
  return calibrate(set, options, model_family(set, options));
}

CalibrationResult calibrate(const SampleSet& set, const CalibrationOptions& options,
                            const ModelFamily& family) {
  const std::size_t n = set.samples.size();
  const std::string where = set.source + ":" + set.column;
  if (n == 0) throw core::InputError(where + ": no measured rows");
  if (options.folds < 2) throw core::InputError("--folds must be at least 2");
  const std::vector<double> measured = measured_ms(set);
  const std::size_t coefficients = family.coefficients;
  if (n < static_cast<std::size_t>(options.folds) || n < family.min_rows)
    throw core::InputError(where + ": " + std::to_string(n) + " measured rows for " +
                           std::to_string(coefficients) + " coefficients and " +
                           std::to_string(options.folds) + " folds: too few rows");
  for (std::size_t size : options.train_sizes)
    if (size < family.min_rows || size >= n)
      throw core::InputError("--train-sizes: " + std::to_string(size) + " rows to fit of " +
                             std::to_string(n) + ": need at least " +
                             std::to_string(family.min_rows) + " and at least one to test");
  const RowFitter& fit = family.fit;

  CalibrationResult r;
  r.coefficients = coefficients;
  r.cv_predicted.assign(n, 0.0);
  for (const auto& test : kfold(n, options.folds, options.seed)) {
    std::vector<bool> in_test(n, false);
    for (auto i : test) in_test[i] = true;
    std::vector<std::size_t> train;
    for (std::size_t i = 0; i < n; ++i)
      if (!in_test[i]) train.push_back(i);
    const RowPredictor p = fit(train, nullptr);
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
  const RowPredictor final_model = fit(all, &fitted_json);
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
    if (train.size() < family.min_rows || test.empty())
      throw core::InputError("--holdout '" + options.holdout_regex + "' leaves " +
                             std::to_string(train.size()) + " rows to fit and " +
                             std::to_string(test.size()) + " to test");
    r.holdout = test_fit(family, measured, train, test, r.holdout_unknown_samples);
    holdout_json = {{"regex", options.holdout_regex},
                    {"train_rows", train.size()},
                    {"metrics", metrics_json(r.holdout)},
                    {"unknown_samples", r.holdout_unknown_samples}};
  }

  nlohmann::json curve_json = nlohmann::json::array();
  if (!options.train_sizes.empty()) {
    const std::vector<std::size_t> order = shuffled(n, options.seed);
    for (std::size_t size : options.train_sizes) {
      const std::vector<std::size_t> train(order.begin(),
                                           order.begin() + static_cast<std::ptrdiff_t>(size));
      const std::vector<std::size_t> test(order.begin() + static_cast<std::ptrdiff_t>(size),
                                          order.end());
      CurvePoint point;
      point.train_rows = size;
      point.test = test_fit(family, measured, train, test, point.unknown_samples);
      r.curve.push_back(point);
      curve_json.push_back({{"train_rows", size},
                            {"test", metrics_json(point.test)},
                            {"unknown_samples", point.unknown_samples}});
    }
  }

  r.model = {{"kind", model_kind_name(family.kind)},
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
  if (!curve_json.empty()) r.model["learning_curve"] = curve_json;
  if (family.kind == ModelKind::kLut) r.model["grouping"] = grouping_name(options.grouping);
  r.model[family.model_key] = fitted_json;
  return r;
}

namespace {

// A saved model's "kind" ("" when it has none).
std::string model_kind(const nlohmann::json& model) {
  return model.is_object() && model.contains("kind") && model["kind"].is_string()
             ? model["kind"].get<std::string>()
             : "";
}

}  // namespace

LatencyPredictor load_predictor(const nlohmann::json& model, const std::string& where) {
  const std::string kind = model_kind(model);
  if (kind == "lut" && model.contains("table")) {
    auto table = std::make_shared<LatencyTable>(LatencyTable::from_json(model["table"], where));
    const nlohmann::json& g =
        model.contains("grouping") ? model["grouping"] : nlohmann::json("layers");
    const Grouping grouping = parse_grouping(g.is_string() ? g.get<std::string>() : "");
    return [table, grouping](const ir::Network& net, const std::string&, std::size_t* unknown) {
      return table->predict(unit_keys(net, grouping), unknown);
    };
  }
  if (kind == "engine" && model.contains("engine_model")) {
    auto engine = std::make_shared<EngineModel>(read_engine_model(model, where));
    return [engine](const ir::Network& net, const std::string&, std::size_t* unknown) {
      if (unknown) *unknown = 0;
      return engine->predict(net);
    };
  }
  if (kind == "mlp" && model.contains("mlp")) {
    auto m = std::make_shared<MlpModel>(read_mlp_model(model, where));
    return [m, where](const ir::Network&, const std::string& arch, std::size_t* unknown) {
      if (arch.empty())
        throw core::InputError(where + ": an mlp model prices genotypes of space " +
                               space_name(m->space) + ", not networks without one");
      if (unknown) *unknown = 0;
      return m->mlp.predict_ms(arch_features(m->space, arch, where, m->encoding));
    };
  }
  throw core::InputError(where + ": not a model written by hao calibrate (kind '" + kind +
                         "'; expected lut with a table, engine with an engine_model or mlp with "
                         "an mlp)");
}

EngineModel read_engine_model(const nlohmann::json& model, const std::string& where) {
  const std::string kind = model_kind(model);
  if (kind != "engine" || !model.contains("engine_model"))
    throw core::InputError(where + ": a model of kind '" + kind +
                           "'; expected an engine model with its engine_model (hao calibrate "
                           "--kind engine)");
  return EngineModel::from_json(model["engine_model"], where);
}

MlpModel read_mlp_model(const nlohmann::json& model, const std::string& where) {
  const std::string kind = model_kind(model);
  if (kind != "mlp" || !model.contains("mlp"))
    throw core::InputError(where + ": a model of kind '" + kind +
                           "'; expected a learned regressor (hao calibrate --kind mlp)");
  const nlohmann::json& s = model.contains("space") ? model["space"] : nlohmann::json();
  MlpModel m;
  m.space = parse_space(s.is_string() ? s.get<std::string>() : "");
  m.mlp = MlpRegressor::from_json(model["mlp"], where);
  // The encoding is the one whose feature names the model was fitted on.
  if (m.mlp.feature_names == arch_feature_names(m.space, Encoding::kOneHot))
    m.encoding = Encoding::kOneHot;
  else if (m.mlp.feature_names != arch_feature_names(m.space, Encoding::kStructure))
    throw core::InputError(where + ": the MLP's " + std::to_string(m.mlp.feature_names.size()) +
                           " features are not an encoding of space " + space_name(m.space) + " (" +
                           std::to_string(arch_feature_names(m.space).size()) + " or " +
                           std::to_string(arch_feature_names(m.space, Encoding::kOneHot).size()) +
                           " features)");
  return m;
}

}  // namespace hao::predict
