#pragma once
// S4 (S4D: diagonal, linear time-invariant) and S4-Mamba, as in mambaformer-icl (reference/mamba_icl.md §3.3).
// S4D kernel per channel h with N/2 complex modes: K[l] = 2 Re sum_n C'_n exp(dt A_n l), C'_n = C_n (exp(dt A_n) - 1) / A_n.
// The parallel forward convolves with K through an FFT; the recurrent form keeps x_n (complex, per mode):
//   x_t = exp(dt A) x_{t-1} + u_t ;  y_t = 2 Re sum_n C'_n x_t + D u_t.
#include "core/models/mamba_mixer.h"

namespace continua::core {

// The S4D kernel and its recurrence; owned by both S4 mixers.
class S4DKernel : public torch::nn::Module {
 public:
  S4DKernel(int64_t channels, int64_t states);
  torch::Tensor forward(const torch::Tensor& u);  // (B, L, H) -> (B, L, H), includes D skip
  // From state (B, H, M, 2) (real, imaginary): outputs for each query input (B, Q, H), and the new states.
  std::pair<torch::Tensor, torch::Tensor> advance(const torch::Tensor& u, const torch::Tensor& state);
  torch::Tensor finalState(const torch::Tensor& u);  // state after the sequence (B, H, M, 2)
  torch::Tensor kernel(int64_t length);               // K[h, l] for lags l = 0..length-1 (D skip excluded)
  // The convolution as an implicit attention (an LTI model's only one): rows of mean_h |K_h[t - s]| over
  // earlier tokens s, normalised; for queries after a stream of L tokens, lag L - s (the query itself excluded).
  // (B, L, L) causal, or (B, Q, L) for queries.
  torch::Tensor association(const torch::Tensor& x, const torch::Tensor& xq);
  int64_t modes() const { return m_modes; }

 private:
  struct Discrete { torch::Tensor decayRe, decayIm, coefRe, coefIm; };  // (H, M) each
  Discrete discretise();
  int64_t m_modes;
  torch::Tensor m_logDt, m_logAReal, m_aImag, m_cRe, m_cIm, m_d;
};

struct S4Options {
  int64_t dModel = 128, dState = 16;
  // S4-Mamba only:
  int64_t dConv = 4, expand = 2;
  double dropout = 0.1;  // on the S4D output, mask tied across time (the reference's quirk); train mode only
};

// S4 block: y = S4D(u); GELU; Conv1x1(H -> 2H); GLU.
class S4Mixer : public Mixer {
 public:
  explicit S4Mixer(const S4Options& o);
  torch::Tensor forward(const torch::Tensor& x, MixerCache* cache) override;
  torch::Tensor queries(const torch::Tensor& xq, const MixerCache& cache) override;
  torch::Tensor step(const torch::Tensor& x, MixerCache& cache) override;
  MixerCache emptyCache(int64_t batch, const torch::TensorOptions& options) override;
  bool hasAssociation() const override { return true; }
  torch::Tensor association(const torch::Tensor& x, const torch::Tensor& xq, bool) override { return m_s4->association(x, xq); }
  double flopsPerToken(int64_t context) const override;
  std::string kind() const override { return "s4"; }

 private:
  torch::Tensor output(const torch::Tensor& y);
  S4Options m_o;
  std::shared_ptr<S4DKernel> m_s4;
  torch::nn::Linear m_out{nullptr};
};

// S4-Mamba: the Mamba block with the selective scan replaced by S4D; the gate is raw z (reference quirk).
class S4MambaMixer : public Mixer {
 public:
  S4MambaMixer(const S4Options& o, int64_t layersForInit);
  torch::Tensor forward(const torch::Tensor& x, MixerCache* cache) override;
  torch::Tensor queries(const torch::Tensor& xq, const MixerCache& cache) override;
  torch::Tensor step(const torch::Tensor& x, MixerCache& cache) override;
  MixerCache emptyCache(int64_t batch, const torch::TensorOptions& options) override;
  bool hasAssociation() const override { return true; }
  // The S4D kernel's lags do not depend on the input, so the map is the same for x and for its projections.
  torch::Tensor association(const torch::Tensor& x, const torch::Tensor& xq, bool) override { return m_s4->association(x, xq); }
  double flopsPerToken(int64_t context) const override;
  std::string kind() const override { return "s4-mamba"; }

 private:
  torch::Tensor gateDropout(const torch::Tensor& y);
  S4Options m_o;
  torch::nn::Linear m_inProj{nullptr}, m_outProj{nullptr};
  CausalConv m_conv;
  std::shared_ptr<S4DKernel> m_s4;
};

}  // namespace continua::core
