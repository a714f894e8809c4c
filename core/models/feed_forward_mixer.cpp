#include "core/models/feed_forward_mixer.h"

namespace continua::core {
namespace F = torch::nn::functional;
using torch::Tensor;

FeedForwardMixer::FeedForwardMixer(const FeedForwardOptions& o) : m_o(o) {
  const int64_t hidden = o.hiddenMultiple * o.dModel;
  const int64_t n = o.experts > 0 ? o.experts : 1;
  for (int64_t i = 0; i < n; ++i) {
    m_in.push_back(register_module("fc" + std::to_string(i), torch::nn::Linear(o.dModel, hidden)));
    m_out.push_back(register_module("proj" + std::to_string(i), torch::nn::Linear(hidden, o.dModel)));
  }
  if (o.projInitStd > 0) {
    torch::NoGradGuard g;
    for (size_t i = 0; i < m_in.size(); ++i) {
      m_in[i]->weight.normal_(0, 0.02);
      m_in[i]->bias.zero_();
      m_out[i]->weight.normal_(0, o.projInitStd);
      m_out[i]->bias.zero_();
    }
  }
  if (o.experts > 0) m_router = register_module("router", torch::nn::Linear(torch::nn::LinearOptions(o.dModel, o.experts).bias(false)));
}

Tensor FeedForwardMixer::mlp(size_t i, const Tensor& x) {
  return m_out[i]->forward(F::gelu(m_in[i]->forward(x), F::GELUFuncOptions().approximate("tanh")));
}

Tensor FeedForwardMixer::forward(const Tensor& x, MixerCache*) {
  if (m_o.experts == 0) return mlp(0, x);
  // Top-k gating: softmax over the k largest router logits; every expert runs on the tokens routed to it.
  Tensor logits = m_router->forward(x);
  auto [topVal, topIdx] = logits.topk(m_o.topK, -1);
  Tensor gates = torch::zeros_like(logits).scatter(-1, topIdx, torch::softmax(topVal, -1));
  Tensor out = torch::zeros_like(x);
  for (int64_t e = 0; e < m_o.experts; ++e) {
    Tensor g = gates.select(-1, e).unsqueeze(-1);
    if (g.gt(0).any().item<bool>()) out = out + g * mlp(static_cast<size_t>(e), x);
  }
  return out;
}

Tensor FeedForwardMixer::step(const Tensor& x, MixerCache& cache) {
  cache.length += 1;
  return forward(x, nullptr);
}

double FeedForwardMixer::flopsPerToken(int64_t) const {
  const double D = m_o.dModel, H = m_o.hiddenMultiple * D;
  const double one = 2 * 2 * D * H;
  return m_o.experts > 0 ? one * m_o.topK + 2 * D * m_o.experts : one;
}

}  // namespace continua::core
