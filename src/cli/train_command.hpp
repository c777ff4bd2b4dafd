// `hao train`: train a network on an image data set with LibTorch.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace hao::cli {

struct TrainArgs {
  std::string model;  ///< empty: the built-in example
  std::string data = "fashion-mnist";
  int epochs = 3;
  long steps = 0;
  int batch_size = 128;
  std::string optimizer = "sgd";
  double lr = 0;
  double label_smoothing = 0.1;
  unsigned seed = 1;
  std::size_t validation = 5000;
  std::size_t subset = 0;
  int threads = 0;
  std::string out;            ///< checkpoint
  std::string json;           ///< metrics
  std::string init;           ///< checkpoint to start from
  bool from_scratch = false;  ///< ignore the weights an ONNX file carries
  std::string bits;           ///< wXaY or a per-layer file; empty keeps the model's
  int qat_epochs = 0;
  long qat_steps = 0;              ///< > 0: that many quantization-aware batches instead of epochs
  std::string batchnorm = "auto";  ///< nn::TrainingNorms
};

CLI::App* add_train_command(CLI::App& app, TrainArgs& args);
/// Runs it; returns an exit code. Throws core::InputError for bad input.
int run_train(const TrainArgs& args, std::ostream& out, std::ostream& err);

}  // namespace hao::cli
