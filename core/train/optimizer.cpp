#include "core/train/optimizer.h"

#include "kernels/adam.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>
#include <type_traits>

namespace continua::core {
namespace {

// What the loops of kernels/adam.h take: dense float32 in CPU memory.
bool cpuFloat32Dense(const torch::Tensor& t) {
  return t.device().is_cpu() && !t.is_sparse() && t.scalar_type() == torch::kFloat32 && t.is_contiguous();
}

bool fusable(const torch::Tensor& p) { return cpuFloat32Dense(p) && cpuFloat32Dense(p.grad()); }

// Whether every parameter with a gradient can take the one-loop update (else LibTorch's step runs for all).
bool allFusable(const std::vector<torch::optim::OptimizerParamGroup>& groups) {
  for (const auto& group : groups)
    for (const auto& p : group.params())
      if (p.grad().defined() && !fusable(p)) return false;
  return true;
}

struct AdamStep {
  double lr, beta1, beta2, eps, weightDecay;
  bool decoupled;  // AdamW: p *= 1 - lr * wd before the update; Adam: grad += wd * p
};

// One parameter's update in LibTorch's order of operations (adam.cpp / adamw.cpp of 1.13), by the kernel.
void update(torch::Tensor& p, torch::Tensor& expAvg, torch::Tensor& expAvgSq, int64_t step, const AdamStep& s) {
  kernels::AdamUpdateParams k;
  k.n = p.numel();
  k.param = p.data_ptr<float>();
  k.grad = p.grad().data_ptr<float>();
  k.expAvg = expAvg.data_ptr<float>();
  k.expAvgSq = expAvgSq.data_ptr<float>();
  k.beta1 = float(s.beta1);
  k.beta2 = float(s.beta2);
  k.eps = float(s.eps);
  k.stepSize = float(s.lr / (1 - std::pow(s.beta1, double(step))));
  k.sqrtBiasCorrection2 = float(std::sqrt(1 - std::pow(s.beta2, double(step))));
  k.weightDecay = float(s.weightDecay);
  k.decoupled = s.decoupled;
  k.decoupledShrink = float(1 - s.lr * s.weightDecay);
  kernels::adamUpdateCpu(k);
}

// The moments and step count live in LibTorch's own per-parameter state, keyed as its Adam keys them, so
// save/load and a switch between the fused and the plain step see the same optimiser.
// LibTorch 1.13 keys the state by the TensorImpl's address as text (c10::guts::to_string, an ostream of the
// pointer, which 2.x no longer has), 2.x by the address itself.
template <typename Key>
Key stateKey(const torch::Tensor& p) {
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream text;
    text << static_cast<const void*>(p.unsafeGetTensorImpl());
    return text.str();
  } else {
    return p.unsafeGetTensorImpl();
  }
}

template <typename State, typename Options, typename StateMap>
void fusedStep(std::vector<torch::optim::OptimizerParamGroup>& groups, StateMap& states, bool decoupled) {
  torch::NoGradGuard noGrad;
  for (auto& group : groups) {
    const auto& o = static_cast<const Options&>(group.options());
    const AdamStep s{o.lr(), std::get<0>(o.betas()), std::get<1>(o.betas()), o.eps(), o.weight_decay(), decoupled};
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      const auto key = stateKey<typename StateMap::key_type>(p);
      auto it = states.find(key);
      if (it == states.end()) {
        auto fresh = std::make_unique<State>();
        fresh->step(0);
        fresh->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Contiguous));
        fresh->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Contiguous));
        it = states.emplace(key, std::move(fresh)).first;
      }
      auto& state = static_cast<State&>(*it->second);
      state.step(state.step() + 1);
      torch::Tensor m = state.exp_avg(), v = state.exp_avg_sq();
      update(p, m, v, state.step(), s);
    }
  }
}

// LibTorch's own step runs for a closure, amsgrad, or any parameter the loop does not take.
template <typename Options>
bool needsLibTorchStep(const std::vector<torch::optim::OptimizerParamGroup>& groups,
                       const torch::optim::Optimizer::LossClosure& closure) {
  bool amsgrad = false;
  for (const auto& g : groups) amsgrad = amsgrad || static_cast<const Options&>(g.options()).amsgrad();
  return closure != nullptr || amsgrad || !allFusable(groups);
}

}  // namespace

torch::Tensor FusedAdam::step(LossClosure closure) {
  if (needsLibTorchStep<torch::optim::AdamOptions>(param_groups_, closure)) return torch::optim::Adam::step(closure);
  fusedStep<torch::optim::AdamParamState, torch::optim::AdamOptions>(param_groups_, state_, false);
  return {};
}

torch::Tensor FusedAdamW::step(LossClosure closure) {
  if (needsLibTorchStep<torch::optim::AdamWOptions>(param_groups_, closure)) return torch::optim::AdamW::step(closure);
  fusedStep<torch::optim::AdamWParamState, torch::optim::AdamWOptions>(param_groups_, state_, true);
  return {};
}

std::unique_ptr<torch::optim::Optimizer> makeOptimizer(const nlohmann::json& o, std::vector<torch::Tensor> params) {
  if (o["name"] == "adamw")
    return std::make_unique<FusedAdamW>(params, torch::optim::AdamWOptions(o["lr"]).weight_decay(o["weight_decay"]));
  return std::make_unique<FusedAdam>(params, torch::optim::AdamOptions(o["lr"]).weight_decay(o["weight_decay"]));
}

double gradClipBound(const nlohmann::json& optim) {
  const double clip = optim["grad_clip"];
  return clip > 0 ? clip : 1e30;
}

double clipGradNorm(const std::vector<torch::Tensor>& params, double maxNorm) {
  std::vector<torch::Tensor> grads;
  for (const auto& p : params)
    if (p.grad().defined()) grads.push_back(p.grad());
  if (!std::all_of(grads.begin(), grads.end(), cpuFloat32Dense)) return torch::nn::utils::clip_grad_norm_(params, maxNorm);
  double sumSq = 0;
  for (const auto& g : grads) {
    double part = 0;
    kernels::sumOfSquaresCpu({g.data_ptr<float>(), g.numel(), &part});
    sumSq += part;
  }
  const double norm = std::sqrt(sumSq);
  const double coef = maxNorm / (norm + 1e-6);
  if (coef < 1) {
    torch::NoGradGuard noGrad;
    for (auto& g : grads) {
      float* x = g.data_ptr<float>();
      for (int64_t i = 0, n = g.numel(); i < n; ++i) x[i] *= float(coef);
    }
  }
  return norm;
}

}  // namespace continua::core
