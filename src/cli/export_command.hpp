// `hao export`: a trained checkpoint as a QONNX model, its folding and a FINN build.
#pragma once

#include <iosfwd>
#include <string>

#include "cli/options.hpp"

namespace CLI {
class App;
}

namespace hao::cli {

struct ExportArgs {
  std::string model;  ///< empty: the built-in example
  std::string checkpoint;
  std::string bits;  ///< wXaY or a per-layer file; empty keeps the model's
  std::string out;
  bool force = false;
  std::size_t samples = 1;
  std::string data = "fashion-mnist";
  DeviceArgs device;
  double target_fps = 0;
  double time_limit_s = 60;
  std::string batchnorm = "auto";  ///< nn::TrainingNorms, as the checkpoint was trained
  std::string json;
};

CLI::App* add_export_command(CLI::App& app, ExportArgs& args);
/// Runs it; returns an exit code. Throws core::InputError for bad input.
int run_export(const ExportArgs& args, std::ostream& out, std::ostream& err);

}  // namespace hao::cli
