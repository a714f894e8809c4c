// Vector-valued MQAR (code name `retrieval`, reference/mamba_icl.md §2.8): [k_1, v_1, ..., k_n, v_n, q], every
// token uniform on the sphere of radius sqrt(d); q copies a random key, or (with probability 1/(n+1), as
// random.randint includes n) itself; the target is the value of the key best matching q. Non-interleaved,
// read out at the last token, MSE over the value's coordinates. The ground-truth association of the query is
// its matching key and value (so the selectivity regulariser applies).
#include "core/tasks/icl/icl_task.h"

#include <cmath>

namespace continua::core {
namespace {
using torch::Tensor;
using torch::indexing::Slice;

class Mqar : public IclTask {
 public:
  using IclTask::IclTask;
  int64_t outputDim() const override { return m_spec.dims; }
  double normaliser() const override { return 1.0; }
  bool interleaved() const override { return false; }
  bool hasGroundTruth() const override { return true; }

  IclPrompts sample(int64_t B, int64_t n, int64_t, torch::Generator& gen) const override {
    const int64_t d = m_spec.dims;
    Tensor tok = torch::randn({B, 2 * n + 1, d}, gen);
    tok = tok / tok.norm(2, -1, true) * std::sqrt(double(d));
    Tensor which = torch::randint(0, n + 1, {B}, gen);  // n: the query copies itself and matches no key
    Tensor q = tok.index({torch::arange(B), 2 * which});
    tok.index_put_({Slice(), 2 * n}, q);
    Tensor keys = tok.index({Slice(), Slice(0, 2 * n, 2)}), vals = tok.index({Slice(), Slice(1, 2 * n, 2)});
    Tensor best = torch::bmm(keys, q.unsqueeze(-1)).squeeze(-1).argmax(-1);
    IclPrompts p;
    p.xs = keys;
    p.ys = vals.index({torch::arange(B), best});
    p.tokens = tok;
    p.scored = torch::ones({B, 1}, torch::kBool);
    p.truth = torch::zeros({B, 2 * n + 1});
    p.truth.index_put_({torch::arange(B), 2 * best}, 0.5);
    p.truth.index_put_({torch::arange(B), 2 * best + 1}, 0.5);
    return p;
  }
  Tensor readPredictions(const Tensor& out) const override { return out.index({Slice(), -1}); }
  Tensor loss(const Tensor& pred, const IclPrompts& p) const override { return (pred - p.ys).pow(2).mean(); }
  // squared_norm_error: summed over the value's coordinates, one number per prompt.
  Tensor metric(const Tensor& pred, const IclPrompts& p) const override { return (pred - p.ys).pow(2).sum(-1, true); }
  std::vector<BaselinePrediction> baselines(const IclPrompts& p) const override {
    const int64_t B = p.xs.size(0);
    Tensor q = p.tokens.index({Slice(), -1});
    Tensor best = torch::bmm(p.xs, q.unsqueeze(-1)).squeeze(-1).argmax(-1);
    return {{"exact lookup", p.tokens.index({torch::arange(B), 2 * best + 1})}};
  }
  // The reference's Retrieval.classify: 1 - [argmax_j <y_hat, k_j> == argmax_j <y, k_j>], compared through the keys.
  std::vector<IclExtraMetric> extraMetrics(const IclPrompts& p, const Tensor& pred, const PromptModel&) const override {
    Tensor predicted = torch::bmm(p.xs, pred.unsqueeze(-1)).squeeze(-1).argmax(-1);
    Tensor target = torch::bmm(p.xs, p.ys.unsqueeze(-1)).squeeze(-1).argmax(-1);
    return {{"match_error", predicted.ne(target).to(torch::kFloat32)}};
  }
  Tensor groundTruth(const IclPrompts& p) const override { return p.truth; }

 protected:
  CurriculumSchedule schedule() const override { CurriculumSchedule c; c.enabled = false; return c; }
};

}  // namespace

std::unique_ptr<IclTask> makeMqar(const IclTaskSpec& s) { return std::make_unique<Mqar>(s); }

}  // namespace continua::core
