// A solver-neutral mixed-integer linear program: variables, linear rows, an objective.
#pragma once

#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace hao::ilp {

inline constexpr double kInf = std::numeric_limits<double>::infinity();

enum class VarType { kContinuous, kInteger, kBinary };

/// Minimize (or maximize) c'x subject to row_lb <= Ax <= row_ub and col_lb <= x <= col_ub.
class Model {
 public:
  struct Row {
    std::vector<int> vars;
    std::vector<double> coefs;
    double lb = -kInf, ub = kInf;
    std::string name;
  };

  /// Adds a variable and returns its index.
  int add_var(double lb, double ub, double objective, VarType type, std::string name = {});
  /// Adds lb <= sum coef*var <= ub.
  void add_row(std::vector<std::pair<int, double>> terms, double lb, double ub,
               std::string name = {});
  void set_maximize(bool maximize) { maximize_ = maximize; }

  int num_vars() const { return static_cast<int>(lb_.size()); }
  int num_rows() const { return static_cast<int>(rows_.size()); }
  bool maximize() const { return maximize_; }
  const std::vector<double>& col_lb() const { return lb_; }
  const std::vector<double>& col_ub() const { return ub_; }
  const std::vector<double>& objective() const { return obj_; }
  const std::vector<VarType>& types() const { return types_; }
  const std::vector<std::string>& names() const { return names_; }
  const std::vector<Row>& rows() const { return rows_; }

  /// Objective value of `x`, and whether `x` satisfies every row, bound and integrality
  /// within `tolerance`.
  double evaluate(const std::vector<double>& x) const;
  bool is_feasible(const std::vector<double>& x, double tolerance = 1e-6) const;

 private:
  std::vector<double> lb_, ub_, obj_;
  std::vector<VarType> types_;
  std::vector<std::string> names_;
  std::vector<Row> rows_;
  bool maximize_ = false;
};

/// For assignment programs: per item the option whose binary is largest in `x`, where
/// `var[item][option]` is the option's variable (-1 when it was left out); -1 for an item
/// with no variable.
std::vector<int> chosen_options(const std::vector<std::vector<int>>& var,
                                const std::vector<double>& x);

struct SolveOptions {
  double time_limit_s = 60;    ///< wall-clock limit; the best solution found is returned
  double relative_gap = 1e-9;  ///< stop when (incumbent - bound) / |incumbent| is below
  int threads = 1;
  /// Gap for tie-breaks that pick the leanest of several optimal designs (not the objective
  /// the user asked for): resources within this fraction of the least are accepted.
  double lean_relative_gap = 0.005;
  std::vector<double> start;    ///< optional feasible start (one value per variable)
  bool first_solution = false;  ///< stop at the first feasible solution (feasibility checks)
  long max_nodes = 0;           ///< branch-and-bound node limit; 0 = none (deterministic cap)
  /// Tie-break passes: at most this many nodes, so that results do not depend on the clock.
  long lean_max_nodes = 1000;
  /// For folding programs: a start given as one candidate index per layer.
  std::vector<int> start_choice;
};

enum class SolveStatus {
  kOptimal,     ///< proven optimal (within relative_gap)
  kFeasible,    ///< stopped by the time limit with a solution; see gap
  kInfeasible,  ///< proven infeasible
  kNoSolution,  ///< stopped by the time limit before any solution
  kError,       ///< the solver failed; see message
  kNotSolved,   ///< found without the solver (a heuristic, a given design, an enumeration)
};
/// "optimal", "time limit (feasible)", "infeasible", "time limit (no solution)",
/// "solver error", "not solved".
std::string to_string(SolveStatus s);

/// What every solve reports; embedded as `stats` in every solver result, whatever the program.
struct SolveStats {
  SolveStatus status = SolveStatus::kError;
  double seconds = 0;     ///< wall time of every solve behind the result
  long nodes = 0;         ///< branch-and-bound nodes, summed over those solves
  double gap = 0;         ///< relative: |objective - bound| / max(1e-9, |objective|)
  double best_bound = 0;  ///< proven bound on the optimum, in the objective's units
  std::string message;    ///< why there is no solution, or the solver's note
  bool has_solution() const {
    return status == SolveStatus::kOptimal || status == SolveStatus::kFeasible ||
           status == SolveStatus::kNotSolved;
  }
  /// Adds another solve's time and nodes (a second pass, a bisection probe).
  void add_effort(const SolveStats& other) {
    seconds += other.seconds;
    nodes += other.nodes;
  }
};

/// "optimal", or "time limit (feasible), gap 1.20%", or the status alone.
std::string status_text(const SolveStats& s);

struct SolveResult {
  SolveStats stats;
  double objective = 0;  ///< of the returned solution
  std::vector<double> values;
  bool has_solution() const { return stats.has_solution(); }
};

}  // namespace hao::ilp
