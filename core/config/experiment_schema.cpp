#include "core/config/experiment_schema.h"

namespace continua::core {
using nlohmann::json;

namespace {
FieldSpec f(std::string path, FieldType t, json def, std::string help, double lo = 0, double hi = 0,
            std::vector<std::string> choices = {}) {
  FieldSpec s{std::move(path), t, std::move(def), lo, hi, std::move(choices), std::move(help)};
  return s;
}
// A numeric field whose 0 is a setting of its own, shown by editors as `label` instead of 0.
FieldSpec withZero(FieldSpec s, std::string label) {
  s.zeroMeans = std::move(label);
  return s;
}
constexpr auto I = FieldType::Int;
constexpr auto D = FieldType::Double;
constexpr auto B = FieldType::Bool;
constexpr auto S = FieldType::String;
constexpr auto C = FieldType::Choice;
constexpr auto IL = FieldType::IntList;
constexpr auto DL = FieldType::DoubleList;
}  // namespace

const std::vector<FieldSpec>& experimentSchema() {
  static const std::vector<FieldSpec> schema{
      f("name", S, "experiment", "Run name shown in lists and plots"),
      f("seed", I, 0, "Seed of everything random in the run (episodes, init, dropout)", 0, 2147483647),
      f("sweep", S, "", "The sweep this run belongs to (set by `continua-cli sweep`; empty for a single run)"),
      f("device", C, "cpu", "Where to train", 0, 0, {"cpu", "cuda"}),
      withZero(f("threads", I, 0,
                 "Intra-op CPU threads; 0: chosen by the training step's size (1 for small steps, else every CPU "
                 "the run may use; docs/DECISIONS.md)",
                 0, 256),
               "auto"),

      f("task.family", C, "mcl", "Meta-continual learning episodes or in-context learning prompts", 0, 0, {"mcl", "icl"}),
      f("task.target", C, "classification", "MCL target: class labels, or sine-wave regression", 0, 0, {"classification", "sine"}),
      withZero(f("task.label_vocab", I, 0, "Label tokens (0: the most classes any episode shape needs)", 0, 100000), "auto"),
      f("task.token_format", C, "interleaved", "MCL stream tokens: x and y as separate tokens (cl-as-seq), or one joint token e(x)+e(y) per example",
        0, 0, {"interleaved", "joint"}),
      f("task.gt_label_tokens", B, true, "Ground-truth association also covers the y tokens of the query's class"),
      f("task.icl_task", C, "linear_regression", "ICL task", 0, 0,
        {"linear_regression", "sparse_linear_regression", "relu_2nn_regression", "decision_tree", "ortho_outlier_regression",
         "many_outlier_regression", "sparse_parity", "mqar", "chain_of_thought"}),

      f("data.kind", C, "synthetic", "MCL data source", 0, 0, {"synthetic", "features", "cifar100", "image-folder"}),
      f("data.classes", I, 1000, "Synthetic: number of classes", 2, 1000000),
      f("data.dim", I, 64, "Synthetic: embedding dimension", 1, 65536),
      f("data.noise", D, 0.6, "Synthetic: example spread around its class prototype (difficulty)", 0, 100),
      f("data.dataset_seed", I, 1234, "Synthetic: seed of the class prototypes", 0, 2147483647),
      f("data.path", S, "", "Feature file (.npy/.csv), CIFAR-100 binary directory, or image-folder root"),
      f("data.labels_path", S, "", "Labels .npy for a .npy feature file"),
      f("data.meta_test_fraction", D, 0.2, "Fraction of classes held out for meta-test", 0.01, 0.99),
      withZero(f("data.meta_test_classes", I, 0, "Exactly this many held-out classes (0: use the fraction; CIFAR-100: 40)",
                 0, 1000000),
               "from the fraction"),

      f("episode.tasks", I, 20, "Meta-training: tasks per episode", 1, 10000),
      f("episode.shots", I, 5, "Meta-training: stream examples per class", 1, 10000),
      f("episode.test_shots", I, 5, "Queries per class", 1, 10000),
      withZero(f("episode.curriculum_start_tasks", I, 0,
                 "Episode curriculum: start with this many tasks (0: off) and grow to episode.tasks", 0, 10000),
               "off"),
      f("episode.curriculum_steps", I, 1000, "Episode curriculum: steps over which the task count grows", 1, 1000000000),
      f("episode.classes_per_task", I, 1, "New classes introduced by each task", 1, 1000),
      f("eval_episode.tasks", I, 20, "Meta-test: tasks per episode", 1, 10000),
      f("eval_episode.shots", I, 5, "Meta-test: stream examples per class", 1, 10000),

      f("icl.n_dims", I, 20, "ICL: input dimension d", 1, 4096),
      f("icl.n_points", I, 41, "ICL: (x, y) pairs per prompt at the end of the curriculum", 1, 100000),
      f("icl.curriculum", B, true, "ICL: grow dimensions and points as the reference curriculum"),
      f("icl.cot_hidden", I, 4, "ICL chain-of-thought: width k of the intermediate step s", 1, 4096),
      f("icl.sparsity", I, 3, "ICL sparse tasks: non-zeros (sparse LR) or parity support size", 1, 4096),

      f("model.family", C, "mamba", "Sequence model", 0, 0,
        {"mamba", "mamba-moe", "transformer", "linear-transformer", "performer", "s4", "s4-mamba", "hybrid", "mambaformer"}),
      f("model.d_model", I, 128, "Model width", 1, 65536),
      f("model.layers", I, 4, "Blocks (Mamba, S4) or layers (attention + MLP)", 1, 1024),
      f("model.d_state", I, 16, "SSM state size N", 1, 256),
      f("model.d_conv", I, 4, "Mamba causal conv width", 2, 64),
      f("model.expand", I, 2, "Mamba inner width = expand * d_model", 1, 16),
      withZero(f("model.dt_rank", I, 0, "Mamba dt projection rank (0: ceil(d_model/16))", 0, 65536), "auto"),
      f("model.dt_min", D, 1e-3, "Mamba: dt initialised log-uniform in [dt_min, dt_max] (mamba_simple: 0.001)", 1e-6, 10),
      f("model.dt_max", D, 1e-1, "Mamba: upper end of the dt initialisation (mamba_simple: 0.1)", 1e-6, 10),
      f("model.a_init", C, "s4d-real", "Mamba: A = -(1..N) per channel (S4D-real, mamba_simple) or A = -1 everywhere", 0, 0,
        {"s4d-real", "constant"}),
      f("model.out_proj_rescale", B, true, "Mamba: out_proj initialised / sqrt(layers) (mamba_simple's MixerModel)"),
      f("model.heads", I, 8, "Attention heads (must divide d_model)", 1, 1024),
      f("model.mlp_multiple", I, 4, "MLP hidden = multiple * d_model", 1, 64),
      f("model.positional", C, "auto", "Positional encoding (auto: learned for attention models, none otherwise)", 0, 0,
        {"auto", "learned", "sinusoidal", "none"}),
      f("model.max_positions", I, 4096, "Learned positional table size", 1, 1000000),
      f("model.favor_features", I, 64, "Performer random features per head", 1, 65536),
      f("model.favor_redraw", B, false, "Performer: redraw features every training step"),
      f("model.experts", I, 4, "Mamba-MoE experts per MoE layer", 1, 1024),
      f("model.top_k", I, 2, "Mamba-MoE experts per token", 1, 1024),
      f("model.moe_balance", D, 0.01, "Mamba-MoE: weight of the load-balancing loss E * sum_e f_e P_e (Switch Transformer)", 0, 100),
      f("model.init", C, "pytorch", "Transformer weight init: PyTorch's default (cl-as-seq) or GPT-2's N(0, 0.02) (mambaformer-icl)", 0, 0,
        {"pytorch", "gpt2"}),
      f("model.s4_dropout", D, 0.1, "S4-Mamba dropout on the S4 output (reference quirk)", 0, 0.99),

      f("optim.name", C, "adam", "Optimizer", 0, 0, {"adam", "adamw"}),
      f("optim.lr", D, 1e-3, "Learning rate", 1e-9, 10),
      f("optim.weight_decay", D, 0.0, "Weight decay (AdamW: decoupled)", 0, 10),
      f("optim.schedule", C, "constant", "Learning-rate schedule", 0, 0, {"constant", "step", "cosine"}),
      f("optim.step_size", I, 10000, "Step schedule: steps between decays", 1, 100000000),
      f("optim.gamma", D, 0.5, "Step schedule: decay factor", 0, 1),
      f("optim.warmup_steps", I, 0, "Linear warm-up steps (cosine and step schedules)", 0, 100000000),
      f("optim.batch_size", I, 16, "Episodes (or prompts) per step (per shard when optim.shards > 1)", 1, 65536),
      f("optim.shards", I, 1, "Shards per step, each batch_size episodes from its own seed stream, gradients averaged; "
        "`run --distributed` spreads them over the ranks (any rank count dividing it trains the same model)", 1, 4096),
      f("optim.steps", I, 1000, "Training steps", 1, 1000000000),
      withZero(f("optim.grad_clip", D, 10.0, "Gradient-norm clip (0: off)", 0, 1e9), "off"),

      withZero(f("selectivity.lambda", D, 0.0, "Weight of KL(p || q) selectivity regularisation (0: off)", 0, 1000), "off"),
      f("selectivity.layers", C, "all", "Blocks regularised", 0, 0, {"all", "last"}),
      f("selectivity.mamba_association", C, "cb-softmax",
        "Mamba's q: softmax over earlier tokens of C_t.B_s/sqrt(N), the same scores normalised without exp, or the "
        "channel mean of the implicit attention |M_d| (decay and dt included)", 0, 0, {"cb-softmax", "cb-linear", "implicit-abs"}),
      withZero(f("selectivity.until_step", I, 0, "Switch the regulariser off at this step (0: never)", 0, 1000000000), "never"),

      f("eval.every", I, 100, "Steps between meta-test evaluations", 1, 1000000000),
      f("eval.episodes", I, 64, "Meta-test episodes per evaluation", 1, 1000000),
      f("eval.length_tasks", IL, json::array({5, 10, 20, 40, 60}), "Length generalisation: meta-test task counts"),
      f("eval.length_shots", IL, json::array({5, 10, 20}), "Length generalisation: meta-test shot counts"),
      f("eval.noise_levels", DL, json::array({0.0, 0.25, 0.5, 1.0, 2.0}),
        "Noise robustness: Gaussian noise on the inputs, sigma in units of their per-coordinate standard deviation"),
      f("eval.domain_shift", C, "none",
        "Domain shift: meta-test on other data (synthetic-shifted: new prototypes, 1.5x spread, synthetic data only; "
        "features: a feature file of the training inputs' shape)", 0, 0, {"none", "synthetic-shifted", "features"}),
      f("eval.domain_shift_path", S, "", "Domain shift feature file (.npy/.csv) when eval.domain_shift = features"),
      f("eval.domain_shift_labels_path", S, "", "Labels .npy of a .npy domain-shift feature file"),
      f("eval.streaming", B, true, "MCL final sweeps: also answer each length_tasks point with the stream consumed one token at a time (the recurrent state; attention's KV cache) and record the state's bytes per episode"),
      f("eval.per_head_maps", B, false, "Also store each attention head's association map (heads x more storage)"),
      f("eval.final_episodes", I, 32, "Episodes per point of the final sweeps", 1, 1000000),
      f("eval.forgetting", B, true, "MCL: at the end, meta-test streams of 1..T tasks and each task's score after each (forgetting)"),
      f("eval.icl_prompts", I, 1280, "ICL: prompts per evaluation (the reference evaluates 1,280)", 1, 10000000),

      f("checkpoint.every", I, 250, "Steps between checkpoints (and at the end)", 1, 1000000000),
  };
  return schema;
}

const FieldSpec* findField(const std::string& path) {
  for (const auto& s : experimentSchema())
    if (s.path == path) return &s;
  return nullptr;
}

json getPath(const json& config, const std::string& path) {
  const json* node = &config;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    std::string key = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!node->is_object() || !node->contains(key)) return json();
    node = &(*node)[key];
    if (dot == std::string::npos) return *node;
    start = dot + 1;
  }
}

