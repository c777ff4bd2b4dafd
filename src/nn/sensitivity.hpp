// Per-layer Hessian sensitivity (HAWQ-V3): each weighted layer's Hessian trace by Hutchinson's
// estimator, and Omega(b) = Tr(H)/n * ||Q_b(W) - W||^2 per candidate bit-width, the input of
// bit allocation. Or the same with the Fisher information (the Gauss-Newton part of the
// Hessian) in place of H: never negative and one plain backward per probe, for networks far
// from a minimum (a search's briefly trained candidates), where the Hessian is indefinite.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <vector>

#include "data/images.hpp"
#include "nn/ir_module.hpp"

namespace hao::nn {

/// What stands for the Hessian: Hutchinson's estimate of Tr(H) by double backward, or
/// Tr(F) of the Fisher information with labels drawn from the model (for cross-entropy, the
/// generalized Gauss-Newton matrix: positive semidefinite, equal to H for the last layer).
enum class Curvature { Hessian, Fisher, Measured };

struct SensitivityOptions {
  Curvature curvature = Curvature::Hessian;
  int batches = 2;  ///< training batches the loss is taken over
  int batch_size = 128;
  int max_iterations = 100;  ///< Rademacher probes at most
  int min_iterations = 10;
  double tolerance = 0.01;  ///< stop when every trace's running mean moves less than this
  std::vector<int> bits = {2, 4, 8};
  unsigned seed = 1;
  int threads = 0;
  int recovery_steps = 50;        ///< Measured: quantization-aware steps before each measurement
  std::size_t validation = 5000;  ///< Measured: held-out training images (as hao train's)
  /// After each measured run (Measured), or each probe (total: --iterations; when the traces
  /// settle sooner, a last call with done == total == the probes taken).
  std::function<void(int done, int total)> progress;
};

struct LayerSensitivity {
  std::size_t layer = 0;
  std::int64_t params = 0;    ///< n: the weights
  double trace = 0;           ///< Tr(H) of the loss w.r.t. the layer's weights
  std::vector<double> omega;  ///< per options.bits
  /// The same for the layer's input activations over the probe batch: Tr(H_a), their count
  /// n_a, and Omega_a(b) = Tr(H_a)/n_a ||Q_b(a) - a||^2 with the clip QAT uses at b bits.
  double act_trace = 0;
  std::int64_t act_elements = 0;
  std::vector<double> omega_act;
};

struct SensitivityResult {
  std::vector<LayerSensitivity> layers;
  int iterations = 0;
  bool converged = false;
};

/// Hutchinson's estimator: for Rademacher v, E[v^T H v] = Tr(H). With Curvature::Fisher a
/// probe draws a label per image from the model's softmax and a sign per image, and takes
/// ||grad sum_n sign_n loss_n||^2 / N, whose mean is (1/N) sum_n E||grad loss_n||^2 = Tr(F). All
/// layers' weights and input activations are probed at once (one Hessian-vector product by double
/// backward per probe; the cross-layer blocks vanish in expectation). The model runs in evaluation
/// mode (batch norms on running statistics) on the first `batches` of the seeded training split.
SensitivityResult layer_sensitivity(IrNet& model, const data::DataSet& ds,
                                    const SensitivityOptions& options);

/// The same on given inputs and labels.
SensitivityResult sensitivity_on(IrNet& model, const torch::Tensor& x, const torch::Tensor& y,
                                 const SensitivityOptions& options);

/// Measured instead of modelled: per weighted layer and bits b, Omega(b) is the increase of the
/// validation loss (hao train's held-out images for the seed) when only that layer's weights are
/// at b bits, after `recovery_steps` quantization-aware steps (0: none, the clip calibrated on
/// training images), over the same steps with nothing quantized; Omega_a(b) the same for the
/// layer's input. Quantization-aware training repairs much of a weight's error and less of an
/// input's; the Hessian's second-order term prices both before any training. One short training
/// run per layer, bit-width and operand. The model's weights, bits and mode are restored, also
/// when a run throws (the exception then propagates).
SensitivityResult measured_sensitivity(IrNet& model, const data::DataSet& ds,
                                       const SensitivityOptions& options);

/// The exact traces by one Hessian-vector product per weight (tests only: n products).
std::vector<double> exact_traces(IrNet& model, const torch::Tensor& x, const torch::Tensor& y);
/// The exact Fisher traces, (1/N) sum_n sum_c p_nc ||grad_W loss_n(c)||^2 per weighted layer
/// (tests only: one backward per image and class).
std::vector<double> exact_fisher_traces(IrNet& model, const torch::Tensor& x);

/// The result as JSON: network, options, per layer name, n, trace, Omega per bits.
nlohmann::ordered_json sensitivity_json(const IrNet& model, const SensitivityResult& r,
                                        const SensitivityOptions& options);

}  // namespace hao::nn
