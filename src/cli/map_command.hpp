// `hao map`: the accelerator for a given network on a device.
#pragma once

#include <iosfwd>
#include <string>

#include "cli/options.hpp"

namespace CLI {
class App;
}

namespace hao::cli {

struct MapArgs {
  std::string model;  ///< ONNX, YAML or JSON; empty = built-in example
  DeviceArgs device;
  std::string template_name = "dataflow";
  std::string bits;  ///< "wXaY" or a per-layer file; empty keeps the model's
  double target_fps = 0;
  std::string method = "ilp";
  std::string folding_in;
  bool compare = false;  ///< with folding_in: beside hao's optimum and FINN's SetFolding
  double time_limit_s = 60;
  std::string json_out;
  std::string folding_out;
  int pareto_points = 0;
  std::string latency_model;  ///< a calibrated engine model (hao calibrate --kind engine)
  bool no_fusion = false;
};

/// Registers `hao map` and its options on `app`, filling `args`.
CLI::App* add_map_command(CLI::App& app, MapArgs& args);
/// Runs it; returns an exit code. Throws core::InputError for bad input.
int run_map(const MapArgs& args, std::ostream& out, std::ostream& err);

}  // namespace hao::cli
