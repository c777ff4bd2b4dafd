// Errors a user can act on, and the internal-invariant check.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace hao::core {

/// Bad input: a file, flag or value the user gave. Carries every problem found, each naming
/// the file, the path inside it, the value and the rule. The CLI maps it to exit code 2.
class InputError : public std::runtime_error {
 public:
  explicit InputError(std::vector<std::string> problems);
  explicit InputError(const std::string& problem) : InputError(std::vector<std::string>{problem}) {}
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  std::vector<std::string> problems_;
};

/// A run that failed for a reason the user can act on, not an input file's and not a bug (a
/// training that does not learn). The CLI prints "hao: error: ..." and exits 1.
class RunFailure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Collects problems while validating, then throws one InputError holding all of them.
/// `where` prefixes every message, e.g. "net.yaml".
class IssueList {
 public:
  explicit IssueList(std::string where) : where_(std::move(where)) {}
  /// Records a problem at `path` (e.g. "layers[4] 'conv3'") with message `what`.
  void add(const std::string& path, const std::string& what);
  /// Takes over every problem of `error` as it stands (they already name their source).
  void absorb(const InputError& error);
  bool empty() const { return problems_.empty(); }
  /// Throws InputError with every recorded problem; does nothing when there are none.
  void throw_if_any() const;

 private:
  std::string where_;
  std::vector<std::string> problems_;
};

/// A violated internal invariant (a bug in hao, not in the input). Exit code 1.
class InternalError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

[[noreturn]] void fail_check(const char* condition, const char* file, int line,
                             const std::string& message);

}  // namespace hao::core

/// Internal invariant check; stays on in release builds.
#define HAO_CHECK(cond, msg)                                                \
  do {                                                                      \
    if (!(cond)) ::hao::core::fail_check(#cond, __FILE__, __LINE__, (msg)); \
  } while (false)
