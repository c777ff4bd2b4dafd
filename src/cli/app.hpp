// The `hao` program: subcommands, options, exit codes. The only top-level try.
#pragma once

#include <iosfwd>

namespace hao::cli {

/// Documented exit codes.
enum ExitCode : int {
  kExitOk = 0,          ///< success
  kExitFailure = 1,     ///< an internal error or a failure that is not the input's fault
  kExitBadInput = 2,    ///< bad input: file, field and value named on stderr
  kExitInfeasible = 3,  ///< no configuration fits the device or reaches the target
};

/// Runs hao with command-line arguments; writes results to `out`, messages to `err`.
int run(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace hao::cli
