// `hao sensitivity` (each layer's quantization sensitivity, as JSON), and the two LibTorch
// calls hao quantize makes with a checkpoint: measuring it, and fine-tuning at chosen bits.
#pragma once

#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ir/network.hpp"

namespace CLI {
class App;
}

namespace hao::cli {

struct SensitivityArgs {
  std::string model;
  std::string checkpoint;
  std::string out;
  std::string data = "fashion-mnist";
  std::string curvature = "hessian";  ///< or "fisher" or "measured" (nn::Curvature)
  int recovery_steps = 50;
  int batches = 2;
  int batch_size = 128;
  int iterations = 100;
  double tolerance = 0.01;
  std::vector<int> bits = {2, 4, 8};
  unsigned seed = 1;
  int threads = 0;
  std::string batchnorm = "auto";  ///< nn::TrainingNorms
};

/// What fine-tuning at given bits measured.
struct QatOutcome {
  double float_test_accuracy = 0;  ///< the checkpoint as given, in float
  double val_accuracy = 0;         ///< at the bits, on the validation split
  double test_accuracy = 0;        ///< at the bits, on the test set
  double seconds = 0;
};

/// Omega per layer of `net` with the weights of `checkpoint`, for bits `bits`, as the JSON
/// `hao sensitivity --curvature CURVATURE` writes (progress of a measured one to `err`), with
/// the batch norms `batchnorm` adds for training (nn::TrainingNorms).
/// Throws std::runtime_error when built without LibTorch.
nlohmann::ordered_json measure_sensitivity(const ir::Network& net, const std::string& checkpoint,
                                           const std::string& data, const std::vector<int>& bits,
                                           const std::string& curvature, int probes, int threads,
                                           const std::string& batchnorm, std::ostream& err);

/// Quantization-aware fine-tuning of `checkpoint` at the bits of `net` for `qat_epochs`
/// epochs, with the batch norms `batchnorm` adds; the result saved to `save_to` unless empty.
/// Throws std::runtime_error when built without LibTorch.
QatOutcome finetune_at_bits(const ir::Network& net, const std::string& checkpoint,
                            const std::string& data, int qat_epochs, std::size_t subset,
                            unsigned seed, int threads, const std::string& batchnorm,
                            const std::string& save_to, std::ostream& err);

CLI::App* add_sensitivity_command(CLI::App& app, SensitivityArgs& args);
/// `hao sensitivity`: Hessian traces and Omega per bit-width, as JSON.
int run_sensitivity(const SensitivityArgs& args, std::ostream& out, std::ostream& err);

}  // namespace hao::cli
