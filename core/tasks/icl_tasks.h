#pragma once
// In-context learning tasks of "Can Mamba Learn How to Learn?" (reference/mamba_icl.md §1-2, §6): prompt
// sampling with the reference curriculum, scored positions and losses, the plotted (normalised) metric, and
// the classical baselines on the same prompts.
#include <torch/torch.h>

#include <string>
#include <vector>

namespace continua::core {

struct IclPrompts {
  torch::Tensor xs;       // (B, N, d)
  torch::Tensor ys;       // (B, N) scalar targets | (B, d) for MQAR
  torch::Tensor tokens;   // model input: (B, 2N, d) interleaved [x1, y~1, ...] | (B, 2n+1, d) for MQAR
  torch::Tensor scored;   // (B, N) bool: positions in loss and metric (outliers excluded)
  torch::Tensor truth;    // MQAR only: (B, T) ground-truth association of the query (matching key and value)
  torch::Tensor hidden;   // chain-of-thought only: the intermediate step s (B, N, k)
};

struct IclTaskSpec {
  std::string name;
  int64_t dims = 20, points = 41, sparsity = 3;
  int64_t hidden = 4;  // chain-of-thought: width k of the intermediate step
};

class IclTask {
 public:
  explicit IclTask(IclTaskSpec spec) : m_spec(std::move(spec)) {}
  const IclTaskSpec& spec() const { return m_spec; }
  bool isRetrieval() const { return m_spec.name == "mqar"; }
  bool isClassification() const { return m_spec.name == "sparse_parity"; }
  bool isChainOfThought() const { return m_spec.name == "chain_of_thought"; }
  // Chain-of-thought prompts are triples [x_i, s_i, y_i] with three read-ins (reference §2.9). One linear
  // read-in over [x | s | y | token type one-hot] is exactly that: each token fills only its own segment, and
  // the one-hot gives each type its own bias.
  int64_t tokenDim() const { return isChainOfThought() ? m_spec.dims + m_spec.hidden + 1 + 3 : m_spec.dims; }
  int64_t outputDim() const { return isRetrieval() ? m_spec.dims : isChainOfThought() ? m_spec.hidden + 1 : 1; }
  // Divides the squared error so that predicting 0 scores ~1 (d, k or 1; reference §1.2).
  double normaliser() const;

  // Curriculum at a training step (dims, points), as the reference's schedule for this task.
  std::pair<int64_t, int64_t> curriculum(int64_t step, bool enabled) const;
  IclPrompts sample(int64_t batch, int64_t points, int64_t dimsTruncated, torch::Generator& gen) const;

  // Predictions read from the model output (B, T, outDim): (B, N) or (B, d) for MQAR.
  torch::Tensor readPredictions(const torch::Tensor& out) const;
  torch::Tensor loss(const torch::Tensor& pred, const IclPrompts& p) const;
  // Per-position plotted metric (B, N) (normalised squared error, or accuracy for parity); (B, 1) for MQAR.
  torch::Tensor metric(const torch::Tensor& pred, const IclPrompts& p) const;
  // Classical baselines on the same prompts: name -> per-position predictions (B, N) (MQAR: (B, d)).
  std::vector<std::pair<std::string, torch::Tensor>> baselines(const IclPrompts& p) const;
  // The association the query should have with earlier tokens (MQAR: its matching key and value), (B, T).
  // Throws ConfigError for tasks where it is not defined.
  torch::Tensor groundTruth(const IclPrompts& p) const;

  static const std::vector<std::string>& names();

 private:
  IclTaskSpec m_spec;
};

// A depth-4 tree as the reference stores it: node j has children 2j+1 (x[split] <= 0) and 2j+2 (x[split] > 0);
// leaves are nodes 15..30. xs (B, N, d), split (B, 31) long, leaf (B, 31) -> (B, N).
torch::Tensor evaluateDecisionTree(const torch::Tensor& xs, const torch::Tensor& split, const torch::Tensor& leaf);

// Lasso without intercept, min (1/2n)|y - Xw|^2 + alpha |w|_1 (sklearn's objective), by FISTA, batched over B.
torch::Tensor lassoFit(const torch::Tensor& X, const torch::Tensor& y, double alpha, int iterations = 300);

// Greedy regression tree (CART, squared error, best split over all features and thresholds) of depth
// maxDepth fit on (X, y) (n, d), evaluated at x (d).
double greedyTreePredict(const torch::Tensor& X, const torch::Tensor& y, const torch::Tensor& x, int maxDepth);

}  // namespace continua::core
