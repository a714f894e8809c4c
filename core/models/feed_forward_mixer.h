#pragma once
// Position-wise mixers: the Transformer's MLP and the mixture-of-experts feed-forward layer that MambaCL
// places between Mamba blocks. They keep no state between tokens. The mixture routes each token to its top-k
// experts (softmax over the k largest router logits), runs every expert only on the tokens routed to it, and
// reports the Switch Transformer load-balancing loss E * sum_e f_e P_e (f_e: share of routed slots, P_e: mean
// router probability; 1 when balanced).
#include "core/models/mixer.h"

namespace continua::core {

struct FeedForwardOptions {
  int64_t dModel = 128, hiddenMultiple = 4;
  int64_t experts = 0, topK = 2;  // experts > 0: mixture of experts
  double projInitStd = 0.0;       // >0: GPT-2 init: fc N(0, 0.02), proj N(0, projInitStd), biases 0
};

class FeedForwardMixer : public Mixer {
 public:
  explicit FeedForwardMixer(const FeedForwardOptions& o);
  torch::Tensor forward(const torch::Tensor& x, MixerCache* cache) override;
  torch::Tensor queries(const torch::Tensor& xq, const MixerCache&) override { return forward(xq, nullptr); }
  torch::Tensor step(const torch::Tensor& x, MixerCache& cache) override;
  MixerCache emptyCache(int64_t, const torch::TensorOptions&) override { return {}; }
  torch::Tensor takeAuxiliaryLoss() override;
  double flopsPerToken(int64_t context) const override;
  std::string kind() const override { return m_o.experts > 0 ? "moe" : "mlp"; }

 private:
  torch::Tensor mlp(size_t i, const torch::Tensor& x);
  torch::Tensor routed(const torch::Tensor& x);  // mixture of experts over (tokens, d_model)
  FeedForwardOptions m_o;
  std::vector<torch::nn::Linear> m_in, m_out;
  torch::nn::Linear m_router{nullptr};
  torch::Tensor m_balance;  // load-balancing loss of the calls since the last take
};

}  // namespace continua::core
