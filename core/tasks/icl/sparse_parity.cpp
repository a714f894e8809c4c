// Sparse parity (reference/mamba_icl.md §2.7): x uniform on {-1, +1}^d, y the product of x over a support of k
// coordinates drawn once per batch (shared by its prompts). Logits trained with BCE on (y + 1) / 2; the metric
// is accuracy of sign(logit), chance 0.5. No curriculum, no baselines.
#include "core/tasks/icl/icl_task.h"

namespace continua::core {
namespace {
using torch::Tensor;

class SparseParity : public IclTask {
 public:
  using IclTask::IclTask;
  double normaliser() const override { return 1.0; }
  bool isClassification() const override { return true; }
  IclPrompts sample(int64_t B, int64_t N, int64_t, torch::Generator& gen) const override {
    const int64_t d = m_spec.dims;
    Tensor xs = torch::randint(0, 2, {B, N, d}, gen).to(torch::kFloat32) * 2 - 1;
    Tensor support = torch::randperm(d, gen).slice(0, 0, m_spec.sparsity);
    return icl::regressionPrompts(xs, xs.index_select(2, support).prod(-1));
  }
  Tensor loss(const Tensor& pred, const IclPrompts& p) const override {
    return torch::nn::functional::binary_cross_entropy_with_logits(pred, (p.ys + 1) / 2);
  }
  Tensor metric(const Tensor& pred, const IclPrompts& p) const override { return pred.sign().eq(p.ys).to(torch::kFloat32); }

 protected:
  CurriculumSchedule schedule() const override { CurriculumSchedule c; c.enabled = false; return c; }
};

}  // namespace

std::unique_ptr<IclTask> makeSparseParity(const IclTaskSpec& s) { return std::make_unique<SparseParity>(s); }

}  // namespace continua::core
