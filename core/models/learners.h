#pragma once
// Task-facing wrappers around a SequenceModel.
//   EpisodeLearner (MCL): x through an encoder (MLP for vectors, small CNN for 32x32 images, trained end to
//     end), y through a label embedding (classification) or an MLP (regression), interleaved as
//     [e(x1), e(y1), e(x2), ...]; each query e(x_q) is answered from the whole stream, independently of the
//     other queries; a linear head reads the query outputs.
//   PromptLearner (ICL): one shared linear read-in for every token, a linear read-out (reference/mamba_icl.md §1.1).
#include "core/models/sequence_model.h"
#include "core/tasks/mcl_episode.h"

namespace continua::core {

struct LearnerOutput {
  torch::Tensor predictions;            // (B, Q, vocab) logits | (B, Q, ydim)
  std::vector<torch::Tensor> maps;      // per association-capable block: (B, Q, 2n)
  std::vector<std::string> mapLayers;
  torch::Tensor auxiliaryLoss;          // MoE load balance, when the model has experts
};

class EpisodeLearner : public torch::nn::Module {
 public:
  EpisodeLearner(const ModelConfig& model, std::vector<int64_t> inputShape, int64_t labelVocab, int64_t targetDim,
                 bool jointTokens = false);
  LearnerOutput forward(const EpisodeBatch& episodes, bool wantMaps, bool perHead = false);
  // The same predictions with the stream consumed one token at a time (SequenceModel::step) and the queries
  // answered from the final state: a recurrent model's state stays the same size however long the stream, an
  // attention model's KV cache grows with it. (The episode's tokens are embedded up front: they are the data.)
  // stateBytes: the state's size per episode after the stream.
  torch::Tensor predictStreaming(const EpisodeBatch& episodes, int64_t* stateBytes = nullptr);
  torch::Tensor streamTokens(const EpisodeBatch& episodes);  // (B, 2n, D) interleaved, (B, n, D) joint
  SequenceModel& backbone() { return *m_backbone; }
  bool regression() const { return m_targetDim > 0; }

 private:
  torch::Tensor encodeX(const torch::Tensor& x);  // (B, n, input...) -> (B, n, D)
  std::shared_ptr<SequenceModel> m_backbone;
  torch::nn::Sequential m_xEncoder{nullptr};
  torch::nn::Embedding m_yEmbed{nullptr};
  torch::nn::Sequential m_yEncoder{nullptr};
  torch::nn::Linear m_head{nullptr};
  std::vector<int64_t> m_inputShape;
  int64_t m_targetDim = 0;
  bool m_joint = false;
};

class PromptLearner : public torch::nn::Module {
 public:
  PromptLearner(const ModelConfig& model, int64_t tokenDim, int64_t outputDim);
  // tokens (B, T, tokenDim) -> (B, T, outputDim); maps (B, T, T) causal when wanted.
  torch::Tensor forward(const torch::Tensor& tokens);
  SequenceModel::Output run(const torch::Tensor& tokens, bool wantMaps);
  SequenceModel& backbone() { return *m_backbone; }

 private:
  std::shared_ptr<SequenceModel> m_backbone;
  torch::nn::Linear m_readIn{nullptr}, m_readOut{nullptr};
};

}  // namespace continua::core
