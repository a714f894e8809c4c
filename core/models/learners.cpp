#include "core/models/learners.h"

namespace continua::core {
namespace nn = torch::nn;
using torch::Tensor;

namespace {

nn::Sequential mlpEncoder(int64_t in, int64_t d) {
  // cl-as-seq's MlpEncoder: 3 x [Linear (no bias), norm, ReLU]. LayerNorm for its BatchNorm keeps train and
  // eval identical (docs/DECISIONS.md).
  nn::Sequential s;
  for (int i = 0; i < 3; ++i) {
    s->push_back(nn::Linear(nn::LinearOptions(i == 0 ? in : d, d).bias(false)));
    s->push_back(nn::LayerNorm(nn::LayerNormOptions({d})));
    s->push_back(nn::ReLU());
  }
  return s;
}

nn::Sequential cnnEncoder(int64_t channels, int64_t size, int64_t d) {
  // cl-as-seq's CnnEncoder widths (32, 64, 128, 256, 256; strides 1, 2, 2, 2, 2), GroupNorm for BatchNorm.
  nn::Sequential s;
  int64_t in = channels, spatial = size;
  const int64_t widths[] = {32, 64, 128, 256, 256};
  for (int i = 0; i < 5; ++i) {
    const int64_t stride = i == 0 ? 1 : 2;
    s->push_back(nn::Conv2d(nn::Conv2dOptions(in, widths[i], 3).stride(stride).padding(1).bias(false)));
    s->push_back(nn::GroupNorm(nn::GroupNormOptions(8, widths[i])));
    s->push_back(nn::ReLU());
    in = widths[i];
    spatial = (spatial + 2 - 3) / stride + 1;
  }
  s->push_back(nn::Flatten());
  s->push_back(nn::Linear(in * spatial * spatial, d));
  return s;
}

}  // namespace

EpisodeLearner::EpisodeLearner(const ModelConfig& model, std::vector<int64_t> inputShape, int64_t labelVocab,
                               int64_t targetDim, bool jointTokens)
    : m_inputShape(std::move(inputShape)), m_targetDim(targetDim), m_joint(jointTokens) {
  const int64_t D = model.dModel;
  m_backbone = register_module("backbone", makeSequenceModel(model));
  m_xEncoder = register_module("x_encoder", m_inputShape.size() == 3 ? cnnEncoder(m_inputShape[0], m_inputShape[1], D)
                                                                       : mlpEncoder(m_inputShape[0], D));
  if (targetDim > 0) {
    m_yEncoder = register_module("y_encoder", mlpEncoder(targetDim, D));
    m_head = register_module("head", nn::Linear(D, targetDim));
  } else {
    m_yEmbed = register_module("y_embed", nn::Embedding(labelVocab, D));
    m_head = register_module("head", nn::Linear(D, labelVocab));
  }
}

Tensor EpisodeLearner::encodeX(const Tensor& x) {
  const int64_t B = x.size(0), n = x.size(1);
  Tensor flat = x.reshape([&] {
    std::vector<int64_t> s{B * n};
    s.insert(s.end(), m_inputShape.begin(), m_inputShape.end());
    return s;
  }());
  return m_xEncoder->forward(flat).view({B, n, -1});
}

Tensor EpisodeLearner::streamTokens(const EpisodeBatch& e) {
  Tensor ex = encodeX(e.streamX);
  Tensor ey = regression() ? m_yEncoder->forward(e.streamY) : m_yEmbed->forward(e.streamY);
  if (m_joint) return ex + ey;                       // [x1+y1, x2+y2, ...]
  return torch::stack({ex, ey}, 2).flatten(1, 2);  // [x1, y1, x2, y2, ...]
}

LearnerOutput EpisodeLearner::forward(const EpisodeBatch& e, bool wantMaps, bool perHead) {
  SequenceModel::Output out = m_backbone->run(streamTokens(e), encodeX(e.queryX), wantMaps, perHead);
  return {m_head->forward(out.queries), std::move(out.maps), std::move(out.mapLayers), out.auxiliaryLoss};
}

Tensor EpisodeLearner::predictStreaming(const EpisodeBatch& e, int64_t* stateBytes) {
  const Tensor tokens = streamTokens(e);
  ModelState state = m_backbone->initialState(tokens.size(0), tokens.options());
  for (int64_t t = 0; t < tokens.size(1); ++t) m_backbone->step(tokens.select(1, t), state);
  if (stateBytes) *stateBytes = state.bytes() / tokens.size(0);
  return m_head->forward(m_backbone->queriesFromState(encodeX(e.queryX), state));
}

PromptLearner::PromptLearner(const ModelConfig& model, int64_t tokenDim, int64_t outputDim) {
  m_backbone = register_module("backbone", makeSequenceModel(model));
  m_readIn = register_module("read_in", nn::Linear(tokenDim, model.dModel));
  m_readOut = register_module("read_out", nn::Linear(model.dModel, outputDim));
}

SequenceModel::Output PromptLearner::run(const Tensor& tokens, bool wantMaps) {
  SequenceModel::Output out = m_backbone->run(m_readIn->forward(tokens), Tensor(), wantMaps);
  out.stream = m_readOut->forward(out.stream);
  return out;
}

Tensor PromptLearner::forward(const Tensor& tokens) { return run(tokens, false).stream; }

}  // namespace continua::core
