// Sparse linear regression (reference/mamba_icl.md §2.2): w ~ N(0, I_d) with all but k coordinates zeroed,
// the k chosen uniformly among the first (curriculum-truncated) dimensions. Metric / k.
#include "core/tasks/icl/baselines.h"

namespace continua::core {
namespace {

// The Lasso curve the paper plots (of alpha in {1, 0.1, 0.01, 0.001, 0.0001}).
constexpr double kLassoAlpha = 0.01;

class SparseLinearRegression : public IclTask {
 public:
  using IclTask::IclTask;
  double normaliser() const override { return double(m_spec.sparsity); }
  IclPrompts sample(int64_t B, int64_t N, int64_t dTrunc, torch::Generator& gen) const override {
    const int64_t d = m_spec.dims, k = std::min(m_spec.sparsity, dTrunc);
    torch::Tensor xs = icl::gaussianInputs(B, N, d, dTrunc, gen);
    torch::Tensor w = torch::randn({B, d, 1}, gen), mask = torch::zeros({B, d, 1});
    for (int64_t b = 0; b < B; ++b) mask.index_put_({b, torch::randperm(dTrunc, gen).slice(0, 0, k), 0}, 1.0);
    return icl::regressionPrompts(xs, torch::bmm(xs, w * mask).squeeze(-1));
  }
  std::vector<BaselinePrediction> baselines(const IclPrompts& p) const override {
    auto b = icl::standardBaselines(p);
    b.push_back({"lasso (alpha 0.01)", icl::lassoBaseline(p, kLassoAlpha)});
    return b;
  }
};

}  // namespace

std::unique_ptr<IclTask> makeSparseLinearRegression(const IclTaskSpec& s) { return std::make_unique<SparseLinearRegression>(s); }

}  // namespace continua::core
