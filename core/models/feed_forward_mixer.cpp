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
  return routed(x.reshape({-1, m_o.dModel})).view(x.sizes());
}

Tensor FeedForwardMixer::routed(const Tensor& tokens) {
  Tensor logits = m_router->forward(tokens);                    // (T, E)
  auto [topVal, topIdx] = logits.topk(m_o.topK, -1);            // (T, k)
  Tensor gates = torch::softmax(topVal, -1);
  Tensor out = torch::zeros_like(tokens);
  Tensor slots = torch::zeros({m_o.experts}, tokens.options());
  for (int64_t e = 0; e < m_o.experts; ++e) {
    Tensor chosen = topIdx.eq(e);                               // (T, k): at most one slot per token
    Tensor rows = chosen.any(-1).nonzero().squeeze(-1);
    if (rows.numel() == 0) continue;
    Tensor gate = (gates * chosen).sum(-1).index_select(0, rows).unsqueeze(-1);
    out = out.index_add(0, rows, gate * mlp(static_cast<size_t>(e), tokens.index_select(0, rows)));
    slots[e] = double(rows.numel());
  }
  Tensor share = slots / double(tokens.size(0) * m_o.topK);
  Tensor balance = double(m_o.experts) * (share * torch::softmax(logits, -1).mean(0)).sum();
  m_balance = m_balance.defined() ? m_balance + balance : balance;
  return out;
}

Tensor FeedForwardMixer::takeAuxiliaryLoss() {
  Tensor b = m_balance;
  m_balance = Tensor();
  return b;
}

Tensor FeedForwardMixer::step(const Tensor& x, MixerCache& cache) {
  cache.length += 1;
  Tensor y = forward(x, nullptr);
  m_balance = Tensor();  // streaming is inference: nothing to balance
  return y;
}

double FeedForwardMixer::flopsPerToken(int64_t) const {
  const double D = m_o.dModel, H = m_o.hiddenMultiple * D;
  const double one = 2 * 2 * D * H;
  return m_o.experts > 0 ? one * m_o.topK + 2 * D * m_o.experts : one;
}

}  // namespace continua::core
