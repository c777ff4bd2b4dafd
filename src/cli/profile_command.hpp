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
  std::string space;  ///< with archs: profile a space's genotypes
  std::string archs;
  std::size_t sample = 0;
  unsigned seed = 1;
  std::string out;
  std::string table;  ///< with a generative space: the CPU piece table to fill and check
};

CLI::App* add_profile_command(CLI::App& app, ProfileArgs& args);
/// Runs it; returns an exit code. Throws core::InputError for bad input.
int run_profile(const ProfileArgs& args, std::ostream& out, std::ostream& err);

}  // namespace hao::cli
