// Fitting latency models to measurements, with k-fold cross-validation.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "predict/latency_table.hpp"
#include "predict/metrics.hpp"
#include "predict/samples.hpp"

namespace hao::predict {

struct CalibrationOptions {
  int folds = 5;
  unsigned seed = 1;
  Grouping grouping = Grouping::kBlocks;
};

struct CalibrationResult {
  FitMetrics cv;                       ///< over every sample, each predicted by the model
                                       ///< fitted without its fold
  std::vector<double> cv_predicted;    ///< per sample
  std::size_t cv_unknown_samples = 0;  ///< samples whose fold's table lacked one of their shapes
  FitMetrics train;                    ///< the final model on all samples
  nlohmann::json model;                ///< the final model, fitted on all samples
};

/// The lookup-table model (`--kind lut`). Throws InputError when there are fewer samples than
/// table entries or folds.
CalibrationResult calibrate_lut(const SampleSet& set, const CalibrationOptions& options);

/// Predicts with a saved model: the network's latency in ms. `unknown` counts units the
/// model cannot price (a table has never seen their shape).
double predict_latency(const nlohmann::json& model, const ir::Network& net, std::size_t* unknown);

}  // namespace hao::predict
