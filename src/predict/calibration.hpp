// Fitting latency models to measurements, with k-fold cross-validation and an optional
// held-out split (e.g. every network with a kernel-5 block in b0).
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "hw/engine.hpp"
#include "predict/arch_features.hpp"
#include "predict/engine_model.hpp"
#include "predict/latency_table.hpp"
#include "predict/metrics.hpp"
#include "predict/mlp_regressor.hpp"
#include "predict/samples.hpp"

namespace hao::predict {

enum class ModelKind { kLut, kEngine, kMlp };
ModelKind parse_model_kind(const std::string& name);  ///< "lut", "engine" or "mlp"
std::string model_kind_name(ModelKind kind);

struct CalibrationOptions {
  ModelKind kind = ModelKind::kLut;
  int folds = 5;
  unsigned seed = 1;
  Grouping grouping = Grouping::kBlocks;   ///< lut
  hw::EngineShape engine = hw::kDpuB4096;  ///< engine
  hw::EngineOptions engine_options;        ///< engine
  std::string holdout_regex;  ///< rows whose genotype matches are fitted without, then predicted
  /// Learning curve: for each size n, the model fitted on n random rows (seed) and tested on
  /// all the others.
  std::vector<std::size_t> train_sizes;
};

/// One point of a learning curve.
struct CurvePoint {
  std::size_t train_rows = 0;
  FitMetrics test;  ///< every row not trained on
  std::size_t unknown_samples = 0;
};

struct CalibrationResult {
  FitMetrics cv;  ///< every sample predicted by the model fitted without its fold
  std::vector<double> cv_predicted;  ///< per sample
  std::size_t cv_unknown_samples =
      0;               ///< lut: samples whose fold's table lacked one of their shapes
  FitMetrics train;    ///< the final model on all samples
  FitMetrics holdout;  ///< with holdout_regex: the held-out rows
  std::size_t holdout_unknown_samples = 0;
  std::size_t coefficients = 0;   ///< fitted coefficients, intercept included
  std::vector<CurvePoint> curve;  ///< one per options.train_sizes
  nlohmann::json model;           ///< the final model, fitted on all samples
};

/// A fitted model, as a function from a sample's index to its prediction; `unknown` receives
/// the units it could not price.
using RowPredictor = std::function<double(std::size_t row, std::size_t& unknown)>;
/// Fits a model on the given sample indices; `json`, when not null, receives the model.
using RowFitter =
    std::function<RowPredictor(const std::vector<std::size_t>& rows, nlohmann::json* json)>;

/// A kind of model over one sample set, ready to be fitted on any subset of its rows.
struct ModelFamily {
  ModelKind kind = ModelKind::kLut;
  std::size_t coefficients = 0;  ///< fitted values, intercept or network weights included
  std::size_t min_rows = 0;      ///< fewer rows than this cannot be fitted
  RowFitter fit;
  std::string model_key;  ///< where the fitted model goes in the saved JSON
};

/// The lut and engine families (kind mlp is LibTorch's: nn::mlp_family).
ModelFamily model_family(const SampleSet& set, const CalibrationOptions& options);

/// Fits `family` with k-fold cross-validation, the holdout and the learning curve of
/// `options`. Throws InputError when there are fewer samples than the family needs or than
/// folds, the holdout leaves nothing to fit or to test, or a curve size leaves no test row.
CalibrationResult calibrate(const SampleSet& set, const CalibrationOptions& options,
                            const ModelFamily& family);
/// The same with model_family(set, options).
CalibrationResult calibrate(const SampleSet& set, const CalibrationOptions& options);

/// A saved model, ready to predict a network's latency in ms. `arch` is the network's genotype
/// in the model's space, or empty for a network from elsewhere (an mlp model reads only the
/// genotype and throws InputError without one). `unknown`, when not null, receives the number
/// of units the model cannot price (a table has never seen their shape; always 0 for engine
/// and mlp models).
using LatencyPredictor =
    std::function<double(const ir::Network& net, const std::string& arch, std::size_t* unknown)>;

/// Reads a model written by calibrate (any kind) once, for any number of predictions.
/// Throws InputError naming `where` for an unknown kind or a malformed model.
LatencyPredictor load_predictor(const nlohmann::json& model, const std::string& where);

/// A saved kind-engine model (the physical model of a pinned engine). Throws InputError naming
/// `where` for another kind or a malformed model.
EngineModel read_engine_model(const nlohmann::json& model, const std::string& where);

/// A saved kind-mlp model: its space, its network and the encoding its features are.
struct MlpModel {
  Space space = Space::kNb201;
  Encoding encoding = Encoding::kStructure;
  MlpRegressor mlp;
};
/// Throws InputError naming `where` for another kind, or features that are no encoding of
/// the model's space.
MlpModel read_mlp_model(const nlohmann::json& model, const std::string& where);

}  // namespace hao::predict
