#include "tests/core/reference_models.h"

#include <cmath>
#include <stdexcept>

namespace continua::reference {
using torch::Tensor;
using torch::indexing::Slice;

namespace {

const Tensor& at(const Weights& w, const std::string& name) {
  auto it = w.find(name);
  if (it == w.end()) throw std::runtime_error("reference: no weight named '" + name + "'");
  return it->second;
}

Tensor linear(const Tensor& x, const Weights& w, const std::string& name, bool bias) {
  Tensor y = torch::matmul(x, at(w, name + ".weight").t());
  return bias ? y + at(w, name + ".bias") : y;
}

Tensor layerNorm(const Tensor& x, const Weights& w, const std::string& name) {
  Tensor mean = x.mean(-1, true);
  Tensor var = (x - mean).pow(2).mean(-1, true);  // biased, as nn.LayerNorm
  return (x - mean) / torch::sqrt(var + 1e-5) * at(w, name + ".weight") + at(w, name + ".bias");
}

Tensor logistic(const Tensor& x) { return 1.0 / (1.0 + torch::exp(-x)); }
Tensor swish(const Tensor& x) { return x * logistic(x); }
Tensor softplusOf(const Tensor& x) { return torch::log1p(torch::exp(x)); }
Tensor geluExact(const Tensor& x) { return 0.5 * x * (1.0 + torch::erf(x / std::sqrt(2.0))); }
Tensor geluTanh(const Tensor& x) {  // GPT-2's "gelu_new"
  return 0.5 * x * (1.0 + torch::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x.pow(3))));
}

// Depthwise causal Conv1d(kernel K, padding K-1, outputs [:L]), tap by tap: w[c, 0, K-1] multiplies x_t.
Tensor causalDepthwiseConv(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  const int64_t L = x.size(1), K = weight.size(2);
  Tensor padded = torch::cat({torch::zeros({x.size(0), K - 1, x.size(2)}, x.options()), x}, 1);
  Tensor y = bias.expand({x.size(0), L, x.size(2)});
  for (int64_t k = 0; k < K; ++k) y = y + padded.index({Slice(), Slice(k, k + L)}) * weight.index({Slice(), 0, k});
  return y;
}

Tensor causalMask(int64_t L, const torch::TensorOptions& o) {
  return torch::ones({L, L}, o.dtype(torch::kBool)).tril();
}

// (B, L, D) -> (B, H, L, D/H) and back.
Tensor splitHeads(const Tensor& t, int64_t H) {
  return t.reshape({t.size(0), t.size(1), H, t.size(2) / H}).permute({0, 2, 1, 3});
}
Tensor mergeHeads(const Tensor& t) {
  Tensor m = t.permute({0, 2, 1, 3});
  return m.reshape({m.size(0), m.size(1), m.size(2) * m.size(3)});
}

Tensor mambaBlock(const Weights& w, const std::string& p, const Tensor& x, const Sizes& s) {
  const int64_t E = s.expand * s.dModel, N = s.dState, R = s.dtRank;
  Tensor xz = torch::matmul(x, at(w, p + "in_proj.weight").t());
  Tensor xin = xz.index({"...", Slice(0, E)}), z = xz.index({"...", Slice(E, 2 * E)});
  Tensor xc = swish(causalDepthwiseConv(xin, at(w, p + "conv_weight"), at(w, p + "conv_bias")));
  Tensor dbl = torch::matmul(xc, at(w, p + "x_proj.weight").t());
  Tensor dt = dbl.index({"...", Slice(0, R)});
  Tensor Bm = dbl.index({"...", Slice(R, R + N)}), Cm = dbl.index({"...", Slice(R + N, R + 2 * N)});
  Tensor delta = torch::matmul(dt, at(w, p + "dt_proj.weight").t());  // the bias goes inside the softplus
  Tensor A = -torch::exp(at(w, p + "A_log"));
  Tensor y = selectiveScanRef(xc, delta, A, Bm, Cm, at(w, p + "D"), z, at(w, p + "dt_proj.bias"));
  return torch::matmul(y, at(w, p + "out_proj.weight").t());
}

