// `hao quantize`: per-layer bit-widths chosen together with the accelerator (program 3).
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "cli/options.hpp"

namespace CLI {
class App;
}

namespace hao::cli {

struct QuantizeArgs {
  std::string model;
  DeviceArgs device;
  std::string template_name = "dataflow";
  double fps = 0;
  double latency_ms = 0;
  std::string sensitivity;  ///< JSON from hao sensitivity
  std::string checkpoint;   ///< or measure it from these weights
  std::string data = "fashion-mnist";
  std::vector<std::string> bits_choices = {"4", "8"};
  std::vector<std::string> ties;  ///< each "layer,layer[,...]"
  bool all_layers = false;
  double max_weight_kib = 0;
  double max_mbops = 0;
  bool sweep = false;
  int sweep_points = 8;
  std::string plot;
  int qat_epochs = 0;
  std::size_t subset = 0;             ///< fine-tune on this many training images only
  int probes = 100;                   ///< Hutchinson probes when measuring the sensitivity
  std::string curvature = "hessian";  ///< or "fisher" or "measured", as hao sensitivity
  std::string batchnorm = "auto";     ///< nn::TrainingNorms, for the checkpoint's network
  unsigned seed = 1;
  int threads = 0;
  std::string json_out;
  std::string bits_out;
  std::string export_dir;  ///< with qat_epochs: the fine-tuned design as hao export writes it
  double time_limit_s = 60;
};

CLI::App* add_quantize_command(CLI::App& app, QuantizeArgs& args);
/// Runs it; returns an exit code. Throws core::InputError for bad input.
int run_quantize(const QuantizeArgs& args, std::ostream& out, std::ostream& err);

}  // namespace hao::cli
