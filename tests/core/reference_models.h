#pragma once
// Plain reference implementations of every model family, used only by tests/core/test_parity.cpp.
//
// Written from the papers' reference code (reference/mamba_icl.md §3-4: mamba_simple + selective_scan_ref,
// nanoGPT / GPT-2 attention, S4D; reference/mambacl.md §2.2, §4, §7.2: cl-as-seq's encoders, elu+1 linear
// attention, fast-transformers' FAVOR+) in LibTorch ops, one operation after another, with no helper shared
// with core/. Weights are looked up by the production model's parameter names, so one set of tensors drives
// both implementations and the gradients of the two can be compared name by name.
#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

namespace continua::reference {

using Weights = std::map<std::string, torch::Tensor>;

// Sizes the reference needs (it reads no production config type).
struct Sizes {
  int64_t dModel = 32, dState = 8, dConv = 4, expand = 2, dtRank = 2, heads = 4, mlpHidden = 128;
  int64_t topK = 2, experts = 0;
  bool sinusoidal = false, learnedPositions = false;
};

// One block's token mixer, by kind: "mamba", "attention", "linear-attention", "performer-attention", "mlp",
// "moe", "s4", "s4-mamba". x: (B, L, D) -> (B, L, D), causal.
torch::Tensor mixer(const std::string& kind, const Weights& w, const std::string& prefix, const torch::Tensor& x,
                    const Sizes& s);

// The whole stack: r_0 = x + positions; r_{i+1} = r_i + mixer_i(LayerNorm_i(r_i)); LayerNorm_f(r_L).
// kinds: the block order, written out by the test from the papers' descriptions.
torch::Tensor stack(const std::vector<std::string>& kinds, const Weights& w, const std::string& prefix,
                    const torch::Tensor& x, const Sizes& s);

// MCL episode learner (cl-as-seq, reference/mambacl.md §7.2) over vector inputs and class labels: x through a
// 3-layer MLP encoder, y through the label embedding, tokens joint (e(x)+e(y)) or interleaved; each query
// appended to the stream on its own (cl-as-seq's block-diagonal mask), read at its own position by the head.
// streamX (B, n, dx), streamY (B, n) long, queryX (B, Q, dx) -> logits (B, Q, vocab).
torch::Tensor episodeLogits(const std::vector<std::string>& kinds, const Weights& w, const torch::Tensor& streamX,
                            const torch::Tensor& streamY, const torch::Tensor& queryX, bool joint, const Sizes& s);

// ICL prompt learner (reference/mamba_icl.md §1.1): one shared read-in for every token, the stack, a read-out.
torch::Tensor promptOutputs(const std::vector<std::string>& kinds, const Weights& w, const torch::Tensor& tokens,
                            const Sizes& s);

// A Mamba block's keys B_t and queries C_t (after in_proj, the causal conv + SiLU and x_proj): (B, L, N) each.
std::pair<torch::Tensor, torch::Tensor> mambaKeysAndQueries(const Weights& w, const std::string& prefix,
                                                            const torch::Tensor& x, const Sizes& s);

// The S4D convolution kernel K[h, l], l = 0..length-1, of the S4D at `prefix` (e.g. "s4d.").
torch::Tensor s4dKernel(const Weights& w, const std::string& prefix, int64_t length);

// The selective scan exactly as selective_scan_ref (delta_softplus with delta_bias, D skip, z gate).
// u, delta, z (B, L, E); A (E, N); B, C (B, L, N); returns (B, L, E).
torch::Tensor selectiveScanRef(const torch::Tensor& u, const torch::Tensor& delta, const torch::Tensor& A,
                               const torch::Tensor& B, const torch::Tensor& C, const torch::Tensor& D,
                               const torch::Tensor& z, const torch::Tensor& deltaBias);

}  // namespace continua::reference