void setPath(json& config, const std::string& path, const json& value) {
  json* node = &config;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    std::string key = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (dot == std::string::npos) {
      (*node)[key] = value;
      return;
    }
    if (!(*node)[key].is_object()) (*node)[key] = json::object();
    node = &(*node)[key];
    start = dot + 1;
  }
}

json defaultExperiment() {
  json j = json::object();
  for (const auto& s : experimentSchema()) setPath(j, s.path, s.defaultValue);
  return j;
}

namespace {
// Like merge_patch, but a user's null stays null (merge_patch would delete the key, and the default would
// silently stand in for a value the user tried to unset); validation then names it.
void mergeKeepingNulls(json& into, const json& user) {
  if (!user.is_object() || !into.is_object()) {
    into = user;
    return;
  }
  for (auto it = user.begin(); it != user.end(); ++it) {
    if (it.value().is_object() && into.contains(it.key()) && into[it.key()].is_object()) mergeKeepingNulls(into[it.key()], it.value());
    else into[it.key()] = it.value();
  }
}
}  // namespace

json withDefaults(const json& user) {
  json j = defaultExperiment();
  mergeKeepingNulls(j, user);
  return j;
}

std::vector<std::pair<std::string, std::string>> flattenConfig(const json& config) {
  std::vector<std::pair<std::string, std::string>> out;
  std::function<void(const json&, const std::string&)> walk = [&](const json& node, const std::string& prefix) {
    if (node.is_object()) {
      for (auto it = node.begin(); it != node.end(); ++it) walk(it.value(), prefix.empty() ? it.key() : prefix + "." + it.key());
    } else {
      out.emplace_back(prefix, node.is_string() ? node.get<std::string>() : node.dump());
    }
  };
  walk(config, "");
  return out;
}

}  // namespace continua::core
