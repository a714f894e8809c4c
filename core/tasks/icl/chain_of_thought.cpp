// Chain-of-thought I/O (Li et al. 2023, reference/mamba_icl.md §2.9; not in the official repository):
// s = sqrt(2/k) ReLU(W^T x), y = v^T s, prompts of triples [x_i, s_i, y_i]. The three read-ins are one linear
// read-in over [x | s | y | token-type one-hot]: each token fills only its own segment and the one-hot gives each
// type its own bias, which is exactly three read-ins. Loss: s at the x tokens (summed over k) + y at the s tokens.
// Metric / d (Var(y) = d), teacher-forced (the true s in the prompt); extraMetrics adds the autoregressive error
// (the model's own s fed back before y is read).
#include "core/tasks/icl/icl_task.h"

#include <cmath>

namespace continua::core {
namespace {
using torch::Tensor;
using torch::indexing::Slice;

constexpr int64_t kTokenTypes = 3;  // x, s, y

class ChainOfThought : public IclTask {
 public:
  using IclTask::IclTask;
  int64_t tokenDim() const override { return m_spec.dims + m_spec.hidden + 1 + kTokenTypes; }
  int64_t outputDim() const override { return m_spec.hidden + 1; }

  IclPrompts sample(int64_t B, int64_t N, int64_t, torch::Generator& gen) const override {
    const int64_t d = m_spec.dims, k = m_spec.hidden;
    Tensor xs = torch::randn({B, N, d}, gen);
    Tensor W = torch::randn({B, d, k}, gen), v = torch::randn({B, k, 1}, gen);
    Tensor s = std::sqrt(2.0 / double(k)) * torch::relu(torch::bmm(xs, W));
    Tensor ys = torch::bmm(s, v).squeeze(-1);
    Tensor tok = torch::zeros({B, N, kTokenTypes, tokenDim()});
    tok.index_put_({Slice(), Slice(), 0, Slice(0, d)}, xs);
    tok.index_put_({Slice(), Slice(), 1, Slice(d, d + k)}, s);
    tok.index_put_({Slice(), Slice(), 2, d + k}, ys);
    for (int64_t type = 0; type < kTokenTypes; ++type) tok.index_put_({Slice(), Slice(), type, d + k + 1 + type}, 1.0);
    IclPrompts p;
    p.xs = xs;
    p.ys = ys;
    p.hidden = s;
    p.tokens = tok.flatten(1, 2);
    p.scored = torch::ones({B, N}, torch::kBool);
    return p;
  }
  Tensor readPredictions(const Tensor& out) const override { return out; }  // s at x tokens, y at s tokens
  Tensor loss(const Tensor& pred, const IclPrompts& p) const override {
    return (stepPredictions(pred) - p.hidden).pow(2).sum(-1).mean() + (answerPredictions(pred) - p.ys).pow(2).mean();
  }
  Tensor metric(const Tensor& pred, const IclPrompts& p) const override {
    return (answerPredictions(pred) - p.ys).pow(2) / normaliser();
  }
  // Predict s_i at x_i from the true earlier triples (the teacher-forced pass already holds it: the model is
  // causal), write it in as the s token, and read y_i there: one call per position.
  std::vector<IclExtraMetric> extraMetrics(const IclPrompts& p, const Tensor& pred, const PromptModel& model) const override {
    if (!model) return {};  // only where the caller can afford one model call per position (the final sweeps)
    const int64_t N = p.xs.size(1), d = m_spec.dims, k = m_spec.hidden;
    Tensor sHat = stepPredictions(pred);
    Tensor err = torch::zeros({p.xs.size(0), N});
    for (int64_t i = 0; i < N; ++i) {
      Tensor prefix = p.tokens.index({Slice(), Slice(0, 3 * i + 2)}).clone();
      prefix.index_put_({Slice(), 3 * i + 1, Slice(d, d + k)}, sHat.index({Slice(), i}));
      Tensor yHat = model(prefix).index({Slice(), -1, k});
      err.index_put_({Slice(), i}, (yHat - p.ys.index({Slice(), i})).pow(2) / normaliser());
    }
    return {{"error_autoregressive", err}};
  }

 protected:
  CurriculumSchedule schedule() const override { return {0, 26, 5, 2000, false, true}; }  // dims fixed

 private:
  Tensor stepPredictions(const Tensor& out) const {
    return out.index({Slice(), Slice(0, torch::indexing::None, 3), Slice(0, m_spec.hidden)});
  }
  Tensor answerPredictions(const Tensor& out) const {
    return out.index({Slice(), Slice(1, torch::indexing::None, 3), m_spec.hidden});
  }
};

}  // namespace

std::unique_ptr<IclTask> makeChainOfThought(const IclTaskSpec& s) { return std::make_unique<ChainOfThought>(s); }

}  // namespace continua::core
