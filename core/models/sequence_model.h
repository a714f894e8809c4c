#pragma once
// Every sequence model of both papers as one stack of pre-norm residual blocks around mixers:
//   r_0 = x (+ positional encoding);  r_{i+1} = r_i + Mixer_i(LayerNorm_i(r_i));  out = LayerNorm_f(r_L).
// Families (model.family):
//   mamba           [Mamba] x layers                                   (MambaCL; "Can Mamba learn")
//   mamba-moe       [Mamba, MoE] x layers                              (MambaCL's extension)
//   transformer     [softmax attention, MLP] x layers, positional encoding
//   linear-transformer, performer: as transformer with elu+1 / FAVOR+ attention
//   s4              [S4 block] x layers;  s4-mamba [S4-Mamba] x layers
//   hybrid          [attention, Mamba, attention, Mamba, ...] (layers blocks), positional encoding
//   mambaformer     Mamba, then [attention, Mamba, ...] (layers blocks), no positional encoding
#include "core/models/mixer.h"

#include <nlohmann/json.hpp>

namespace continua::core {

struct ModelConfig {
  std::string family = "mamba";
  int64_t dModel = 128, layers = 4;
  int64_t dState = 16, dConv = 4, expand = 2, dtRank = 0;  // Mamba
  double dtMin = 1e-3, dtMax = 1e-1;                       // Mamba: dt initialisation range
  std::string aInit = "s4d-real";                          // Mamba: s4d-real | constant
  bool outProjRescale = true;                              // Mamba: out_proj / sqrt(layers)
  int64_t heads = 8, mlpMultiple = 4;                      // attention, MLP
  std::string positional = "auto";  // auto | learned | sinusoidal | none
  int64_t maxPositions = 4096;      // learned positional encoding table size
  int64_t favorFeatures = 64;
  bool favorRedraw = false;
  int64_t experts = 4, topK = 2;    // mamba-moe
  double s4Dropout = 0.1;           // s4-mamba
  std::string init = "pytorch";     // transformer families: pytorch | gpt2
  std::string mambaAssociation = "cb-softmax";  // what a Mamba block's association map is (MambaAssociation)
  double moeBalance = 0.01;         // mamba-moe: weight of the load-balancing loss (applied by the runners)

  static const std::vector<std::string>& families();
  // The "model" section of a validated, defaults-filled experiment document (core/config/experiment_schema).
  static ModelConfig fromExperiment(const nlohmann::json& experiment);
  std::string resolvedPositional() const;  // what "auto" means for the family
};

// The model's streaming state: one cache per block plus the position of the next token.
struct ModelState {
  std::vector<MixerCache> layers;
  int64_t position = 0;
  int64_t bytes() const;
};

class SequenceModel : public torch::nn::Module {
 public:
  explicit SequenceModel(const ModelConfig& config);

  struct Output {
    torch::Tensor stream;    // (B, L, D)
    torch::Tensor queries;   // (B, Q, D) when queries were given
    std::vector<torch::Tensor> maps;      // per association-capable block: (B, Q or L, L) [or (B, H, ., L)]
    std::vector<std::string> mapLayers;   // "block 0 (mamba)", ...
    torch::Tensor auxiliaryLoss;          // sum of the blocks' auxiliary losses (MoE load balance); may be undefined
  };
  // stream: (B, L, D) embeddings. queries (optional): (B, Q, D), each answered as if it followed the stream,
  // independently of the others. wantMaps: also the association maps (differentiable).
  Output run(const torch::Tensor& stream, const torch::Tensor& queries = {}, bool wantMaps = false, bool perHead = false);
  torch::Tensor forward(const torch::Tensor& x) { return run(x).stream; }

  ModelState initialState(int64_t batch, const torch::TensorOptions& options);
  torch::Tensor step(const torch::Tensor& x, ModelState& state);  // (B, D) -> (B, D)
  // Queries (B, Q, D) answered from a state that step() advanced through a stream, each as if it followed the
  // stream — what run() computes for its queries, without the stream ever being in memory at once.
  torch::Tensor queriesFromState(const torch::Tensor& queries, const ModelState& state);

  const ModelConfig& config() const { return m_config; }
  int64_t parameterCount() const;
  double flopsPerToken(int64_t context) const;
  std::vector<std::string> blockKinds() const;
  std::string summary() const;

 private:
  torch::Tensor addPositions(const torch::Tensor& x, int64_t start, bool sameForAll);
  ModelConfig m_config;
  std::vector<MixerPtr> m_mixers;
  std::vector<torch::nn::LayerNorm> m_norms;
  torch::nn::LayerNorm m_finalNorm{nullptr};
  torch::nn::Embedding m_learnedPositions{nullptr};
  bool m_sinusoidal = false;
};

std::shared_ptr<SequenceModel> makeSequenceModel(const ModelConfig& config);

}  // namespace continua::core
