#pragma once
// Mamba-1 mixer, as the reference `mamba_simple.Mamba` (reference/mamba_icl.md §4): in_proj to (x, z), causal
// depthwise conv + SiLU, x_proj to (dt, B, C), dt_proj with the log-uniform dt init, A = -exp(A_log) with
// A_log = ln(1..N), D skip, SiLU(z) gate, out_proj rescaled by 1/sqrt(layers). The scan runs on the
// selective-scan kernels (core/ops/selective_scan_op.h).
#include "core/models/mixer.h"
#include "core/ops/selective_scan_op.h"

namespace continua::core {

// What association() returns for a Mamba block (the q of the selectivity regulariser; docs/DECISIONS.md).
//   CbSoftmax      softmax over earlier tokens s of C_t . B_s / sqrt(N): the SSM's query (C) against its keys (B),
//                  normalised as attention is (MambaCL: "derived from the relation between C^t and B^t")
//   CbLinear       |C_t . B_s| normalised over s: the same scores without the exponential
//   ImplicitAbs    mean over channels of |M_d[t, s]|, the implicit attention with decay and dt, normalised over s
enum class MambaAssociation { CbSoftmax, CbLinear, ImplicitAbs };
MambaAssociation mambaAssociationFromName(const std::string& name);  // throws std::invalid_argument

struct MambaOptions {
  int64_t dModel = 128, dState = 16, dConv = 4, expand = 2;
  MambaAssociation association = MambaAssociation::CbSoftmax;
  int64_t dtRank = 0;  // 0: ceil(dModel / 16)
  int64_t layersForInit = 1;  // out_proj is scaled by 1/sqrt(this)
  double dtMin = 1e-3, dtMax = 1e-1, dtFloor = 1e-4;
  bool constantA = false;  // A = -1 everywhere instead of S4D-real's -(1..N)
  int64_t inner() const { return expand * dModel; }
  int64_t rank() const { return dtRank > 0 ? dtRank : (dModel + 15) / 16; }
};

// The causal depthwise convolution shared by Mamba and S4-Mamba.
struct CausalConv {
  torch::Tensor weight;  // (channels, 1, kernel)
  torch::Tensor bias;    // (channels)
  torch::Tensor forward(const torch::Tensor& x) const;  // (B, L, C) -> (B, L, C)
  // Each query (B, Q, C) as the next input after the window (B, kernel-1, C) of earlier inputs.
  torch::Tensor queries(const torch::Tensor& xq, const torch::Tensor& window) const;
  static torch::Tensor lastWindow(const torch::Tensor& x, int64_t kernel);  // (B, kernel-1, C), zero-padded
};

class MambaMixer : public Mixer {
 public:
  explicit MambaMixer(const MambaOptions& o);

  torch::Tensor forward(const torch::Tensor& x, MixerCache* cache) override;
  torch::Tensor queries(const torch::Tensor& xq, const MixerCache& cache) override;
  torch::Tensor step(const torch::Tensor& x, MixerCache& cache) override;
  MixerCache emptyCache(int64_t batch, const torch::TensorOptions& options) override;
  bool hasAssociation() const override { return true; }
  torch::Tensor association(const torch::Tensor& x, const torch::Tensor& xq, bool perHead) override;
  double flopsPerToken(int64_t context) const override;
  std::string kind() const override { return "mamba"; }

  // association(): see MambaAssociation. The implicit attention M[t, s] = sum_n C_t[n] exp(A sum_{r=s+1..t} dt_r) dt_s B_s[n], averaged over
  // channels, signed and unnormalised: (B, L, L), lower triangular. y_ssm = M @ x_conv + D * x_conv for a
  // single channel.
  torch::Tensor implicitAttention(const torch::Tensor& x, bool absPerChannel = false);
  // Pieces exposed for tests: the conv + SiLU output and the pre-gate scan output y_ssm.
  torch::Tensor convolved(const torch::Tensor& x);
  torch::Tensor ssmOutput(const torch::Tensor& x);

 private:
  struct Projected {  // per-token quantities after in_proj, conv and x_proj
    torch::Tensor xin, z, xc, dtRaw, B, C;
    torch::Tensor window;  // streams only: the last d_conv-1 conv inputs, where queries continue
  };
  Projected project(const torch::Tensor& x);
  Projected projectQueries(const torch::Tensor& xq, const torch::Tensor& window);
  Projected projectWith(const torch::Tensor& x, const torch::Tensor& window);
  ScanInputs scanInputs(const Projected& p);
  torch::Tensor A() const { return -torch::exp(m_aLog); }
  torch::Tensor dt(const torch::Tensor& dtRaw) const;  // softplus(dt_proj(dtRaw) + bias)
  // One recurrent step from state h (B, E, N) for every query: returns (y (B,Q,E) gated, h' (B,Q,E,N)).
  std::pair<torch::Tensor, torch::Tensor> advance(const Projected& p, const torch::Tensor& h);
  // Scores of rows (C: (B, R, N)) against the stream's keys (B: (B, L, N)) as the options' association.
  torch::Tensor contentAssociation(const torch::Tensor& C, const torch::Tensor& B, bool causal) const;
  torch::Tensor implicitQueryAssociation(const Projected& stream, const torch::Tensor& xq);

  MambaOptions m_o;
  torch::nn::Linear m_inProj{nullptr}, m_xProj{nullptr}, m_dtProj{nullptr}, m_outProj{nullptr};
  CausalConv m_conv;
  torch::Tensor m_aLog, m_d;
  ProjectionMemo<Projected> m_streamMemo, m_queryMemo;
};

}  // namespace continua::core
