// `hao supernet train|eval|export`: the weight-sharing supernet of a generative space, trained
// once; any of its networks judged with inherited weights, or written out as a checkpoint of
// its own.
#pragma once

#include <iosfwd>
#include <string>

namespace CLI {
class App;
}

namespace hao::cli {

/// `hao supernet train`'s steps for a single-operator space.
inline constexpr long kSupernetSteps = 600, kSupernetQatSteps = 150;

struct SupernetArgs {
  std::string space = "fmnist-mbv2";
  // train
  std::string mode = "sandwich";  ///< nn::SupernetMode: sandwich or single-path
  /// Float and quantization-aware steps; -1: kSupernetSteps and kSupernetQatSteps per operator
  /// of the space's largest pool (search::Mbv2Spec::supernet_steps).
  long steps = -1;
  long qat_steps = -1;
  double epochs = 0;  ///< > 0: float steps from passes over the training images
  int batch_size = 64;
  int random_members = 2;
  double lr = 0.05;
  double qat_lr_fraction = 0.1;
  double distillation = 0;  ///< nn::SupernetTrainOptions::distillation
  unsigned seed = 1;
  std::size_t validation = 5000;
  std::size_t subset = 0;
  int threads = 0;
  std::string out;  ///< train: the checkpoint (default supernet-SPACE.pt); export: the network's
  std::string json;
  // eval, export
  std::string checkpoint;
  std::string genotype;
  int bits = 0;  ///< > 0: every block and the head at these bits
  bool in_float = false;
  std::size_t recalibration_images = 1000;
};

/// Registers `hao supernet` and its three subcommands; returns the three.
struct SupernetCommands {
  CLI::App* train = nullptr;
  CLI::App* eval = nullptr;
  CLI::App* exporter = nullptr;
};
SupernetCommands add_supernet_command(CLI::App& app, SupernetArgs& args);
int run_supernet_train(const SupernetArgs& args, std::ostream& out, std::ostream& err);
int run_supernet_eval(const SupernetArgs& args, std::ostream& out, std::ostream& err);
int run_supernet_export(const SupernetArgs& args, std::ostream& out, std::ostream& err);

}  // namespace hao::cli
