#include "core/models/sequence_model.h"

#include "core/models/attention_mixer.h"
#include "core/models/feed_forward_mixer.h"
#include "core/models/mamba_mixer.h"
#include "core/models/s4_mixer.h"

#include <cmath>
#include <sstream>
#include <stdexcept>

namespace continua::core {
using torch::Tensor;

const std::vector<std::string>& ModelConfig::families() {
  static const std::vector<std::string> f{"mamba", "mamba-moe", "transformer", "linear-transformer", "performer",
                                          "s4", "s4-mamba", "hybrid", "mambaformer"};
  return f;
}

ModelConfig ModelConfig::fromExperiment(const nlohmann::json& experiment) {
  const nlohmann::json& m = experiment["model"];
  ModelConfig mc;
  mc.family = m["family"]; mc.dModel = m["d_model"]; mc.layers = m["layers"]; mc.dState = m["d_state"];
  mc.dConv = m["d_conv"]; mc.expand = m["expand"]; mc.dtRank = m["dt_rank"]; mc.heads = m["heads"];
  mc.mlpMultiple = m["mlp_multiple"]; mc.positional = m["positional"]; mc.maxPositions = m["max_positions"];
  mc.favorFeatures = m["favor_features"]; mc.favorRedraw = m["favor_redraw"]; mc.experts = m["experts"];
  mc.topK = m["top_k"]; mc.s4Dropout = m["s4_dropout"]; mc.init = m["init"];
  mc.mambaAssociation = experiment["selectivity"]["mamba_association"];
  mc.dtMin = m["dt_min"]; mc.dtMax = m["dt_max"]; mc.aInit = m["a_init"]; mc.outProjRescale = m["out_proj_rescale"];
  mc.moeBalance = m["moe_balance"];
  return mc;
}

std::string ModelConfig::resolvedPositional() const {
  if (positional != "auto") return positional;
  if (family == "transformer" || family == "linear-transformer" || family == "performer" || family == "hybrid")
    return "learned";
  return "none";
}

int64_t ModelState::bytes() const {
  int64_t b = 0;
  for (const auto& c : layers) b += c.bytes();
  return b;
}

namespace {

MixerPtr mamba(const ModelConfig& c) {
  MambaOptions o;
  o.dModel = c.dModel; o.dState = c.dState; o.dConv = c.dConv; o.expand = c.expand; o.dtRank = c.dtRank;
  o.layersForInit = c.outProjRescale ? c.layers : 1;
  o.dtMin = c.dtMin; o.dtMax = c.dtMax; o.constantA = c.aInit == "constant";
  o.association = mambaAssociationFromName(c.mambaAssociation);
  return std::make_shared<MambaMixer>(o);
}

MixerPtr attention(const ModelConfig& c, AttentionKernel kernel, double projStd) {
  AttentionOptions o;
  o.dModel = c.dModel; o.heads = c.heads; o.kernel = kernel; o.favorFeatures = c.favorFeatures;
  o.favorRedraw = c.favorRedraw; o.projInitStd = projStd;
  return std::make_shared<AttentionMixer>(o);
}

MixerPtr feedForward(const ModelConfig& c, int64_t experts, double projStd) {
  FeedForwardOptions o;
  o.dModel = c.dModel; o.hiddenMultiple = c.mlpMultiple; o.experts = experts; o.topK = c.topK;
  o.projInitStd = projStd;
  return std::make_shared<FeedForwardMixer>(o);
}

std::vector<MixerPtr> buildMixers(const ModelConfig& c) {
  std::vector<MixerPtr> m;
  // model.init = gpt2: HF GPT-2's N(0, 0.02) weights, residual projections N(0, 0.02 / sqrt(2 layers)); the
  // default (pytorch) keeps PyTorch's U(+-1/sqrt(fan_in)) as cl-as-seq's Transformer (docs/DECISIONS.md).
  const double gptProjStd = c.init == "gpt2" ? 0.02 / std::sqrt(2.0 * c.layers) : 0.0;
  S4Options s4;
  s4.dModel = c.dModel; s4.dState = c.dState; s4.dConv = c.dConv; s4.expand = c.expand; s4.dropout = c.s4Dropout;
  auto kernelFor = [&](const std::string& f) {
    return f == "linear-transformer" ? AttentionKernel::Elu : f == "performer" ? AttentionKernel::Favor : AttentionKernel::Softmax;
  };
  const std::string& f = c.family;
  for (int64_t i = 0; i < c.layers; ++i) {
    if (f == "mamba") m.push_back(mamba(c));
    else if (f == "mamba-moe") { m.push_back(mamba(c)); m.push_back(feedForward(c, c.experts, 0.0)); }
    else if (f == "transformer" || f == "linear-transformer" || f == "performer") {
      m.push_back(attention(c, kernelFor(f), gptProjStd));
      m.push_back(feedForward(c, 0, gptProjStd));
    } else if (f == "s4") m.push_back(std::make_shared<S4Mixer>(s4));
    else if (f == "s4-mamba") m.push_back(std::make_shared<S4MambaMixer>(s4, c.layers));
    else if (f == "hybrid" || f == "mambaformer") {
      if (f == "mambaformer" && i == 0) m.push_back(mamba(c));
      m.push_back(i % 2 == 0 ? attention(c, AttentionKernel::Softmax, 0.0) : mamba(c));
    } else {
      throw std::invalid_argument("model.family: unknown family '" + f + "'");
    }
  }
  return m;
}

Tensor sinusoid(const Tensor& positions, int64_t dim, const torch::TensorOptions& o) {
  Tensor i = torch::arange(0, dim, 2, o);
  Tensor freq = torch::exp(i * (-std::log(10000.0) / double(dim)));
  Tensor ang = positions.to(o.dtype()).unsqueeze(-1) * freq;
  Tensor pe = torch::zeros({positions.size(0), dim}, o);
  pe.index_put_({torch::indexing::Slice(), torch::indexing::Slice(0, torch::indexing::None, 2)}, torch::sin(ang));
  pe.index_put_({torch::indexing::Slice(), torch::indexing::Slice(1, torch::indexing::None, 2)},
                torch::cos(ang).index({torch::indexing::Slice(), torch::indexing::Slice(0, dim / 2)}));
  return pe;
}

}  // namespace

SequenceModel::SequenceModel(const ModelConfig& config) : m_config(config) {
  m_mixers = buildMixers(config);
  for (size_t i = 0; i < m_mixers.size(); ++i) {
    m_norms.push_back(register_module("norm" + std::to_string(i), torch::nn::LayerNorm(torch::nn::LayerNormOptions({config.dModel}))));
    register_module("mixer" + std::to_string(i), m_mixers[i]);
  }
  m_finalNorm = register_module("norm_f", torch::nn::LayerNorm(torch::nn::LayerNormOptions({config.dModel})));
  const std::string pe = config.resolvedPositional();
  if (pe == "learned") {
    m_learnedPositions = register_module("wpe", torch::nn::Embedding(config.maxPositions, config.dModel));
    torch::NoGradGuard g;
    m_learnedPositions->weight.normal_(0, 0.02);
  } else if (pe == "sinusoidal") {
    m_sinusoidal = true;
  } else if (pe != "none") {
    throw std::invalid_argument("model.positional: expected auto, learned, sinusoidal or none, got '" + pe + "'");
  }
}

Tensor SequenceModel::addPositions(const Tensor& x, int64_t start, bool sameForAll) {
  if (!m_learnedPositions && !m_sinusoidal) return x;
  const int64_t L = x.size(1);
  auto lo = torch::TensorOptions().dtype(torch::kLong).device(x.device());
  Tensor pos = sameForAll ? torch::full({L}, start, lo) : torch::arange(start, start + L, lo);
  if (m_learnedPositions) {
    if (start + (sameForAll ? 1 : L) > m_config.maxPositions)
      throw std::invalid_argument("model.max_positions (" + std::to_string(m_config.maxPositions) +
                                  ") is shorter than the sequence (" + std::to_string(start + L) +
                                  " tokens): raise it or use sinusoidal/none positional encoding");
    return x + m_learnedPositions->forward(pos);
  }
  return x + sinusoid(pos, m_config.dModel, x.options());
}

SequenceModel::Output SequenceModel::run(const Tensor& stream, const Tensor& queries, bool wantMaps, bool perHead) {
  Output out;
  Tensor r = addPositions(stream, 0, false);
  Tensor rq = queries.defined() ? addPositions(queries, stream.size(1), true) : Tensor();
  for (size_t i = 0; i < m_mixers.size(); ++i) {
    Tensor h = m_norms[i]->forward(r);
    MixerCache cache;
    Tensor y = m_mixers[i]->forward(h, rq.defined() ? &cache : nullptr);
    if (rq.defined()) {
      Tensor hq = m_norms[i]->forward(rq);
      if (wantMaps && m_mixers[i]->hasAssociation()) {
        out.maps.push_back(m_mixers[i]->association(h, hq, perHead));
        out.mapLayers.push_back("block " + std::to_string(i) + " (" + m_mixers[i]->kind() + ")");
      }
      rq = rq + m_mixers[i]->queries(hq, cache);
    } else if (wantMaps && m_mixers[i]->hasAssociation()) {
      out.maps.push_back(m_mixers[i]->association(h, Tensor(), perHead));
      out.mapLayers.push_back("block " + std::to_string(i) + " (" + m_mixers[i]->kind() + ")");
    }
    r = r + y;
    Tensor aux = m_mixers[i]->takeAuxiliaryLoss();
    if (aux.defined()) out.auxiliaryLoss = out.auxiliaryLoss.defined() ? out.auxiliaryLoss + aux : aux;
  }
  out.stream = m_finalNorm->forward(r);
  if (rq.defined()) out.queries = m_finalNorm->forward(rq);
  return out;
}

ModelState SequenceModel::initialState(int64_t batch, const torch::TensorOptions& options) {
  ModelState s;
  for (auto& m : m_mixers) s.layers.push_back(m->emptyCache(batch, options));
  return s;
}

Tensor SequenceModel::step(const Tensor& x, ModelState& state) {
  Tensor r = addPositions(x.unsqueeze(1), state.position, false).squeeze(1);
  for (size_t i = 0; i < m_mixers.size(); ++i) r = r + m_mixers[i]->step(m_norms[i]->forward(r), state.layers[i]);
  state.position += 1;
  return m_finalNorm->forward(r);
}

Tensor SequenceModel::queriesFromState(const Tensor& queries, const ModelState& state) {
  Tensor rq = addPositions(queries, state.position, true);
  for (size_t i = 0; i < m_mixers.size(); ++i) rq = rq + m_mixers[i]->queries(m_norms[i]->forward(rq), state.layers[i]);
  return m_finalNorm->forward(rq);
}

int64_t SequenceModel::parameterCount() const {
  int64_t n = 0;
  for (const auto& p : parameters()) n += p.numel();
  return n;
}

double SequenceModel::flopsPerToken(int64_t context) const {
  double f = 0;
  for (const auto& m : m_mixers) f += m->flopsPerToken(context) + 5.0 * m_config.dModel;  // + LayerNorm
  return f;
}

std::vector<std::string> SequenceModel::blockKinds() const {
  std::vector<std::string> k;
  for (const auto& m : m_mixers) k.push_back(m->kind());
  return k;
}

std::string SequenceModel::summary() const {
  std::ostringstream s;
  s << m_config.family << ": " << m_mixers.size() << " blocks [";
  auto kinds = blockKinds();
  for (size_t i = 0; i < kinds.size(); ++i) s << (i ? ", " : "") << kinds[i];
  s << "], d_model " << m_config.dModel << ", positional " << m_config.resolvedPositional() << ", "
    << parameterCount() << " parameters, " << static_cast<int64_t>(flopsPerToken(256)) << " FLOPs/token at context 256";
  return s.str();
}

std::shared_ptr<SequenceModel> makeSequenceModel(const ModelConfig& config) {
  return std::make_shared<SequenceModel>(config);
}

}  // namespace continua::core
