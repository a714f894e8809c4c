#include "core/models/mamba_mixer.h"

#include "core/ops/causal_conv_op.h"
#include "core/ops/selective_scan_op.h"
#include "core/ops/selective_scan_queries_op.h"

#include <cmath>
#include <stdexcept>

namespace continua::core {
namespace F = torch::nn::functional;
using torch::Tensor;
using torch::indexing::Slice;

Tensor CausalConv::forward(const Tensor& x) const {
  const int64_t L = x.size(1), k = weight.size(2);
  Tensor y = F::conv1d(x.transpose(1, 2), weight, F::Conv1dFuncOptions().bias(bias).padding(k - 1).groups(weight.size(0)));
  return y.index({Slice(), Slice(), Slice(0, L)}).transpose(1, 2);
}

// Every query sees the same window of earlier inputs and then itself, so the window's part of the convolution is
// one (B, C) sum shared by all queries: no (B, Q, kernel, C) tensor of copied windows, forward or backward.
Tensor CausalConv::queries(const Tensor& xq, const Tensor& window) const {
  Tensor w = weight.squeeze(1).t();  // (kernel, C)
  const int64_t k = w.size(0);
  Tensor shared = (window * w.narrow(0, 0, k - 1)).sum(1) + bias;  // window: (B, kernel - 1, C)
  return shared.unsqueeze(1) + xq * w[k - 1];
}

Tensor CausalConv::lastWindow(const Tensor& x, int64_t kernel) {
  Tensor padded = F::pad(x, F::PadFuncOptions({0, 0, kernel - 1, 0}));
  return padded.index({Slice(), Slice(padded.size(1) - (kernel - 1))}).contiguous();
}

MambaMixer::MambaMixer(const MambaOptions& o) : m_o(o) {
  const int64_t D = o.dModel, E = o.inner(), N = o.dState, R = o.rank();
  m_inProj = register_module("in_proj", torch::nn::Linear(torch::nn::LinearOptions(D, 2 * E).bias(false)));
  auto conv = torch::nn::Conv1d(torch::nn::Conv1dOptions(E, E, o.dConv).groups(E).bias(true));
  m_conv.weight = register_parameter("conv_weight", conv->weight.detach().clone());
  m_conv.bias = register_parameter("conv_bias", conv->bias.detach().clone());
  m_xProj = register_module("x_proj", torch::nn::Linear(torch::nn::LinearOptions(E, R + 2 * N).bias(false)));
  m_dtProj = register_module("dt_proj", torch::nn::Linear(torch::nn::LinearOptions(R, E).bias(true)));
  m_outProj = register_module("out_proj", torch::nn::Linear(torch::nn::LinearOptions(E, D).bias(false)));
  torch::NoGradGuard noGrad;
  const double std = 1.0 / std::sqrt(double(R));
  m_dtProj->weight.uniform_(-std, std);
  // softplus(bias) ~ log-uniform [dtMin, dtMax], floored; bias = softplus^-1(dt) = dt + log(-expm1(-dt)).
  Tensor dt = torch::exp(torch::rand({E}) * (std::log(o.dtMax) - std::log(o.dtMin)) + std::log(o.dtMin)).clamp_min(o.dtFloor);
  m_dtProj->bias.copy_(dt + torch::log(-torch::expm1(-dt)));
  m_aLog = register_parameter("A_log", o.constantA ? torch::zeros({E, N})
                                                   : torch::log(torch::arange(1, N + 1, torch::kFloat32)).repeat({E, 1}));
  m_d = register_parameter("D", torch::ones({E}));
  m_outProj->weight.div_(std::sqrt(double(o.layersForInit)));
}

Tensor MambaMixer::dt(const Tensor& dtRaw) const {
  return F::softplus(F::linear(dtRaw, m_dtProj->weight, m_dtProj->bias));
}

MambaMixer::Projected MambaMixer::project(const Tensor& x) {
  return m_streamMemo.get(*this, x, Tensor(), [&] {
    Projected p = projectWith(x, Tensor());
    p.window = CausalConv::lastWindow(p.xin, m_o.dConv);
    return p;
  });
}

// Keyed on the window tensor itself: forward() hands out the stream's window in its cache, and association()
// reuses the same one, so queries() after association() finds the projections already made.
MambaMixer::Projected MambaMixer::projectQueries(const Tensor& xq, const Tensor& window) {
  return m_queryMemo.get(*this, xq, window, [&] { return projectWith(xq, window); });
}

// in_proj -> (x, z); causal conv (over the sequence, or for each query after `window`) + SiLU; x_proj.
MambaMixer::Projected MambaMixer::projectWith(const Tensor& x, const Tensor& window) {
  const int64_t E = m_o.inner(), N = m_o.dState, R = m_o.rank();
  Projected p;
  auto xz = m_inProj->forward(x).split(E, -1);
  p.xin = xz[0];
  p.z = xz[1];
  p.xc = window.defined() ? F::silu(m_conv.queries(p.xin, window)) : causalConvSilu(p.xin, m_conv.weight, m_conv.bias);
  auto dbc = m_xProj->forward(p.xc).split_with_sizes({R, N, N}, -1);
  p.dtRaw = dbc[0];
  p.B = dbc[1];
  p.C = dbc[2];
  return p;
}

// The scan's inputs for projected tokens: dt_proj's bias goes in as the kernel's delta bias (softplus inside).
ScanInputs MambaMixer::scanInputs(const Projected& p) {
  ScanInputs in;
  in.u = p.xc;
  in.delta = F::linear(p.dtRaw, m_dtProj->weight);
  in.A = A();
  in.B = p.B;
  in.C = p.C;
  in.D = m_d;
  in.z = p.z;
  in.deltaBias = m_dtProj->bias;
  in.deltaSoftplus = true;
  return in;
}

Tensor MambaMixer::forward(const Tensor& x, MixerCache* cache) {
  Projected p = project(x);
  const ScanInputs in = scanInputs(p);
  ScanOutputs s = selectiveScan(in);
  if (cache) {
    cache->tensors = {s.finalState, p.window};
    cache->length = x.size(1);
  }
  return m_outProj->forward(s.out);
}

std::pair<Tensor, Tensor> MambaMixer::advance(const Projected& p, const Tensor& h) {
  Tensor d = dt(p.dtRaw);                                         // (B, Q, E)
  Tensor decay = torch::exp(d.unsqueeze(-1) * A());              // (B, Q, E, N)
  Tensor h2 = decay * h.unsqueeze(1) + (d * p.xc).unsqueeze(-1) * p.B.unsqueeze(2);
  Tensor y = (h2 * p.C.unsqueeze(2)).sum(-1) + m_d * p.xc;
  return {y * F::silu(p.z), h2};
}

// Each query is one more scan step from the stream's end state, independently of the others, in one fused
// operation (core/ops/selective_scan_queries_op.h). LibTorch ops would materialise and save several
// (B, Q, E, N) tensors for the backward: they were a third of a small training step.
Tensor MambaMixer::queries(const Tensor& xq, const MixerCache& cache) {
  Projected p = projectQueries(xq, cache.tensors[1]);
  const ScanInputs in = scanInputs(p);
  return m_outProj->forward(selectiveScanQueries(in, cache.tensors[0]));
}

Tensor MambaMixer::step(const Tensor& x, MixerCache& cache) {
  Projected p = projectWith(x.unsqueeze(1), cache.tensors[1]);  // a new token every call: nothing to remember
  auto [y, h] = advance(p, cache.tensors[0]);
  cache.tensors[0] = h.squeeze(1).contiguous();
  cache.tensors[1] = torch::cat({cache.tensors[1].index({Slice(), Slice(1)}), p.xin}, 1);
  cache.length += 1;
  return m_outProj->forward(y.squeeze(1));
}

MixerCache MambaMixer::emptyCache(int64_t batch, const torch::TensorOptions& options) {
  MixerCache c;
  c.tensors = {torch::zeros({batch, m_o.inner(), m_o.dState}, options),
               torch::zeros({batch, m_o.dConv - 1, m_o.inner()}, options)};
  return c;
}

Tensor MambaMixer::convolved(const Tensor& x) { return project(x).xc; }

Tensor MambaMixer::ssmOutput(const Tensor& x) {
  Projected p = project(x);
  ScanInputs in{p.xc, F::linear(p.dtRaw, m_dtProj->weight), A(), p.B, p.C, m_d, Tensor(), m_dtProj->bias, Tensor(), true};
  return selectiveScan(in).out;
}

Tensor MambaMixer::implicitAttention(const Tensor& x, bool absPerChannel) {
  Projected p = project(x);
  Tensor d = dt(p.dtRaw);               // (B, L, E)
  Tensor S = d.cumsum(1);               // S_t = sum_{r<=t} dt_r
  const int64_t L = x.size(1);
  Tensor a = A();
  std::vector<Tensor> rows;
  for (int64_t t = 0; t < L; ++t) {
    Tensor St = S.index({Slice(), Slice(t, t + 1)});                     // (B, 1, E)
    Tensor Ss = S.index({Slice(), Slice(0, t + 1)});                     // (B, t+1, E)
    Tensor decay = torch::exp((St - Ss).unsqueeze(-1) * a);             // (B, t+1, E, N)
    Tensor key = decay * (d.index({Slice(), Slice(0, t + 1)}).unsqueeze(-1) * p.B.index({Slice(), Slice(0, t + 1)}).unsqueeze(2));
    Tensor perChannel = (key * p.C.index({Slice(), Slice(t, t + 1)}).unsqueeze(2)).sum(-1);  // (B, t+1, E)
    Tensor m = (absPerChannel ? perChannel.abs() : perChannel).mean(-1);
    rows.push_back(F::pad(m, F::PadFuncOptions({0, L - t - 1})));
  }
  return torch::stack(rows, 1);
}

MambaAssociation mambaAssociationFromName(const std::string& name) {
  if (name == "cb-softmax") return MambaAssociation::CbSoftmax;
  if (name == "cb-linear") return MambaAssociation::CbLinear;
  if (name == "implicit-abs") return MambaAssociation::ImplicitAbs;
  throw std::invalid_argument("selectivity.mamba_association: expected cb-softmax, cb-linear or implicit-abs, got '" + name + "'");
}

Tensor MambaMixer::contentAssociation(const Tensor& C, const Tensor& B, bool causal) const {
  Tensor scores = torch::matmul(C, B.transpose(1, 2)) / std::sqrt(double(m_o.dState));  // (B, R, L)
  Tensor allowed;
  if (causal) allowed = torch::ones({C.size(1), B.size(1)}, scores.options().dtype(torch::kBool)).tril();
  if (m_o.association == MambaAssociation::CbSoftmax)
    return torch::softmax(causal ? scores.masked_fill(~allowed, -1e30) : scores, -1);
  Tensor a = scores.abs();
  return normaliseRows(causal ? a * allowed : a);
}

// Queries after the stream: the decay from token s to the query factors into a stream part
// exp(A (S_end - S_s)) and a query part exp(A dt_q), both <= 1, so no (B, Q, L, E, N) tensor is needed.
Tensor MambaMixer::implicitQueryAssociation(const Projected& p, const Tensor& xq) {
  Tensor d = dt(p.dtRaw);
  Tensor S = d.cumsum(1);
  Tensor a = A();
  Tensor toEnd = S.index({Slice(), Slice(-1)}) - S;                                      // (B, L, E)
  Tensor key = torch::exp(toEnd.unsqueeze(-1) * a) * (d.unsqueeze(-1) * p.B.unsqueeze(2));  // (B, L, E, N)
  Projected q = projectQueries(xq, p.window);
  Tensor query = torch::exp(dt(q.dtRaw).unsqueeze(-1) * a) * q.C.unsqueeze(2);            // (B, Q, E, N)
  // Mean over channels of |M_d|: signed channel contributions would cancel in a plain mean. Chunked over
  // channels so the (B, Q, L, channels) intermediate stays small.
  const int64_t E = m_o.inner(), chunk = 32;
  Tensor total;
  for (int64_t e0 = 0; e0 < E; e0 += chunk) {
    Tensor part = torch::einsum("bqen,bsen->bqse", {query.index({Slice(), Slice(), Slice(e0, e0 + chunk)}),
                                                      key.index({Slice(), Slice(), Slice(e0, e0 + chunk)})})
                      .abs()
                      .sum(-1);
    total = total.defined() ? total + part : part;
  }
  return normaliseRows(total / double(E));
}

Tensor MambaMixer::association(const Tensor& x, const Tensor& xq, bool) {
  Projected p = project(x);
  if (m_o.association == MambaAssociation::ImplicitAbs)
    return xq.defined() ? implicitQueryAssociation(p, xq) : normaliseRows(implicitAttention(x, true));
  if (!xq.defined()) return contentAssociation(p.C, p.B, true);
  return contentAssociation(projectQueries(xq, p.window).C, p.B, false);
}

double MambaMixer::flopsPerToken(int64_t) const {
  const double D = m_o.dModel, E = m_o.inner(), N = m_o.dState, R = m_o.rank();
  const double matmul = 2 * (D * 2 * E + E * (R + 2 * N) + R * E + E * D);
  return matmul + 9 * E * N + 2 * m_o.dConv * E + 10 * E;
}

}  // namespace continua::core
