#pragma once
// What the trainer needs from a task family (MCL episodes or ICL prompts): the learner module, one training
// loss, evaluations, probe association maps and the final sweeps. The trainer owns the loop, optimizer,
// schedule, checkpoints, store and observer; a TaskRunner knows nothing of them.
#include "core/models/sequence_model.h"
#include "core/store/run_store.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <memory>

namespace continua::core {

struct TrainLoss {
  torch::Tensor total;  // what is minimised
  std::vector<std::pair<std::string, double>> metrics;  // "train/..." values for this step
};

// What a report states about a run's model cost at the training context (the trainer counts parameters).
struct ModelFacts {
  int64_t contextTokens = 0;   // tokens the model reads per training sequence
  double flopsPerToken = 0;    // forward FLOPs per token at that context (SequenceModel::flopsPerToken)
};

class TaskRunner {
 public:
  virtual ~TaskRunner() = default;
  virtual torch::nn::Module& module() = 0;
  virtual std::string modelName() const = 0;
  virtual std::string taskName() const = 0;
  virtual std::string summary() = 0;
  virtual ModelFacts facts() = 0;
  // One batch drawn from `gen`; selectivityWeight > 0 adds weight * KL(p || q) where defined.
  virtual TrainLoss trainLoss(int64_t step, torch::Generator& gen, double selectivityWeight) = 0;
  // Held-out evaluation at the training shape: "test/..." metrics plus curves (e.g. per-task accuracy).
  virtual void evaluate(int64_t step, std::vector<MetricPoint>& metrics, std::vector<CurvePoint>& curves) = 0;
  // Association maps of a fixed probe (model and ground truth, per layer); empty when undefined.
  virtual std::vector<StoredMap> probeMaps(int64_t step) = 0;
  // The end-of-run sweeps: length generalisation, noise, domain shift (MCL) or error vs examples and the
  // baselines (ICL); metrics only the final evaluation measures go to `metrics`.
  virtual void finalSweeps(int64_t step, std::vector<MetricPoint>& metrics, std::vector<CurvePoint>& curves) = 0;
};

// Builds the runner for a validated, defaults-filled experiment config. Throws ConfigError / DataError.
std::unique_ptr<TaskRunner> makeTaskRunner(const nlohmann::json& config, torch::Device device);

// KL(p || q) per row over the positions where p > 0, averaged over all rows. p, q: (..., L).
torch::Tensor selectivityKl(const torch::Tensor& p, const torch::Tensor& q);

}  // namespace continua::core
