#include "ilp/cbc_solver.hpp"

#include <coin/Cbc_C_Interface.h>

#include <chrono>
#include <cmath>
#include <memory>
#include <string>

namespace hao::ilp {
namespace {

// CBC's C interface marks infinite bounds with COIN_DBL_MAX.
double finite(double v) {
  constexpr double kCoinInf = 1.7976931348623157e308;
  if (std::isinf(v)) return v > 0 ? kCoinInf : -kCoinInf;
  return v;
}

struct ModelDeleter {
  void operator()(Cbc_Model* m) const { Cbc_deleteModel(m); }
};

}  // namespace

SolveResult solve_with_cbc(const Model& model, const SolveOptions& options) {
  SolveResult result;
  const auto t0 = std::chrono::steady_clock::now();
  const int n = model.num_vars();
  const int m = model.num_rows();

  // Rows are stored by row; CBC loads columns (compressed sparse column).
  std::vector<int> count(static_cast<std::size_t>(n) + 1, 0);
  for (const auto& r : model.rows())
    for (int v : r.vars) ++count[static_cast<std::size_t>(v) + 1];
  std::vector<CoinBigIndex> start(static_cast<std::size_t>(n) + 1, 0);
  for (int j = 0; j < n; ++j)
    start[static_cast<std::size_t>(j) + 1] =
        start[static_cast<std::size_t>(j)] + count[static_cast<std::size_t>(j) + 1];
  std::vector<int> index(static_cast<std::size_t>(start.back()));
  std::vector<double> value(static_cast<std::size_t>(start.back()));
  std::vector<CoinBigIndex> fill(start.begin(), start.end() - 1);
  std::vector<double> row_lb, row_ub;
  for (int i = 0; i < m; ++i) {
    const auto& r = model.rows()[static_cast<std::size_t>(i)];
    for (std::size_t k = 0; k < r.vars.size(); ++k) {
      const auto pos = static_cast<std::size_t>(fill[static_cast<std::size_t>(r.vars[k])]++);
      index[pos] = i;
      value[pos] = r.coefs[k];
    }
    row_lb.push_back(finite(r.lb));
    row_ub.push_back(finite(r.ub));
  }
  std::vector<double> col_lb, col_ub;
  for (int j = 0; j < n; ++j) {
    col_lb.push_back(finite(model.col_lb()[static_cast<std::size_t>(j)]));
    col_ub.push_back(finite(model.col_ub()[static_cast<std::size_t>(j)]));
  }
  std::vector<double> obj = model.objective();

  std::unique_ptr<Cbc_Model, ModelDeleter> cbc(Cbc_newModel());
  Cbc_loadProblem(cbc.get(), n, m, start.data(), index.data(), value.data(), col_lb.data(),
                  col_ub.data(), obj.data(), row_lb.data(), row_ub.data());
  for (int j = 0; j < n; ++j)
    if (model.types()[static_cast<std::size_t>(j)] != VarType::kContinuous)
      Cbc_setInteger(cbc.get(), j);
  Cbc_setObjSense(cbc.get(), model.maximize() ? -1.0 : 1.0);
  Cbc_setLogLevel(cbc.get(), 0);
  // No CGL preprocessing: CBC 2.10 crashes in CglPreProcess::postProcess when the time limit
  // falls inside it (MobileNetV2 on the engine template with --time-limit 0.05), and without
  // it our programs solve faster (hao_bench map/*: 0.67-0.85x the time, same optima).
  Cbc_setParameter(cbc.get(), "preprocess", "off");
  Cbc_setMaximumSeconds(cbc.get(), options.time_limit_s);
  Cbc_setAllowableFractionGap(cbc.get(), options.relative_gap);
  // Any "threads" setting switches CBC to its threaded search, where the calling thread only
  // waits; one thread means leaving it unset.
  if (options.threads > 1)
    Cbc_setParameter(cbc.get(), "threads", std::to_string(options.threads).c_str());
  if (static_cast<int>(options.start.size()) == n && n > 0) {
    std::vector<int> cols(static_cast<std::size_t>(n));
    for (int j = 0; j < n; ++j) cols[static_cast<std::size_t>(j)] = j;
    Cbc_setMIPStartI(cbc.get(), n, cols.data(), options.start.data());
  }

  if (options.first_solution) Cbc_setMaximumSolutions(cbc.get(), 1);
  if (options.max_nodes > 0) Cbc_setMaximumNodes(cbc.get(), static_cast<int>(options.max_nodes));

  const int rc = Cbc_solve(cbc.get());
  result.stats.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  result.stats.nodes = Cbc_getNodeCount(cbc.get());
  const double* best = Cbc_bestSolution(cbc.get());
  if (best) {
    result.values.assign(best, best + n);
    result.objective = model.evaluate(result.values);
    if (!model.is_feasible(result.values, 1e-5)) {
      // CBC can hand back an unpolished iterate when its clock runs out while cleaning up.
      result.stats.status = SolveStatus::kError;
      result.stats.message = "CBC returned a solution that violates the model";
      return result;
    }
  }
  if (Cbc_isProvenInfeasible(cbc.get())) {
    result.stats.status = SolveStatus::kInfeasible;
    result.stats.message = "no solution satisfies the constraints";
    return result;
  }
  const bool stopped_by_limit = Cbc_isSecondsLimitReached(cbc.get()) != 0 ||
                                Cbc_isSolutionLimitReached(cbc.get()) != 0 ||
                                Cbc_isNodeLimitReached(cbc.get()) != 0;
  if (Cbc_isAbandoned(cbc.get()) || (rc != 0 && !best && !stopped_by_limit)) {
    result.stats.status = SolveStatus::kError;
    result.stats.message = "CBC abandoned the search (status " +
                           std::to_string(Cbc_status(cbc.get())) + ", secondary " +
                           std::to_string(Cbc_secondaryStatus(cbc.get())) + ")";
    return result;
  }
  if (!best) {
    result.stats.status = SolveStatus::kNoSolution;
    result.stats.message = "time limit of " + std::to_string(options.time_limit_s) +
                           " s reached before any feasible solution";
    return result;
  }
  result.stats.best_bound = Cbc_getBestPossibleObjValue(cbc.get());
  if (Cbc_isProvenOptimal(cbc.get()) && !stopped_by_limit) {
    result.stats.status = SolveStatus::kOptimal;
    result.stats.best_bound = model.maximize()
                                  ? std::min(result.stats.best_bound, result.objective)
                                  : std::max(result.stats.best_bound, result.objective);
  } else {
    result.stats.status = SolveStatus::kFeasible;
    result.stats.message =
        options.first_solution ? "stopped at the first solution" : "time limit reached";
  }
  result.stats.gap = std::abs(result.objective - result.stats.best_bound) /
                     std::max(1e-9, std::abs(result.objective));
  return result;
}

}  // namespace hao::ilp
