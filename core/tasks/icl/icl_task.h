#pragma once
// In-context learning tasks of "Can Mamba Learn How to Learn?" (reference/mamba_icl.md §1-2, §6). Each task is
// one small type behind this interface, in its own file under core/tasks/icl/; core/tasks/icl/registry.cpp
// maps names to them. The defaults here are the common Garg et al. framework: interleaved [x_1, ỹ_1, ...]
// tokens with ỹ = (y, 0, ..., 0), predictions read at the x tokens, MSE over the scored positions, the
// squared error divided by the task's normaliser as the plotted metric.
#include <torch/torch.h>

#include <functional>
#include <memory>
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

// The reference curriculum (Garg et al.; reference/mamba_icl.md §1.3): after every `every` steps the points
// grow by `pointsIncrement` (and the truncated dimension by 1 every 2000 steps when `growDims`).
struct CurriculumSchedule {
  int64_t dimsStart = 5, pointsStart = 11, pointsIncrement = 2, pointsEvery = 2000;
  bool growDims = true, enabled = true;
};

// A named per-position prediction of a classical baseline, (B, N) (MQAR: (B, d)).
using BaselinePrediction = std::pair<std::string, torch::Tensor>;
// The model as a function of the prompt tokens, for evaluations that feed predictions back (chain of thought).
using PromptModel = std::function<torch::Tensor(const torch::Tensor& tokens)>;

// An extra evaluation of a task beyond its headline metric: a scalar, and optionally a per-position curve.
struct IclExtraMetric {
  std::string name;        // e.g. "match_error"; stored as test/<name> and examples/<name>
  torch::Tensor perPrompt;  // (B) or (B, N) (NaN where not scored)
};

class IclTask {
 public:
  explicit IclTask(IclTaskSpec spec) : m_spec(std::move(spec)) {}
  virtual ~IclTask() = default;
  const IclTaskSpec& spec() const { return m_spec; }

  virtual int64_t tokenDim() const { return m_spec.dims; }
  virtual int64_t outputDim() const { return 1; }
  // Divides the squared error so that predicting 0 scores ~1 (d, k or 1; reference §1.2).
  virtual double normaliser() const { return double(m_spec.dims); }
  virtual bool isClassification() const { return false; }
  virtual bool interleaved() const { return true; }  // MQAR: keys and values as they are

  // Curriculum at a training step: (truncated dims, points).
  std::pair<int64_t, int64_t> curriculum(int64_t step, bool enabled) const;
  virtual IclPrompts sample(int64_t batch, int64_t points, int64_t dimsTruncated, torch::Generator& gen) const = 0;

  // Predictions read from the model output (B, T, outDim): (B, N) at the x tokens by default.
  virtual torch::Tensor readPredictions(const torch::Tensor& out) const;
  // Training loss as the reference computes it: mean squared error over the scored positions (not / d).
  virtual torch::Tensor loss(const torch::Tensor& pred, const IclPrompts& p) const;
  // Per-position plotted metric (B, N): squared error / normaliser, NaN where not scored.
  virtual torch::Tensor metric(const torch::Tensor& pred, const IclPrompts& p) const;
  // Classical baselines on the same prompts, fit on each prompt's clean earlier examples only.
  virtual std::vector<BaselinePrediction> baselines(const IclPrompts& p) const { (void)p; return {}; }
  // Evaluations beyond the headline metric (MQAR's key-match error, chain-of-thought predicted step by step).
  // model may be empty: then only those that need no further model calls.
  virtual std::vector<IclExtraMetric> extraMetrics(const IclPrompts& p, const torch::Tensor& pred, const PromptModel& model) const {
    (void)p; (void)pred; (void)model;
    return {};
  }

  // The association the query should have with earlier tokens, (B, T). Only tasks with one (MQAR) define it.
  virtual bool hasGroundTruth() const { return false; }
  virtual torch::Tensor groundTruth(const IclPrompts& p) const;  // throws ConfigError unless hasGroundTruth()

 protected:
  virtual CurriculumSchedule schedule() const { return {}; }
  IclTaskSpec m_spec;
};

// Throws ConfigError naming the task and the known ones.
std::unique_ptr<IclTask> makeIclTask(const IclTaskSpec& spec);
const std::vector<std::string>& iclTaskNames();

// Shared prompt building blocks (reference §1.1).
namespace icl {
torch::Tensor interleave(const torch::Tensor& xs, const torch::Tensor& yTokens);  // [x1, y1, x2, y2, ...]
torch::Tensor padY(const torch::Tensor& ys, int64_t d);                           // (B, N) -> (B, N, d): (y, 0, ..., 0)
// x ~ N(0, I_d) with the coordinates from dimsTruncated on zeroed (the dimension curriculum).
torch::Tensor gaussianInputs(int64_t batch, int64_t points, int64_t dims, int64_t dimsTruncated, torch::Generator& gen);
// A complete regression prompt: interleaved tokens, every position scored.
IclPrompts regressionPrompts(const torch::Tensor& xs, const torch::Tensor& ys);
}  // namespace icl

}  // namespace continua::core
