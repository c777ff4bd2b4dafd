#include "core/error.hpp"

namespace hao::core {
namespace {
std::string join_problems(const std::vector<std::string>& problems) {
  std::string text;
  for (const auto& p : problems) {
    if (!text.empty()) text += '\n';
    text += p;
  }
  return text;
}
}  // namespace

InputError::InputError(std::vector<std::string> problems)
    : std::runtime_error(join_problems(problems)), problems_(std::move(problems)) {}

void IssueList::add(const std::string& path, const std::string& what) {
  std::string msg = where_;
  if (!path.empty()) msg += (msg.empty() ? "" : ": ") + path;
  msg += (msg.empty() ? "" : ": ") + what;
  problems_.push_back(std::move(msg));
}

void IssueList::absorb(const InputError& error) {
  problems_.insert(problems_.end(), error.problems().begin(), error.problems().end());
}

void IssueList::throw_if_any() const {
  if (!problems_.empty()) throw InputError(problems_);
}

void fail_check(const char* condition, const char* file, int line, const std::string& message) {
  throw InternalError(std::string("internal check failed: ") + condition + " at " + file + ":" +
                      std::to_string(line) + ": " + message);
}

}  // namespace hao::core
