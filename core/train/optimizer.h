#pragma once
// The optimisers a run's `optim` section names, and gradient clipping, as one pass over each parameter.
//
// LibTorch's Adam and AdamW take eight tensor operations per parameter per step and its clip_grad_norm_ three,
// each paying the dispatcher; at the quick-start's size (tens of small parameter tensors) that was ~13% of a
// training step (RESULTS.md §3). FusedAdam and FusedAdamW are those classes with step() done in one loop per
// parameter on the CPU: the same state (AdamParamState / AdamWParamState, so checkpoints are unchanged), the
// same update, and LibTorch's own step wherever the loop does not apply (CUDA, non-float32, amsgrad, a closure).
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <memory>
#include <vector>

namespace continua::core {

class FusedAdam : public torch::optim::Adam {
 public:
  using torch::optim::Adam::Adam;
  torch::Tensor step(LossClosure closure = nullptr) override;
};

class FusedAdamW : public torch::optim::AdamW {
 public:
  using torch::optim::AdamW::AdamW;
  torch::Tensor step(LossClosure closure = nullptr) override;
};

// `optim.name` "adam" or "adamw" with `optim.lr` and `optim.weight_decay`.
std::unique_ptr<torch::optim::Optimizer> makeOptimizer(const nlohmann::json& optim, std::vector<torch::Tensor> params);

// torch::nn::utils::clip_grad_norm_ with the 2-norm: scales every gradient by maxNorm / (norm + 1e-6) when that is
// below 1 and returns the norm of all gradients together (summed in double on the CPU, so it can differ from
// LibTorch's float sum in the last digits).
double clipGradNorm(const std::vector<torch::Tensor>& params, double maxNorm);

// The bound a run clips its gradients to: `optim.grad_clip`, or none (1e30: the norm is still computed) at 0.
double gradClipBound(const nlohmann::json& optim);

}  // namespace continua::core