Tensor softmaxAttention(const Weights& w, const std::string& p, const Tensor& x, const Sizes& s) {
  Tensor qkv = linear(x, w, p + "c_attn", true);
  auto parts = qkv.chunk(3, -1);
  Tensor q = splitHeads(parts[0], s.heads), k = splitHeads(parts[1], s.heads), v = splitHeads(parts[2], s.heads);
  const double scale = 1.0 / std::sqrt(double(q.size(-1)));
  Tensor scores = torch::matmul(q, k.transpose(-1, -2)) * scale;
  scores = scores.masked_fill(~causalMask(x.size(1), x.options()), -std::numeric_limits<float>::infinity());
  Tensor att = torch::exp(scores - std::get<0>(scores.max(-1, true)));
  att = att / att.sum(-1, true);
  return linear(mergeHeads(torch::matmul(att, v)), w, p + "c_proj", true);
}

// cl-as-seq's efficient attention: attn = (phi(q).phi(k) + 1e-9) * mask / rowsum, computed quadratically.
Tensor kernelAttention(const Weights& w, const std::string& p, const Tensor& x, const Sizes& s,
                       Tensor (*feature)(const Tensor&, const Weights&, const std::string&)) {
  Tensor qkv = linear(x, w, p + "c_attn", true);
  auto parts = qkv.chunk(3, -1);
  Tensor q = feature(splitHeads(parts[0], s.heads), w, p), k = feature(splitHeads(parts[1], s.heads), w, p);
  Tensor v = splitHeads(parts[2], s.heads);
  Tensor logit = (torch::matmul(q, k.transpose(-1, -2)) + 1e-9) * causalMask(x.size(1), x.options()).to(x.dtype());
  Tensor att = logit / logit.sum(-1, true);
  return linear(mergeHeads(torch::matmul(att, v)), w, p + "c_proj", true);
}

// elu(x) + 1 as cl-as-seq writes it: x + 1 for x > 0, exp(min(x, 1)) otherwise.
Tensor eluFeature(const Tensor& t, const Weights&, const std::string&) {
  return torch::where(t > 0, t + 1, torch::exp(torch::minimum(t, torch::ones_like(t))));
}

// fast-transformers' Favor: x' = x d^-1/4, u = x' omega, phi = [exp(u - o), exp(-u - o)], o = |x'|^2/2 + log(m)/2.
Tensor favorFeature(const Tensor& t, const Weights& w, const std::string& p) {
  const Tensor& omega = at(w, p + "omega");  // (d_head, m / 2)
  const double m = 2.0 * double(omega.size(1));
  Tensor xs = t * std::pow(double(t.size(-1)), -0.25);
  Tensor u = torch::matmul(xs, omega);
  Tensor offset = 0.5 * (xs * xs).sum(-1, true) + 0.5 * std::log(m);
  return torch::cat({torch::exp(u - offset), torch::exp(-u - offset)}, -1);
}

Tensor mlp(const Weights& w, const std::string& fc, const std::string& proj, const Tensor& x) {
  return linear(geluTanh(linear(x, w, fc, true)), w, proj, true);
}

// Top-k gating: softmax over the k largest router logits; the other experts get weight 0. Dense: every expert's
// output is computed and weighted (the definition, not the fast path).
Tensor mixtureOfExperts(const Weights& w, const std::string& p, const Tensor& x, const Sizes& s) {
  Tensor logits = torch::matmul(x, at(w, p + "router.weight").t());
  auto top = logits.topk(s.topK, -1);
  Tensor chosen = std::get<0>(top);
  Tensor soft = torch::exp(chosen - std::get<0>(chosen.max(-1, true)));
  soft = soft / soft.sum(-1, true);
  Tensor gates = torch::zeros_like(logits).scatter(-1, std::get<1>(top), soft);
  Tensor out = torch::zeros_like(x);
  for (int64_t e = 0; e < s.experts; ++e)
    out = out + gates.index({"...", Slice(e, e + 1)}) *
                    mlp(w, p + "fc" + std::to_string(e), p + "proj" + std::to_string(e), x);
  return out;
}

