// `hao darts`: latency-aware DARTS on the NAS-Bench-201 cell, a search per lambda, each derived
// cell trained standalone and measured.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "cli/options.hpp"

namespace CLI {
class App;
}

namespace hao::cli {

struct DartsArgs {
  std::string data = "fashion-mnist";
  std::string latency_model;  ///< hao calibrate --kind mlp --space nb201 --encoding onehot
  std::vector<double> lambdas = {0};
  long steps = 600;
  long warmup_steps = 0;
  int batch_size = 64;
  int cells_per_stage = 1;
  int width = 16;
  double lr = 0.025;
  double alpha_lr = 3e-3;
  unsigned seed = 1;
  std::size_t subset = 0;
  int threads = 0;
  int train_epochs = 1;
  long train_steps = 0;
  /// Below NAS-Bench-201's 0.1: before hao's macro network had NAS-Bench-201's batch norm
  /// before its last ReLU (561ca5b), a cell of three 3x3 convs diverged there on
  /// Fashion-MNIST; kept so that figures stay comparable.
  double train_lr = 0.05;
  bool keep_none = false;  ///< NAS-Bench-201's derivation (none kept) instead of DARTS's
  bool no_train = false;
  DeviceArgs device{"", {}};  ///< none by default: no accelerator latency
  /// FILE:COLUMN of measured NAS-Bench-201 latencies (with `archs` when the file has no
  /// arch_str): each derived cell's is looked up, shown and used by the pick.
  std::string measured;
  std::string archs;
  double pick_faster = 20;   ///< percent below plain DARTS's latency
  double pick_within = 0.5;  ///< validation accuracy points below plain DARTS's
  std::string json;
};

CLI::App* add_darts_command(CLI::App& app, DartsArgs& args);
/// Runs it; returns an exit code. Throws core::InputError for bad input.
int run_darts(const DartsArgs& args, std::ostream& out, std::ostream& err);

}  // namespace hao::cli
