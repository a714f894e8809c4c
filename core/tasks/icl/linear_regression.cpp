// Linear regression (reference/mamba_icl.md §2.1): w ~ N(0, I_d) per prompt, y = x^T w. Metric / d.
#include "core/tasks/icl/baselines.h"

namespace continua::core {
namespace {

class LinearRegression : public IclTask {
 public:
  using IclTask::IclTask;
  IclPrompts sample(int64_t B, int64_t N, int64_t dTrunc, torch::Generator& gen) const override {
    torch::Tensor xs = icl::gaussianInputs(B, N, m_spec.dims, dTrunc, gen);
    torch::Tensor w = torch::randn({B, m_spec.dims, 1}, gen);
    return icl::regressionPrompts(xs, torch::bmm(xs, w).squeeze(-1));
  }
  std::vector<BaselinePrediction> baselines(const IclPrompts& p) const override { return icl::standardBaselines(p); }
};

}  // namespace

std::unique_ptr<IclTask> makeLinearRegression(const IclTaskSpec& s) { return std::make_unique<LinearRegression>(s); }

}  // namespace continua::core
