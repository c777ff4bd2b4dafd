// Fitting latency models to measurements, with k-fold cross-validation and an optional
// held-out split (e.g. every network with a kernel-5 block in b0).
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "hw/engine.hpp"
#include "predict/latency_table.hpp"
#include "predict/metrics.hpp"
#include "predict/samples.hpp"

namespace hao::predict {

enum class ModelKind { kLut, kEngine };
ModelKind parse_model_kind(const std::string& name);  ///< "lut" or "engine"
std::string model_kind_name(ModelKind kind);

struct CalibrationOptions {
  ModelKind kind = ModelKind::kLut;
  int folds = 5;
  unsigned seed = 1;
  Grouping grouping = Grouping::kBlocks;   ///< lut
  hw::EngineShape engine = hw::kDpuB4096;  ///< engine
  hw::EngineOptions engine_options;        ///< engine
  std::string holdout_regex;  ///< rows whose genotype matches are fitted without, then predicted
};

struct CalibrationResult {
  FitMetrics cv;  ///< every sample predicted by the model fitted without its fold
  std::vector<double> cv_predicted;  ///< per sample
  std::size_t cv_unknown_samples =
      0;               ///< lut: samples whose fold's table lacked one of their shapes
  FitMetrics train;    ///< the final model on all samples
  FitMetrics holdout;  ///< with holdout_regex: the held-out rows
  std::size_t holdout_unknown_samples = 0;
  std::size_t coefficients = 0;  ///< fitted coefficients, intercept included
  nlohmann::json model;          ///< the final model, fitted on all samples
};

/// Fits the model kind in `options`. Throws InputError when there are fewer samples than
/// coefficients or folds, or the holdout leaves nothing to fit or to test.
CalibrationResult calibrate(const SampleSet& set, const CalibrationOptions& options);

/// A saved model, ready to predict a network's latency in ms. `unknown`, when not null,
/// receives the number of units the model cannot price (a table has never seen their shape;
/// always 0 for engine models).
using LatencyPredictor = std::function<double(const ir::Network& net, std::size_t* unknown)>;

/// Reads a model written by calibrate (either kind) once, for any number of predictions.
/// Throws InputError naming `where` for an unknown kind or a malformed model.
LatencyPredictor load_predictor(const nlohmann::json& model, const std::string& where);

}  // namespace hao::predict
