// Decision tree (reference/mamba_icl.md §2.4): a full binary tree of depth 4 stored as 31 nodes; split
// coordinates uniform over all d dimensions (even those the curriculum zeroes), leaf values N(0, 1); the
// comparison is strict, so a zeroed coordinate goes left. Metric not normalised (Var(y) = 1).
#include "core/tasks/icl/decision_tree.h"

#include "core/tasks/icl/baselines.h"

namespace continua::core {

torch::Tensor evaluateDecisionTree(const torch::Tensor& xs, const torch::Tensor& split, const torch::Tensor& leaf) {
  const int64_t B = xs.size(0), N = xs.size(1);
  torch::Tensor node = torch::zeros({B, N}, torch::kLong);
  for (int depth = 0; depth < kTreeDepth; ++depth) {
    torch::Tensor coord = split.gather(1, node);
    torch::Tensor value = xs.gather(2, coord.unsqueeze(-1)).squeeze(-1);
    node = 2 * node + 1 + value.gt(0).to(torch::kLong);
  }
  return leaf.gather(1, node);
}

namespace {

class DecisionTree : public IclTask {
 public:
  using IclTask::IclTask;
  double normaliser() const override { return 1.0; }
  IclPrompts sample(int64_t B, int64_t N, int64_t dTrunc, torch::Generator& gen) const override {
    torch::Tensor xs = icl::gaussianInputs(B, N, m_spec.dims, dTrunc, gen);
    torch::Tensor split = torch::randint(0, m_spec.dims, {B, kTreeNodes}, gen), leaf = torch::randn({B, kTreeNodes}, gen);
    return icl::regressionPrompts(xs, evaluateDecisionTree(xs, split, leaf));
  }
  std::vector<BaselinePrediction> baselines(const IclPrompts& p) const override {
    auto b = icl::standardBaselines(p);
    b.push_back({"greedy tree (depth 4)", icl::greedyTreeBaseline(p, kTreeDepth)});
    return b;
  }

 protected:
  CurriculumSchedule schedule() const override { return {5, 26, 5, 2000, true, true}; }
};

}  // namespace

std::unique_ptr<IclTask> makeDecisionTree(const IclTaskSpec& s) { return std::make_unique<DecisionTree>(s); }

}  // namespace continua::core
