#include "ilp/model.hpp"

#include <cmath>

#include "core/error.hpp"
#include "core/text.hpp"

namespace hao::ilp {

int Model::add_var(double lb, double ub, double objective, VarType type, std::string name) {
  HAO_CHECK(lb <= ub, "variable bounds are inverted");
  if (type == VarType::kBinary) {
    lb = std::max(lb, 0.0);
    ub = std::min(ub, 1.0);
  }
  lb_.push_back(lb);
  ub_.push_back(ub);
  obj_.push_back(objective);
  types_.push_back(type);
  names_.push_back(std::move(name));
  return num_vars() - 1;
}

void Model::add_row(std::vector<std::pair<int, double>> terms, double lb, double ub,
                    std::string name) {
  Row r;
  for (const auto& [var, coef] : terms) {
    HAO_CHECK(var >= 0 && var < num_vars(), "row refers to an unknown variable");
    r.vars.push_back(var);
    r.coefs.push_back(coef);
  }
  r.lb = lb;
  r.ub = ub;
  r.name = std::move(name);
  rows_.push_back(std::move(r));
}

double Model::evaluate(const std::vector<double>& x) const {
  double v = 0;
  for (int j = 0; j < num_vars(); ++j)
    v += obj_[static_cast<std::size_t>(j)] * x[static_cast<std::size_t>(j)];
  return v;
}

bool Model::is_feasible(const std::vector<double>& x, double tolerance) const {
  if (static_cast<int>(x.size()) != num_vars()) return false;
  for (std::size_t j = 0; j < x.size(); ++j) {
    if (x[j] < lb_[j] - tolerance || x[j] > ub_[j] + tolerance) return false;
    if (types_[j] != VarType::kContinuous && std::abs(x[j] - std::round(x[j])) > tolerance)
      return false;
  }
  for (const auto& r : rows_) {
    double a = 0;
    for (std::size_t k = 0; k < r.vars.size(); ++k)
      a += r.coefs[k] * x[static_cast<std::size_t>(r.vars[k])];
    const double scale = std::max(1.0, std::abs(a));
    if (a < r.lb - tolerance * scale || a > r.ub + tolerance * scale) return false;
  }
  return true;
}

std::string to_string(SolveStatus s) {
  switch (s) {
    case SolveStatus::kOptimal:
      return "optimal";
    case SolveStatus::kFeasible:
      return "time limit (feasible)";
    case SolveStatus::kInfeasible:
      return "infeasible";
    case SolveStatus::kNoSolution:
      return "time limit (no solution)";
    case SolveStatus::kError:
      return "solver error";
    case SolveStatus::kNotSolved:
      return "not solved";
  }
  return "?";
}

std::string status_text(const SolveStats& s) {
  if (s.status != SolveStatus::kFeasible) return to_string(s.status);
  return to_string(s.status) + ", gap " + core::fixed(100.0 * s.gap, 2) + "%";
}

std::vector<int> chosen_options(const std::vector<std::vector<int>>& var,
                                const std::vector<double>& x) {
  std::vector<int> choice;
  for (const auto& item : var) {
    int best = -1;
    double best_v = -1;
    for (std::size_t o = 0; o < item.size(); ++o)
      if (item[o] >= 0 && x[static_cast<std::size_t>(item[o])] > best_v)
        best_v = x[static_cast<std::size_t>(item[o])], best = static_cast<int>(o);
    choice.push_back(best);
  }
  return choice;
}

}  // namespace hao::ilp
