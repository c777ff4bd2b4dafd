// Solves a Model with COIN-OR CBC. This header does not expose CBC; the .cpp is the only
// file in hao that includes CBC headers.
#pragma once

#include "ilp/model.hpp"

namespace hao::ilp {

/// Runs CBC on `model`. Never throws for solver outcomes: infeasibility, time limits and
/// solver failures are reported in the result's status and message.
SolveResult solve_with_cbc(const Model& model, const SolveOptions& options);

}  // namespace hao::ilp
