#pragma once
// The classical learners the ICL curves are drawn against (reference/mamba_icl.md §6). At every position i each
// fits the prompt's clean examples among positions 0..i-1 (outliers never teach a baseline) and predicts y_i;
// every baseline predicts 0 where it has no example. All are batched over prompts.
#include "core/tasks/icl/icl_task.h"

namespace continua::core::icl {

// Minimum-norm least squares (torch.linalg.lstsq with gelsy in the reference: the pseudo-inverse solution).
torch::Tensor leastSquaresBaseline(const IclPrompts& p);
// w = (1 / n) sum_j x_j y_j over the n clean earlier examples; y_i = x_i^T w.
torch::Tensor averagingBaseline(const IclPrompts& p);
// The mean y of the min(n, k) nearest clean earlier x's (Euclidean, uniform weights).
torch::Tensor nearestNeighbourBaseline(const IclPrompts& p, int64_t k);
// Lasso without intercept (sklearn's objective) at every position.
torch::Tensor lassoBaseline(const IclPrompts& p, double alpha);
// A greedy regression tree (CART, squared error) of the given depth, refit at every prompt and position.
torch::Tensor greedyTreeBaseline(const IclPrompts& p, int depth);
// Least squares, averaging and 3-nearest neighbours: the reference's baselines for the regression tasks.
std::vector<BaselinePrediction> standardBaselines(const IclPrompts& p);

struct LassoFit {
  torch::Tensor w;     // (B, d)
  int iterations = 0;  // FISTA iterations taken
  bool converged = false;
};
// min_w (1/2n)|y - Xw|^2 + alpha |w|_1, batched over B, by FISTA with step 1/L, L the largest eigenvalue of
// X^T X / n; stops when no coefficient moves by more than `tolerance` (relative to the largest) in a step.
// samples (B) optional: n per prompt when some rows of X are zero padding.
LassoFit lassoFit(const torch::Tensor& X, const torch::Tensor& y, double alpha, int maxIterations = 20000,
                  double tolerance = 1e-7, const torch::Tensor& samples = {});

// Greedy regression tree of depth maxDepth fit on (X, y) (n, d), evaluated at x (d).
double greedyTreePredict(const torch::Tensor& X, const torch::Tensor& y, const torch::Tensor& x, int maxDepth);

}  // namespace continua::core::icl
