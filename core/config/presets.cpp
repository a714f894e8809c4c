// Named presets for the papers' experiments, sized to run on a laptop CPU unless noted; every value can be
// changed with --set. Full-scale settings of the papers are in docs/PRESETS.md.
#include "core/config/experiment_schema.h"
#include "core/util/errors.h"

namespace continua::core {
using nlohmann::json;

namespace {
struct Preset {
  std::string name, description;
  json values;
};

const std::vector<Preset>& presets() {
  static const std::vector<Preset> p{
      {"quickstart", "Mamba on synthetic-prototype MCL (10 tasks x 5 shots), a few minutes on 2 CPU cores",
       {{"name", "quickstart"}, {"model", {{"family", "mamba"}, {"d_model", 64}, {"layers", 2}}},
        {"task", {{"label_vocab", 10}, {"token_format", "joint"}}},
        {"episode", {{"tasks", 10}, {"shots", 5}, {"test_shots", 2}, {"curriculum_start_tasks", 3}, {"curriculum_steps", 800}}},
        {"eval_episode", {{"tasks", 10}, {"shots", 5}}},
        {"data", {{"dim", 32}, {"noise", 0.3}}},
        {"optim", {{"lr", 3e-3}, {"steps", 1200}, {"batch_size", 16}, {"schedule", "cosine"}, {"warmup_steps", 30}}},
        {"eval", {{"every", 100}, {"episodes", 64}, {"length_tasks", {3, 5, 8, 10}}, {"length_shots", {2, 5, 10, 20}},
                  {"domain_shift", "synthetic-shifted"}, {"final_episodes", 32}}},
        {"checkpoint", {{"every", 200}}}}},
      {"mambacl-mamba", "MambaCL: Mamba on 20-task x 5-shot MCL with selectivity regularisation",
       {{"name", "mambacl-mamba"}, {"model", {{"family", "mamba"}, {"d_model", 128}, {"layers", 4}}},
        {"task", {{"label_vocab", 100}}}, {"selectivity", {{"lambda", 0.5}, {"until_step", 2000}}},
        {"optim", {{"lr", 1e-3}, {"steps", 5000}, {"schedule", "step"}, {"step_size", 2000}}},
        {"eval", {{"length_tasks", {5, 10, 20, 40, 60, 100}}}}}},
      {"mambacl-transformer", "MambaCL baseline: Transformer (sinusoidal positions) on the same MCL episodes",
       {{"name", "mambacl-transformer"}, {"model", {{"family", "transformer"}, {"d_model", 128}, {"layers", 4}, {"positional", "sinusoidal"}}},
        {"task", {{"label_vocab", 100}}}, {"selectivity", {{"lambda", 0.5}, {"until_step", 2000}}},
        {"optim", {{"lr", 1e-3}, {"steps", 5000}}}, {"eval", {{"length_tasks", {5, 10, 20, 40, 60, 100}}}}}},
      {"mambacl-linear-transformer", "MambaCL baseline: Linear Transformer (elu+1)",
       {{"name", "mambacl-linear-transformer"}, {"model", {{"family", "linear-transformer"}, {"positional", "sinusoidal"}}},
        {"task", {{"label_vocab", 100}}}, {"optim", {{"steps", 5000}}}}},
      {"mambacl-performer", "MambaCL baseline: Performer (FAVOR+)",
       {{"name", "mambacl-performer"}, {"model", {{"family", "performer"}, {"positional", "sinusoidal"}}},
        {"task", {{"label_vocab", 100}}}, {"optim", {{"steps", 5000}}}}},
      {"mambacl-moe", "MambaCL extension: Mamba with mixture-of-experts feed-forward layers",
       {{"name", "mambacl-moe"}, {"model", {{"family", "mamba-moe"}, {"layers", 2}}}, {"task", {{"label_vocab", 100}}},
        {"optim", {{"steps", 5000}}}}},
      {"mambacl-sine", "MambaCL regression: sine waves (cl-as-seq's sine task)",
       {{"name", "mambacl-sine"}, {"task", {{"target", "sine"}}}, {"episode", {{"tasks", 20}, {"shots", 5}}},
        {"optim", {{"steps", 3000}}}}},
      {"icl-linear-regression-mamba", "Can Mamba learn how to learn: linear regression (d=20, 41 points), Mamba",
       {{"name", "icl-lr-mamba"}, {"task", {{"family", "icl"}, {"icl_task", "linear_regression"}}},
        {"model", {{"family", "mamba"}, {"layers", 4}}}, {"optim", {{"lr", 1e-4}, {"batch_size", 64}, {"steps", 500000}}}}},
      {"icl-chain-of-thought-mamba", "Can Mamba learn how to learn: chain-of-thought I/O (d=10, k=4, 101 points), Mamba",
       {{"name", "icl-cot-mamba"}, {"task", {{"family", "icl"}, {"icl_task", "chain_of_thought"}}},
        {"icl", {{"n_dims", 10}, {"n_points", 101}, {"cot_hidden", 4}}},
        {"model", {{"family", "mamba"}, {"layers", 4}}}, {"optim", {{"lr", 1e-4}, {"batch_size", 64}, {"steps", 500000}}}}},
      {"icl-mqar-mambaformer", "Can Mamba learn how to learn: vector-valued MQAR (64 pairs), MambaFormer",
       {{"name", "icl-mqar-mambaformer"}, {"task", {{"family", "icl"}, {"icl_task", "mqar"}}},
        {"icl", {{"n_dims", 20}, {"n_points", 64}}}, {"model", {{"family", "mambaformer"}, {"layers", 4}}},
        {"optim", {{"lr", 2e-4}, {"batch_size", 64}, {"steps", 500000}, {"grad_clip", 100.0}}}}},
      {"icl-sparse-parity-mamba", "Can Mamba learn how to learn: sparse parity (d=10, k=2, 140 points), Mamba",
       {{"name", "icl-parity-mamba"}, {"task", {{"family", "icl"}, {"icl_task", "sparse_parity"}}},
        {"icl", {{"n_dims", 10}, {"n_points", 140}, {"sparsity", 2}}}, {"model", {{"family", "mamba"}, {"d_model", 256}, {"layers", 24}}},
        {"optim", {{"lr", 4e-4}, {"batch_size", 64}, {"steps", 500000}}}}},
      {"icl-linear-regression-transformer", "Can Mamba learn how to learn: linear regression, Transformer",
       {{"name", "icl-lr-transformer"}, {"task", {{"family", "icl"}, {"icl_task", "linear_regression"}}},
        {"model", {{"family", "transformer"}, {"layers", 2}}}, {"optim", {{"lr", 1e-4}, {"batch_size", 64}, {"steps", 500000}}}}},
  };
  return p;
}
}  // namespace

std::vector<std::string> presetNames() {
  std::vector<std::string> n;
  for (const auto& p : presets()) n.push_back(p.name);
  return n;
}

std::string presetDescription(const std::string& name) {
  for (const auto& p : presets())
    if (p.name == name) return p.description;
  return {};
}

json presetExperiment(const std::string& name) {
  for (const auto& p : presets())
    if (p.name == name) return withDefaults(p.values);
  std::string list;
  for (const auto& p : presets()) list += (list.empty() ? "" : ", ") + p.name;
  throw ConfigError("unknown preset '" + name + "' (available: " + list + ")");
}

}  // namespace continua::core