// S4D (the s4 repository's standalone s4d.py): complex diagonal A, K[l] = 2 Re sum_n C_n (e^{dtA_n} - 1)/A_n e^{dtA_n l},
// y = K * u (a causal convolution, here written directly) + D u.
Tensor s4dConvolution(const Weights& w, const std::string& p, const Tensor& u) {
  const int64_t L = u.size(1);
  Tensor K = s4dKernel(w, p, L);  // (H, L)
  std::vector<Tensor> ys;
  for (int64_t t = 0; t < L; ++t) {
    // y_t = sum_{s <= t} K[t - s] u_s
    Tensor past = u.index({Slice(), Slice(0, t + 1)});                        // (B, t+1, H)
    Tensor taps = K.index({Slice(), Slice(0, t + 1)}).flip(-1).t();            // (t+1, H): K[t - s]
    ys.push_back((past * taps).sum(1));
  }
  return torch::stack(ys, 1) + u * at(w, p + "D");
}

Tensor s4Block(const Weights& w, const std::string& p, const Tensor& x) {
  Tensor y = geluExact(s4dConvolution(w, p + "s4d.", x));
  Tensor ab = linear(y, w, p + "output_linear", true);  // Conv1d(H, 2H, kernel 1)
  auto halves = ab.chunk(2, -1);
  return halves[0] * logistic(halves[1]);  // GLU over channels
}

Tensor s4MambaBlock(const Weights& w, const std::string& p, const Tensor& x, const Sizes& s) {
  const int64_t E = s.expand * s.dModel;
  Tensor xz = torch::matmul(x, at(w, p + "in_proj.weight").t());
  Tensor xin = xz.index({"...", Slice(0, E)}), z = xz.index({"...", Slice(E, 2 * E)});
  Tensor xc = swish(causalDepthwiseConv(xin, at(w, p + "conv_weight"), at(w, p + "conv_bias")));
  return torch::matmul(s4dConvolution(w, p + "s4d.", xc) * z, at(w, p + "out_proj.weight").t());  // raw z gate
}

Tensor sinusoidal(int64_t L, int64_t d, const torch::TensorOptions& o) {
  // PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(pos / 10000^(2i/d)) (Vaswani et al.; cl-as-seq).
  Tensor pe = torch::zeros({L, d}, o);
  for (int64_t pos = 0; pos < L; ++pos)
    for (int64_t i = 0; 2 * i < d; ++i) {
      const double angle = double(pos) / std::pow(10000.0, double(2 * i) / double(d));
      pe.index_put_({pos, 2 * i}, std::sin(angle));
      if (2 * i + 1 < d) pe.index_put_({pos, 2 * i + 1}, std::cos(angle));
    }
  return pe;
}

Tensor encodeVectors(const Weights& w, const Tensor& x) {
  // cl-as-seq's MlpEncoder: 3 x [Linear (no bias) -> norm -> ReLU]; LayerNorm for BatchNorm (docs/DECISIONS.md).
  Tensor h = x;
  for (int i = 0; i < 3; ++i) {
    h = torch::matmul(h, at(w, "x_encoder." + std::to_string(3 * i) + ".weight").t());
    h = torch::relu(layerNorm(h, w, "x_encoder." + std::to_string(3 * i + 1)));
  }
  return h;
}

}  // namespace

Tensor s4dKernel(const Weights& w, const std::string& p, int64_t L) {
  Tensor dt = torch::exp(at(w, p + "log_dt")).unsqueeze(-1);                            // (H, 1)
  Tensor A = torch::complex(-torch::exp(at(w, p + "log_A_real")), at(w, p + "A_imag"));  // (H, M)
  Tensor C = torch::complex(at(w, p + "C_re"), at(w, p + "C_im"));
  Tensor dtA = A * dt;
  Tensor Cd = C * (torch::exp(dtA) - 1.0) / A;
  Tensor lags = torch::arange(L, dt.options()).to(dtA.scalar_type());
  return 2.0 * torch::real((Cd.unsqueeze(-1) * torch::exp(dtA.unsqueeze(-1) * lags)).sum(1));  // (H, L)
}

