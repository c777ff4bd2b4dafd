// Runs `hao` in process for the CLI tests: exit code, stdout and stderr.
#pragma once

#include <fstream>
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

/// Copies the header and the first `rows` data rows of the CSV `from` to `to`; returns `to`.
inline std::string head(const std::string& from, const std::string& to, int rows) {
  std::ifstream in(from);
  std::ofstream out(to);
  std::string line;
  for (int i = 0; i <= rows && std::getline(in, line); ++i) out << line << "\n";
  return to;
}

}  // namespace hao::cli::test
