// `hao calibrate` (fit a latency model to measurements) and `hao predict` (apply it).
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "cli/options.hpp"

namespace CLI {
class App;
}

namespace hao::cli {

struct CalibrateArgs {
  std::string kind = "lut";
  DeviceArgs device{"", {}};  // none: --kind lut needs no device
  std::string space = "anb";
  std::string measurements;
  std::string column;
  std::string archs;
  std::string out;
  std::string predictions;
  std::string grouping;
  std::string holdout;
  std::string plot;
  int folds = 5;
  unsigned seed = 1;
  std::vector<std::size_t> train_sizes;                   ///< learning curve
  std::vector<std::size_t> hidden = {128, 128};           ///< mlp
  int steps = 2000;                                       ///< mlp
  int threads = 0;                                        ///< mlp
  std::string loss = "relative";                          ///< mlp
  std::string encoding = "structure";                     ///< mlp
  std::vector<double> weight_decay = {1e-2, 3e-2, 1e-1};  ///< mlp: one, or candidates
};

struct PredictArgs {
  std::string model;
  std::string archs;
  std::string out;
};

CLI::App* add_calibrate_command(CLI::App& app, CalibrateArgs& args);
CLI::App* add_predict_command(CLI::App& app, PredictArgs& args);
int run_calibrate(const CalibrateArgs& args, std::ostream& out, std::ostream& err);
int run_predict(const PredictArgs& args, std::ostream& out, std::ostream& err);

}  // namespace hao::cli
