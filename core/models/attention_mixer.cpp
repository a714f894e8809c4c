#include "core/models/attention_mixer.h"

#include <cmath>

namespace continua::core {
namespace F = torch::nn::functional;
using torch::Tensor;
using torch::indexing::Slice;

namespace {
// Orthogonal random features (FAVOR+): blocks of a random orthogonal matrix, rows rescaled to chi(d) norms.
Tensor orthogonalFeatures(int64_t dim, int64_t features) {
  std::vector<Tensor> blocks;
  for (int64_t done = 0; done < features; done += dim) {
    Tensor q = std::get<0>(torch::linalg_qr(torch::randn({dim, dim})));
    blocks.push_back(q.t());
  }
  Tensor w = torch::cat(blocks, 0).index({Slice(0, features)});
  Tensor norms = torch::randn({features, dim}).norm(2, 1, true);
  return (w * norms).t().contiguous();  // (dim, features)
}
}  // namespace

AttentionMixer::AttentionMixer(const AttentionOptions& o) : m_o(o), m_headDim(o.dModel / o.heads) {
  TORCH_CHECK(o.dModel % o.heads == 0, "attention: d_model must be divisible by heads");
  m_cAttn = register_module("c_attn", torch::nn::Linear(o.dModel, 3 * o.dModel));
  m_cProj = register_module("c_proj", torch::nn::Linear(o.dModel, o.dModel));
  torch::NoGradGuard g;
  m_cAttn->bias.zero_();
  m_cProj->bias.zero_();
  if (o.projInitStd > 0) {
    m_cAttn->weight.normal_(0, 0.02);
    m_cProj->weight.normal_(0, o.projInitStd);
  }
  if (o.kernel == AttentionKernel::Favor) m_omega = register_buffer("omega", orthogonalFeatures(m_headDim, o.favorFeatures / 2));
}

std::string AttentionMixer::kind() const {
  switch (m_o.kernel) {
    case AttentionKernel::Softmax: return "attention";
    case AttentionKernel::Elu: return "linear-attention";
    case AttentionKernel::Favor: return "performer-attention";
  }
  return "attention";
}

AttentionMixer::Heads AttentionMixer::project(const Tensor& x) {
  auto qkv = m_cAttn->forward(x).split(m_o.dModel, -1);
  auto heads = [&](const Tensor& t) { return t.view({t.size(0), t.size(1), m_o.heads, m_headDim}).transpose(1, 2); };
  return {heads(qkv[0]), heads(qkv[1]), heads(qkv[2])};
}

Tensor AttentionMixer::feature(const Tensor& t) {
  if (m_o.kernel == AttentionKernel::Elu) return F::elu(t) + 1.0;
  // FAVOR+ as fast-transformers' Favor (cl-as-seq's Performer): x' = x d^-1/4, u = x' omega,
  // phi = [exp(u - o), exp(-u - o)] with o = |x'|^2 / 2 + log(m) / 2, m = favor_features (omega has m / 2 columns).
  // The clamp only guards against overflow; Favor's per-sequence stabiliser would cancel in the normalisation.
  Tensor xs = t * std::pow(double(m_headDim), -0.25);
  Tensor u = torch::matmul(xs, m_omega);
  Tensor offset = 0.5 * xs.pow(2).sum(-1, true) + 0.5 * std::log(double(m_o.favorFeatures));
  return torch::cat({torch::exp((u - offset).clamp_max(30.0)), torch::exp((-u - offset).clamp_max(30.0))}, -1);
}

Tensor AttentionMixer::causalWeights(const Heads& h) {
  const int64_t L = h.q.size(2);
  Tensor mask = torch::ones({L, L}, torch::TensorOptions().dtype(torch::kBool).device(h.q.device())).tril();
  if (m_o.kernel == AttentionKernel::Softmax) {
    Tensor s = torch::matmul(h.q, h.k.transpose(-1, -2)) / std::sqrt(double(m_headDim));
    return torch::softmax(s.masked_fill(~mask, -1e30), -1);
  }
  Tensor s = torch::matmul(feature(h.q), feature(h.k).transpose(-1, -2)) * mask;
  return normaliseRows(s);
}

Tensor AttentionMixer::merge(const Tensor& o) {
  Tensor m = o.transpose(1, 2).contiguous();
  return m_cProj->forward(m.view({m.size(0), m.size(1), m_o.dModel}));
}

Tensor AttentionMixer::forward(const Tensor& x, MixerCache* cache) {
  // Performer with redrawing: new features once per training forward, shared by queries and keys (and by the
  // queries() that follow, which read this forward's cache).
  if (m_o.kernel == AttentionKernel::Favor && m_o.favorRedraw && is_training()) {
    torch::NoGradGuard g;
    m_omega.copy_(orthogonalFeatures(m_headDim, m_o.favorFeatures / 2));
  }
  Heads h = projectStream(x);
  Tensor out = merge(torch::matmul(causalWeights(h), h.v));
  if (cache) {
    cache->length = x.size(1);
    if (m_o.kernel == AttentionKernel::Softmax) {
      cache->tensors = {h.k, h.v};
    } else {
      Tensor fk = feature(h.k);
      cache->tensors = {torch::matmul(fk.transpose(-1, -2), h.v), fk.sum(2)};  // S (B,H,f,d), z (B,H,f)
    }
  }
  return out;
}

Tensor AttentionMixer::answer(const Heads& q, const MixerCache& cache, Tensor* streamWeights) {
  if (m_o.kernel == AttentionKernel::Softmax) {
    const double scale = 1.0 / std::sqrt(double(m_headDim));
    Tensor toStream = torch::matmul(q.q, cache.tensors[0].transpose(-1, -2)) * scale;  // (B,H,Q,L)
    Tensor toSelf = (q.q * q.k).sum(-1, true) * scale;                                   // (B,H,Q,1)
    Tensor w = torch::softmax(torch::cat({toStream, toSelf}, -1), -1);
    const int64_t L = toStream.size(-1);
    Tensor ws = w.index({"...", Slice(0, L)});
    if (streamWeights) *streamWeights = ws;
    return torch::matmul(ws, cache.tensors[1]) + w.index({"...", Slice(L)}) * q.v;
  }
  Tensor fq = feature(q.q), fk = feature(q.k);
  Tensor num = torch::matmul(fq, cache.tensors[0]) + (fq * fk).sum(-1, true) * q.v;
  Tensor den = (fq * cache.tensors[1].unsqueeze(2)).sum(-1, true) + (fq * fk).sum(-1, true);
  return num / (den + 1e-12);
}

Tensor AttentionMixer::queries(const Tensor& xq, const MixerCache& cache) {
  return merge(answer(projectQueries(xq), cache, nullptr));
}

Tensor AttentionMixer::step(const Tensor& x, MixerCache& cache) {
  Heads h = project(x.unsqueeze(1));
  Tensor out = merge(answer(h, cache, nullptr)).squeeze(1);
  if (m_o.kernel == AttentionKernel::Softmax) {
    cache.tensors = {torch::cat({cache.tensors[0], h.k}, 2), torch::cat({cache.tensors[1], h.v}, 2)};
  } else {
    Tensor fk = feature(h.k);
    cache.tensors = {cache.tensors[0] + torch::matmul(fk.transpose(-1, -2), h.v), cache.tensors[1] + fk.sum(2)};
  }
  cache.length += 1;
  return out;
}

MixerCache AttentionMixer::emptyCache(int64_t batch, const torch::TensorOptions& options) {
  MixerCache c;
  if (m_o.kernel == AttentionKernel::Softmax) {
    c.tensors = {torch::zeros({batch, m_o.heads, 0, m_headDim}, options), torch::zeros({batch, m_o.heads, 0, m_headDim}, options)};
  } else {
    const int64_t f = m_o.kernel == AttentionKernel::Favor ? m_o.favorFeatures : m_headDim;
    c.tensors = {torch::zeros({batch, m_o.heads, f, m_headDim}, options), torch::zeros({batch, m_o.heads, f}, options)};
  }
  return c;
}

Tensor AttentionMixer::association(const Tensor& x, const Tensor& xq, bool perHead) {
  Tensor w;
  if (!xq.defined()) {
    w = causalWeights(projectStream(x));
  } else {
    // From the projections directly (not through forward(), which may redraw Performer features).
    Heads stream = projectStream(x), q = projectQueries(xq);
    if (m_o.kernel == AttentionKernel::Softmax) {
      MixerCache cache;
      cache.tensors = {stream.k, stream.v};
      answer(q, cache, &w);
    } else {  // normalised kernel scores over the stream tokens
      w = torch::matmul(feature(q.q), feature(stream.k).transpose(-1, -2));
    }
    w = normaliseRows(w);  // over stream tokens only (the query's weight on itself is left out)
  }
  return perHead ? w : w.mean(1);
}

double AttentionMixer::flopsPerToken(int64_t context) const {
  const double D = m_o.dModel;
  const double proj = 2 * (3 * D * D + D * D);
  if (m_o.kernel == AttentionKernel::Softmax) return proj + 4 * double(context) * D;
  const double f = m_o.kernel == AttentionKernel::Favor ? m_o.favorFeatures : m_headDim;
  return proj + 4 * f * D + (m_o.kernel == AttentionKernel::Favor ? 2 * f * D : 0);
}

}  // namespace continua::core
