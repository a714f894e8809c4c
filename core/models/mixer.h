#pragma once
// A mixer is one residual block's token-mixing (or position-wise) layer. Every model in Continua is a
// stack of pre-norm residual blocks around mixers (core/models/sequence_model.h), so each model type is
// just a different list of mixers.
//
// Three ways to run a mixer, all consistent with each other:
//   forward(x, cache)    a whole sequence in parallel; optionally leaves the end-of-sequence state in cache
//   queries(xq, cache)   each query as if it were the next token after the cached sequence, independently
//                        of the other queries (MCL's test queries; cl-as-seq's block mask). Differentiable.
//   step(x, cache)       one more token appended to the cached sequence (constant memory for recurrent
//                        mixers, a growing KV cache for attention)
#include <torch/torch.h>

#include <string>
#include <vector>

namespace continua::core {

// End-of-sequence state of one mixer: SSM and conv states, or attention's keys and values.
struct MixerCache {
  std::vector<torch::Tensor> tensors;
  int64_t length = 0;  // tokens consumed so far
  int64_t bytes() const {
    int64_t b = 0;
    for (const auto& t : tensors)
      if (t.defined()) b += t.numel() * static_cast<int64_t>(t.element_size());
    return b;
  }
};

class Mixer : public torch::nn::Module {
 public:
  // x: (batch, length, d_model) -> (batch, length, d_model). cache may be null.
  virtual torch::Tensor forward(const torch::Tensor& x, MixerCache* cache) = 0;
  // xq: (batch, queries, d_model) -> (batch, queries, d_model).
  virtual torch::Tensor queries(const torch::Tensor& xq, const MixerCache& cache) = 0;
  // x: (batch, d_model) -> (batch, d_model); cache advanced by one token.
  virtual torch::Tensor step(const torch::Tensor& x, MixerCache& cache) = 0;
  virtual MixerCache emptyCache(int64_t batch, const torch::TensorOptions& options) = 0;

  // Association of tokens with earlier tokens, (batch, rows, length) with rows summing to 1 over the
  // allowed columns. With xq undefined: rows are the sequence's own positions, causal (row t over s <= t).
  // With xq: rows are the queries, columns the sequence tokens (the query itself excluded). perHead: attention
  // only, (batch, heads, rows, length). Undefined for position-wise mixers.
  virtual bool hasAssociation() const { return false; }
  virtual torch::Tensor association(const torch::Tensor& x, const torch::Tensor& xq, bool perHead) {
    (void)x; (void)xq; (void)perHead;
    return {};
  }

  // A loss the mixer adds to training (mixture of experts: load balancing), from its forward() and queries()
  // calls since the last take; undefined when it has none. SequenceModel::run collects it into Output.
  virtual torch::Tensor takeAuxiliaryLoss() { return {}; }

  // Analytic forward FLOPs for one token that sees `context` earlier tokens.
  virtual double flopsPerToken(int64_t context) const = 0;
  virtual std::string kind() const = 0;
};

using MixerPtr = std::shared_ptr<Mixer>;

// The projections of the last input a mixer saw. Within one SequenceModel::run, forward(), association()
// and queries() are handed the very same tensors, so a step with selectivity regularisation would otherwise
// run the input projections (Mamba: in_proj, conv, x_proj; attention: q/k/v) twice. A hit needs the same
// tensor (not equal values), unchanged since (version counter), unchanged parameters, and the same grad mode.
template <typename Projections>
class ProjectionMemo {
 public:
  template <typename Compute>
  Projections get(const torch::nn::Module& owner, const torch::Tensor& x, const torch::Tensor& extra, Compute compute) {
    const Key key{x, extra, x._version(), parameterVersions(owner), torch::GradMode::is_enabled()};
    if (!(m_valid && key.sameAs(m_key))) {
      m_value = compute();
      m_key = key;
      m_valid = true;
    }
    return m_value;
  }

 private:
  struct Key {
    torch::Tensor input, extra;
    int64_t inputVersion = 0, parametersVersion = 0;
    bool grad = false;
    bool sameAs(const Key& o) const {
      return input.is_same(o.input) && extra.is_same(o.extra) && inputVersion == o.inputVersion &&
             parametersVersion == o.parametersVersion && grad == o.grad;
    }
  };
  // Optimiser steps update parameters in place, which bumps their version counters.
  static int64_t parameterVersions(const torch::nn::Module& owner) {
    int64_t v = 0;
    for (const auto& p : owner.parameters()) v += static_cast<int64_t>(p._version());
    return v;
  }
  Key m_key;
  Projections m_value;
  bool m_valid = false;
};

// Association weights from non-negative scores over allowed columns: rows normalised to sum to 1.
inline torch::Tensor normaliseRows(const torch::Tensor& scores) {
  return scores / (scores.sum(-1, true) + 1e-12);
}

}  // namespace continua::core
