// Runs `hao` in process for the CLI tests: exit code, stdout and stderr.
#pragma once

#include <sstream>
#include <string>
#include <vector>

#include "cli/app.hpp"

namespace hao::cli::test {

struct HaoRun {
  int code;
  std::string out, err;
};

inline HaoRun hao(std::vector<std::string> args) {
  args.insert(args.begin(), "hao");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  std::ostringstream out, err;
  const int code = run(static_cast<int>(argv.size()), argv.data(), out, err);
  return {code, out.str(), err.str()};
}

}  // namespace hao::cli::test
