#include "core/models/s4_mixer.h"

#include "core/ops/causal_conv_op.h"

#include <torch/fft.h>

#include <cmath>

namespace continua::core {
namespace F = torch::nn::functional;
using torch::Tensor;
using torch::indexing::Slice;

S4DKernel::S4DKernel(int64_t channels, int64_t states) : m_modes(std::max<int64_t>(1, states / 2)) {
  const int64_t H = channels, M = m_modes;
  m_logDt = register_parameter("log_dt", torch::rand({H}) * (std::log(0.1) - std::log(1e-3)) + std::log(1e-3));
  m_cRe = register_parameter("C_re", torch::randn({H, M}) * std::sqrt(0.5));
  m_cIm = register_parameter("C_im", torch::randn({H, M}) * std::sqrt(0.5));
  m_logAReal = register_parameter("log_A_real", torch::full({H, M}, std::log(0.5)));
  m_aImag = register_parameter("A_imag", (M_PI * torch::arange(M, torch::kFloat32)).repeat({H, 1}));
  m_d = register_parameter("D", torch::randn({H}));
}

S4DKernel::Discrete S4DKernel::discretise() {
  Tensor dt = torch::exp(m_logDt).unsqueeze(-1);            // (H, 1)
  Tensor ar = -torch::exp(m_logAReal), ai = m_aImag;         // A = ar + i ai
  Tensor re = dt * ar, im = dt * ai;                         // dt A
  Discrete d;
  d.decayRe = torch::exp(re) * torch::cos(im);
  d.decayIm = torch::exp(re) * torch::sin(im);
  // (exp(dtA) - 1) / A, then times C.
  Tensor p = d.decayRe - 1.0, q = d.decayIm, den = ar * ar + ai * ai;
  Tensor wr = (p * ar + q * ai) / den, wi = (q * ar - p * ai) / den;
  d.coefRe = m_cRe * wr - m_cIm * wi;
  d.coefIm = m_cRe * wi + m_cIm * wr;
  return d;
}

namespace {
// exp(p dt A) for p = 0..L-1: (H, M, L) real and imaginary parts.
std::pair<Tensor, Tensor> powers(const Tensor& decayRe, const Tensor& decayIm, int64_t L, const torch::TensorOptions& o) {
  Tensor logMag = 0.5 * torch::log(decayRe * decayRe + decayIm * decayIm + 1e-30);
  Tensor angle = torch::atan2(decayIm, decayRe);
  Tensor p = torch::arange(L, o);
  Tensor mag = torch::exp(logMag.unsqueeze(-1) * p), ph = angle.unsqueeze(-1) * p;
  return {mag * torch::cos(ph), mag * torch::sin(ph)};
}
}  // namespace

Tensor S4DKernel::kernel(int64_t length) {
  Discrete d = discretise();
  auto [pr, pi] = powers(d.decayRe, d.decayIm, length, d.coefRe.options());
  return 2.0 * (d.coefRe.unsqueeze(-1) * pr - d.coefIm.unsqueeze(-1) * pi).sum(1);  // (H, length)
}

Tensor S4DKernel::association(const Tensor& x, const Tensor& xq) {
  const int64_t B = x.size(0), L = x.size(1);
  Tensor lagWeight = kernel(L + 1).abs().mean(0);  // (L + 1): mean over channels of |K[lag]|
  if (xq.defined()) {
    // Query after L tokens: token s is L - s steps back (lags L .. 1).
    Tensor row = lagWeight.index({Slice(1, L + 1)}).flip(0);
    return normaliseRows(row.view({1, 1, L}).expand({B, xq.size(1), L}));
  }
  Tensor t = torch::arange(L, torch::TensorOptions().dtype(torch::kLong).device(x.device()));
  Tensor lag = t.unsqueeze(1) - t.unsqueeze(0);  // (L, L): t - s
  Tensor a = lagWeight.index({lag.clamp_min(0)}) * lag.ge(0);
  return normaliseRows(a.unsqueeze(0).expand({B, L, L}));
}

Tensor S4DKernel::forward(const Tensor& u) {
  const int64_t L = u.size(1);
  Tensor K = kernel(L);  // (H, L)
  Tensor uh = u.transpose(1, 2);                                                          // (B, H, L)
  Tensor y = torch::fft::irfft(torch::fft::rfft(uh, 2 * L) * torch::fft::rfft(K, 2 * L), 2 * L).index({"...", Slice(0, L)});
  return (y + uh * m_d.unsqueeze(-1)).transpose(1, 2);
}

Tensor S4DKernel::finalState(const Tensor& u) {
  const int64_t L = u.size(1);
  Discrete d = discretise();
  auto [pr, pi] = powers(d.decayRe, d.decayIm, L, u.options());
  // x_L = sum_s decay^(L-1-s) u_s: flip the powers along time.
  Tensor re = torch::einsum("hml,blh->bhm", {pr.flip(-1), u}), im = torch::einsum("hml,blh->bhm", {pi.flip(-1), u});
  return torch::stack({re, im}, -1);
}

std::pair<Tensor, Tensor> S4DKernel::advance(const Tensor& u, const Tensor& state) {
  Discrete d = discretise();
  Tensor xr = state.select(-1, 0).unsqueeze(1), xi = state.select(-1, 1).unsqueeze(1);  // (B, 1, H, M)
  Tensor nr = d.decayRe * xr - d.decayIm * xi + u.unsqueeze(-1), ni = d.decayRe * xi + d.decayIm * xr;
  Tensor y = 2.0 * (d.coefRe * nr - d.coefIm * ni).sum(-1) + m_d * u;                   // (B, Q, H)
  return {y, torch::stack({nr, ni.expand_as(nr)}, -1)};
}

S4Mixer::S4Mixer(const S4Options& o) : m_o(o) {
  m_s4 = register_module("s4d", std::make_shared<S4DKernel>(o.dModel, o.dState));
  m_out = register_module("output_linear", torch::nn::Linear(o.dModel, 2 * o.dModel));
}

Tensor S4Mixer::output(const Tensor& y) { return F::glu(m_out->forward(F::gelu(y)), -1); }

Tensor S4Mixer::forward(const Tensor& x, MixerCache* cache) {
  if (cache) {
    cache->tensors = {m_s4->finalState(x)};
    cache->length = x.size(1);
  }
  return output(m_s4->forward(x));
}

Tensor S4Mixer::queries(const Tensor& xq, const MixerCache& cache) { return output(m_s4->advance(xq, cache.tensors[0]).first); }

Tensor S4Mixer::step(const Tensor& x, MixerCache& cache) {
  auto [y, s] = m_s4->advance(x.unsqueeze(1), cache.tensors[0]);
  cache.tensors[0] = s.squeeze(1);
  cache.length += 1;
  return output(y.squeeze(1));
}

MixerCache S4Mixer::emptyCache(int64_t batch, const torch::TensorOptions& options) {
  MixerCache c;
  c.tensors = {torch::zeros({batch, m_o.dModel, m_s4->modes(), 2}, options)};
  return c;
}

double S4Mixer::flopsPerToken(int64_t) const {
  const double H = m_o.dModel;
  return 8 * H * m_s4->modes() + 2 * H * 2 * H + 10 * H;
}

S4MambaMixer::S4MambaMixer(const S4Options& o, int64_t layersForInit) : m_o(o) {
  const int64_t E = o.expand * o.dModel;
  m_inProj = register_module("in_proj", torch::nn::Linear(torch::nn::LinearOptions(o.dModel, 2 * E).bias(false)));
  auto conv = torch::nn::Conv1d(torch::nn::Conv1dOptions(E, E, o.dConv).groups(E).bias(true));
  m_conv.weight = register_parameter("conv_weight", conv->weight.detach().clone());
  m_conv.bias = register_parameter("conv_bias", conv->bias.detach().clone());
  m_s4 = register_module("s4d", std::make_shared<S4DKernel>(E, o.dState));
  m_outProj = register_module("out_proj", torch::nn::Linear(torch::nn::LinearOptions(E, o.dModel).bias(false)));
  torch::NoGradGuard g;
  m_outProj->weight.div_(std::sqrt(double(layersForInit)));
}

Tensor S4MambaMixer::gateDropout(const Tensor& y) {
  if (!is_training() || m_o.dropout <= 0) return y;
  Tensor keep = torch::bernoulli(torch::full({y.size(0), 1, y.size(2)}, 1.0 - m_o.dropout, y.options()));
  return y * keep / (1.0 - m_o.dropout);
}

Tensor S4MambaMixer::forward(const Tensor& x, MixerCache* cache) {
  const int64_t E = m_o.expand * m_o.dModel;
  auto xz = m_inProj->forward(x).split(E, -1);
  Tensor xc = causalConvSilu(xz[0], m_conv.weight, m_conv.bias);
  if (cache) {
    cache->tensors = {m_s4->finalState(xc), CausalConv::lastWindow(xz[0], m_o.dConv)};
    cache->length = x.size(1);
  }
  return m_outProj->forward(gateDropout(m_s4->forward(xc)) * xz[1]);
}

Tensor S4MambaMixer::queries(const Tensor& xq, const MixerCache& cache) {
  const int64_t E = m_o.expand * m_o.dModel;
  auto xz = m_inProj->forward(xq).split(E, -1);
  Tensor xc = F::silu(m_conv.queries(xz[0], cache.tensors[1]));
  return m_outProj->forward(m_s4->advance(xc, cache.tensors[0]).first * xz[1]);
}

Tensor S4MambaMixer::step(const Tensor& x, MixerCache& cache) {
  const int64_t E = m_o.expand * m_o.dModel;
  auto xz = m_inProj->forward(x.unsqueeze(1)).split(E, -1);
  Tensor xc = F::silu(m_conv.queries(xz[0], cache.tensors[1]));
  auto [y, s] = m_s4->advance(xc, cache.tensors[0]);
  cache.tensors = {s.squeeze(1), torch::cat({cache.tensors[1].index({Slice(), Slice(1)}), xz[0]}, 1)};
  cache.length += 1;
  return m_outProj->forward(y * xz[1]).squeeze(1);
}

MixerCache S4MambaMixer::emptyCache(int64_t batch, const torch::TensorOptions& options) {
  const int64_t E = m_o.expand * m_o.dModel;
  MixerCache c;
  c.tensors = {torch::zeros({batch, E, m_s4->modes(), 2}, options), torch::zeros({batch, m_o.dConv - 1, E}, options)};
  return c;
}

double S4MambaMixer::flopsPerToken(int64_t) const {
  const double D = m_o.dModel, E = m_o.expand * D;
  return 2 * (D * 2 * E + E * D) + 8 * E * m_s4->modes() + 2 * m_o.dConv * E;
}

}  // namespace continua::core
