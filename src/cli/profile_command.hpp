// `hao profile`: a network's measured batch-1 latency on this CPU, with LibTorch.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace hao::cli {

struct ProfileArgs {
  std::string model;
  int threads = 0;
  int warmup = 10;
  int repeats = 50;
  std::string json;
  std::string checkpoint;
};

CLI::App* add_profile_command(CLI::App& app, ProfileArgs& args);
/// Runs it; returns an exit code. Throws core::InputError for bad input.
int run_profile(const ProfileArgs& args, std::ostream& out, std::ostream& err);

}  // namespace hao::cli
