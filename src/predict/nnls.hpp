// Non-negative least squares (Lawson and Hanson, "Solving Least Squares Problems", 1974,
// ch. 23). Debian 12's Eigen 3.4 has no NNLS; this is the textbook active-set method with
// Eigen's QR for the unconstrained subproblems.
#pragma once

#include <Eigen/Dense>

namespace hao::predict {

/// Minimizes ||A x - b|| subject to x >= 0. Columns are best scaled to similar norms first.
Eigen::VectorXd nnls(const Eigen::MatrixXd& a, const Eigen::VectorXd& b, int max_iterations = 0);

}  // namespace hao::predict