std::pair<Tensor, Tensor> mambaKeysAndQueries(const Weights& w, const std::string& p, const Tensor& x, const Sizes& s) {
  const int64_t E = s.expand * s.dModel, N = s.dState, R = s.dtRank;
  Tensor xin = torch::matmul(x, at(w, p + "in_proj.weight").t()).index({"...", Slice(0, E)});
  Tensor xc = swish(causalDepthwiseConv(xin, at(w, p + "conv_weight"), at(w, p + "conv_bias")));
  Tensor dbl = torch::matmul(xc, at(w, p + "x_proj.weight").t());
  return {dbl.index({"...", Slice(R, R + N)}), dbl.index({"...", Slice(R + N, R + 2 * N)})};
}

Tensor selectiveScanRef(const Tensor& u, const Tensor& delta, const Tensor& A, const Tensor& B, const Tensor& C,
                        const Tensor& D, const Tensor& z, const Tensor& deltaBias) {
  Tensor dt = softplusOf(delta + deltaBias);
  Tensor deltaA = torch::exp(dt.unsqueeze(-1) * A);                 // (B, L, E, N)
  Tensor deltaBu = (dt * u).unsqueeze(-1) * B.unsqueeze(2);         // (B, L, E, N)
  auto decays = deltaA.unbind(1), inputs = deltaBu.unbind(1), readouts = C.unbind(1);
  Tensor h = torch::zeros({u.size(0), u.size(2), A.size(1)}, u.options());
  std::vector<Tensor> ys;
  for (size_t t = 0; t < decays.size(); ++t) {
    h = decays[t] * h + inputs[t];
    ys.push_back((h * readouts[t].unsqueeze(1)).sum(-1));
  }
  Tensor y = torch::stack(ys, 1) + u * D;
  return y * swish(z);
}

Tensor mixer(const std::string& kind, const Weights& w, const std::string& p, const Tensor& x, const Sizes& s) {
  if (kind == "mamba") return mambaBlock(w, p, x, s);
  if (kind == "attention") return softmaxAttention(w, p, x, s);
  if (kind == "linear-attention") return kernelAttention(w, p, x, s, eluFeature);
  if (kind == "performer-attention") return kernelAttention(w, p, x, s, favorFeature);
  if (kind == "mlp") return mlp(w, p + "fc0", p + "proj0", x);
  if (kind == "moe") return mixtureOfExperts(w, p, x, s);
  if (kind == "s4") return s4Block(w, p, x);
  if (kind == "s4-mamba") return s4MambaBlock(w, p, x, s);
  throw std::runtime_error("reference: unknown block kind '" + kind + "'");
}

Tensor stack(const std::vector<std::string>& kinds, const Weights& w, const std::string& p, const Tensor& x,
             const Sizes& s) {
  const int64_t L = x.size(1);
  Tensor r = x;
  if (s.learnedPositions) r = r + at(w, p + "wpe.weight").index({Slice(0, L)});
  if (s.sinusoidal) r = r + sinusoidal(L, s.dModel, x.options());
  for (size_t i = 0; i < kinds.size(); ++i) {
    const std::string block = std::to_string(i);
    r = r + mixer(kinds[i], w, p + "mixer" + block + ".", layerNorm(r, w, p + "norm" + block), s);
  }
  return layerNorm(r, w, p + "norm_f");
}

Tensor episodeLogits(const std::vector<std::string>& kinds, const Weights& w, const Tensor& streamX,
                     const Tensor& streamY, const Tensor& queryX, bool joint, const Sizes& s) {
  Tensor ex = encodeVectors(w, streamX);
  Tensor ey = at(w, "y_embed.weight").index({streamY});
  Tensor tokens = joint ? ex + ey : torch::stack({ex, ey}, 2).reshape({ex.size(0), 2 * ex.size(1), ex.size(2)});
  Tensor eq = encodeVectors(w, queryX);
  std::vector<Tensor> answers;
  for (int64_t q = 0; q < eq.size(1); ++q) {
    Tensor seq = torch::cat({tokens, eq.index({Slice(), Slice(q, q + 1)})}, 1);
    answers.push_back(stack(kinds, w, "backbone.", seq, s).index({Slice(), -1}));
  }
  return linear(torch::stack(answers, 1), w, "head", true);
}

Tensor promptOutputs(const std::vector<std::string>& kinds, const Weights& w, const Tensor& tokens, const Sizes& s) {
  return linear(stack(kinds, w, "backbone.", linear(tokens, w, "read_in", true), s), w, "read_out", true);
}

}  // namespace continua::reference
