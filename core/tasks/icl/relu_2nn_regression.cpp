// 2-layer ReLU network regression (reference/mamba_icl.md §2.3): y = sqrt(2/h) ReLU(x^T W1) W2 with W1 (d, h),
// W2 (h, 1) ~ N(0, 1), so Var(y) ~ d. Metric / d. Curriculum points 26 -> +5 every 2000 steps.
#include "core/tasks/icl/baselines.h"

#include <cmath>

namespace continua::core {
namespace {

constexpr int64_t kHiddenUnits = 100;  // `hidden_layer_size` of the reference config

class Relu2nnRegression : public IclTask {
 public:
  using IclTask::IclTask;
  IclPrompts sample(int64_t B, int64_t N, int64_t dTrunc, torch::Generator& gen) const override {
    torch::Tensor xs = icl::gaussianInputs(B, N, m_spec.dims, dTrunc, gen);
    torch::Tensor w1 = torch::randn({B, m_spec.dims, kHiddenUnits}, gen), w2 = torch::randn({B, kHiddenUnits, 1}, gen);
    torch::Tensor ys = std::sqrt(2.0 / double(kHiddenUnits)) * torch::bmm(torch::relu(torch::bmm(xs, w1)), w2).squeeze(-1);
    return icl::regressionPrompts(xs, ys);
  }
  std::vector<BaselinePrediction> baselines(const IclPrompts& p) const override { return icl::standardBaselines(p); }

 protected:
  CurriculumSchedule schedule() const override { return {5, 26, 5, 2000, true, true}; }
};

}  // namespace

std::unique_ptr<IclTask> makeRelu2nnRegression(const IclTaskSpec& s) { return std::make_unique<Relu2nnRegression>(s); }

}  // namespace continua::core
