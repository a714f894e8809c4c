#pragma once
// Causal multi-head attention with three score kernels:
//   softmax  exp(q.k / sqrt(d_head))                  (Transformer; state = growing KV cache)
//   elu      (elu(q)+1).(elu(k)+1)                    (Linear Transformer; fixed-size state)
//   favor    positive orthogonal random features      (Performer FAVOR+; fixed-size state)
// The parallel forward uses the quadratic form for all three (as cl-as-seq does), which also gives the
// association maps directly; the recurrent forms are used by queries() and step().
#include "core/models/mixer.h"

namespace continua::core {

enum class AttentionKernel { Softmax, Elu, Favor };

struct AttentionOptions {
  int64_t dModel = 128, heads = 8;
  AttentionKernel kernel = AttentionKernel::Softmax;
  int64_t favorFeatures = 64;   // Performer: random features per head (even: m/2 directions, each with both signs)
  bool favorRedraw = false;     // Performer: redraw the features at every training forward
  double projInitStd = 0.0;     // >0: GPT-2 style N(0, std) init of c_proj (0 keeps the default init)
};

class AttentionMixer : public Mixer {
 public:
  explicit AttentionMixer(const AttentionOptions& o);

  torch::Tensor forward(const torch::Tensor& x, MixerCache* cache) override;
  torch::Tensor queries(const torch::Tensor& xq, const MixerCache& cache) override;
  torch::Tensor step(const torch::Tensor& x, MixerCache& cache) override;
  MixerCache emptyCache(int64_t batch, const torch::TensorOptions& options) override;
  bool hasAssociation() const override { return true; }
  torch::Tensor association(const torch::Tensor& x, const torch::Tensor& xq, bool perHead) override;
  double flopsPerToken(int64_t context) const override;
  std::string kind() const override;

 private:
  struct Heads { torch::Tensor q, k, v; };  // each (B, H, L, d_head)
  Heads project(const torch::Tensor& x);
  // project() through a memo: forward(), association() and queries() of one run share their projections.
  Heads projectStream(const torch::Tensor& x) { return m_streamMemo.get(*this, x, {}, [&] { return project(x); }); }
  Heads projectQueries(const torch::Tensor& xq) { return m_queryMemo.get(*this, xq, {}, [&] { return project(xq); }); }
  torch::Tensor feature(const torch::Tensor& t);  // kernel feature map for elu/favor, (B, H, L, f)
  torch::Tensor causalWeights(const Heads& h);     // (B, H, L, L), rows sum to 1
  torch::Tensor merge(const torch::Tensor& o);     // (B, H, L, d_head) -> (B, L, D) through c_proj
  // Queries against the cache plus themselves: returns (weights over cache tokens, weight on self, output).
  torch::Tensor answer(const Heads& q, const MixerCache& cache, torch::Tensor* streamWeights);

  AttentionOptions m_o;
  int64_t m_headDim;
  torch::nn::Linear m_cAttn{nullptr}, m_cProj{nullptr};
  torch::Tensor m_omega;  // favor: random directions (d_head, features / 2), shared by all heads
  ProjectionMemo<Heads> m_streamMemo, m_queryMemo;
};

}  // namespace continua::core
