// In-context learning: prompts from an IclTask through a PromptLearner; training loss at the scored
// positions with the reference curriculum (plus, for tasks with a ground truth, the selectivity
// regulariser); evaluation as error against the number of in-context examples, on eval.icl_prompts fixed
// prompts, next to the classical baselines on the same prompts.
#include "core/models/learners.h"
#include "core/tasks/icl/icl_task.h"
#include "core/train/task_runner.h"

#include <cmath>

namespace continua::core {
using nlohmann::json;
using torch::Tensor;
using torch::indexing::Slice;

namespace {

constexpr int64_t kEvalChunk = 64;  // prompts per forward pass at evaluation (bounds attention's L x L memory)

IclTaskSpec taskSpecFrom(const json& c) {
  return IclTaskSpec{c["task"]["icl_task"], c["icl"]["n_dims"], c["icl"]["n_points"], c["icl"]["sparsity"], c["icl"]["cot_hidden"]};
}

// The same rows of every defined tensor of a prompt batch.
IclPrompts slicePrompts(const IclPrompts& p, int64_t from, int64_t to) {
  IclPrompts s = p;
  for (Tensor* t : {&s.xs, &s.ys, &s.tokens, &s.scored, &s.truth, &s.hidden})
    if (t->defined()) *t = t->slice(0, from, to);
  return s;
}

// The query's (last token's) row of a causal map, over the earlier tokens and renormalised there, as MCL's
// query rows leave the query itself out.
Tensor queryRow(const Tensor& map) {
  Tensor row = map.index({Slice(), -1, Slice(0, map.size(-1) - 1)});
  return row / (row.sum(-1, true) + 1e-12);
}

class IclRunner : public TaskRunner {
 public:
  IclRunner(const json& c, torch::Device device) : m_config(c), m_device(device), m_task(makeIclTask(taskSpecFrom(c))) {
    m_learner = std::make_shared<PromptLearner>(ModelConfig::fromExperiment(c), m_task->tokenDim(), m_task->outputDim());
    m_learner->to(device);
  }

  torch::nn::Module& module() override { return *m_learner; }
  std::string modelName() const override { return m_config["model"]["family"]; }
  std::string taskName() const override { return "icl/" + m_task->spec().name; }
  std::string summary() override { return m_learner->backbone().summary() + "; task " + taskName(); }
  ModelFacts facts() override {
    torch::Generator gen = at::detail::createCPUGenerator(0);
    const int64_t tokens = m_task->sample(1, m_task->spec().points, m_task->spec().dims, gen).tokens.size(1);
    return {tokens, m_learner->backbone().flopsPerToken(tokens)};
  }

  IclPrompts onDevice(IclPrompts p) const {
    for (Tensor* t : {&p.xs, &p.ys, &p.tokens, &p.scored, &p.truth, &p.hidden})
      if (t->defined()) *t = t->to(m_device);
    return p;
  }

  // KL(p || q) of the query row against the ground truth (MQAR's matching key and value), over the regularised
  // blocks (selectivity.layers). Validation admits selectivity.lambda > 0 only for tasks with a ground truth.
  Tensor selectivityLoss(const SequenceModel::Output& out, const IclPrompts& p) const {
    Tensor truth = m_task->groundTruth(p);
    truth = truth.index({Slice(), Slice(0, truth.size(-1) - 1)});
    const size_t first = m_config["selectivity"]["layers"] == "last" ? out.maps.size() - 1 : 0;
    Tensor kl = torch::zeros({}, truth.options());
    for (size_t i = first; i < out.maps.size(); ++i) kl = kl + selectivityKl(truth, queryRow(out.maps[i]));
    return kl / double(out.maps.size() - first);
  }

  TrainLoss trainLoss(int64_t step, torch::Generator& gen, double lambda) override {
    auto [dims, points] = m_task->curriculum(step, m_config["icl"]["curriculum"]);
    IclPrompts p = onDevice(m_task->sample(m_config["optim"]["batch_size"], points, dims, gen));
    SequenceModel::Output out = m_learner->run(p.tokens, lambda > 0);
    TrainLoss r;
    Tensor main = m_task->loss(m_task->readPredictions(out.stream), p);
    r.total = main;
    r.metrics.push_back({"train/loss", main.item<double>()});
    if (lambda > 0 && !out.maps.empty()) {
      Tensor kl = selectivityLoss(out, p);
      r.total = r.total + lambda * kl;
      r.metrics.push_back({"train/selectivity_kl", kl.item<double>()});
    }
    addAuxiliaryLoss(out, r);
    r.metrics.push_back({"train/curriculum_points", double(points)});
    r.metrics.push_back({"train/curriculum_dims", double(dims)});
    return r;
  }

  // The mixture-of-experts load-balancing loss, when the model has one.
  void addAuxiliaryLoss(const SequenceModel::Output& out, TrainLoss& r) const {
    if (!out.auxiliaryLoss.defined()) return;
    r.total = r.total + m_config["model"]["moe_balance"].get<double>() * out.auxiliaryLoss;
    r.metrics.push_back({"train/moe_balance", out.auxiliaryLoss.item<double>()});
  }

  // The fixed evaluation prompts: eval.icl_prompts of them (the reference evaluates 1,280), at full size.
  IclPrompts evalPrompts() const {
    auto gen = at::detail::createCPUGenerator(m_config["seed"].get<uint64_t>() * 1000003ull + 29);
    return m_task->sample(m_config["eval"]["icl_prompts"], m_task->spec().points, m_task->spec().dims, gen);
  }

  Tensor modelOutput(const Tensor& tokens) {
    std::vector<Tensor> parts;
    for (int64_t b = 0; b < tokens.size(0); b += kEvalChunk)
      parts.push_back(m_learner->forward(tokens.slice(0, b, b + kEvalChunk).to(m_device)).cpu());
    return torch::cat(parts);
  }

  struct Evaluation {
    Tensor perPosition;                          // (N) headline metric
    double loss = 0;
    std::vector<std::pair<std::string, Tensor>> extra;  // per-position (or per-prompt) means
  };

  Evaluation evaluatePrompts(const IclPrompts& p, bool withModelCalls) {
    torch::NoGradGuard g;
    m_learner->eval();
    Evaluation e;
    Tensor pred = m_task->readPredictions(modelOutput(p.tokens));
    e.perPosition = torch::nanmean(m_task->metric(pred, p), 0);
    e.loss = m_task->loss(pred, p).item<double>();
    PromptModel model;
    if (withModelCalls) model = [this](const Tensor& tokens) { return modelOutput(tokens); };
    for (const auto& m : m_task->extraMetrics(p, pred, model)) {
      Tensor v = m.perPrompt.dim() == 1 ? m.perPrompt.unsqueeze(1) : m.perPrompt;
      e.extra.push_back({m.name, torch::nanmean(v, 0)});
    }
    m_learner->train();
    return e;
  }

  std::string metricName() const { return m_task->isClassification() ? "accuracy" : "error"; }

  static void addCurve(std::vector<CurvePoint>& curves, const std::string& name, int64_t step, const Tensor& perPos) {
    for (int64_t i = 0; i < perPos.size(0); ++i) curves.push_back({name, step, double(i), perPos[i].item<double>()});
  }

  void evaluate(int64_t step, std::vector<MetricPoint>& metrics, std::vector<CurvePoint>& curves) override {
    Evaluation e = evaluatePrompts(evalPrompts(), false);
    metrics.push_back({"test/" + metricName(), step, 0, torch::nanmean(e.perPosition).item<double>()});
    metrics.push_back({"test/loss", step, 0, e.loss});
    addCurve(curves, "examples/" + metricName(), step, e.perPosition);
    for (const auto& [name, v] : e.extra) metrics.push_back({"test/" + name, step, 0, torch::nanmean(v).item<double>()});
  }

  std::vector<StoredMap> probeMaps(int64_t step) override {
    torch::NoGradGuard g;
    auto gen = at::detail::createCPUGenerator(m_config["seed"].get<uint64_t>() * 7919ull + 5);
    IclPrompts p = m_task->sample(1, m_task->spec().points, m_task->spec().dims, gen);
    std::vector<StoredMap> maps;
    if (p.tokens.size(1) > 256) return maps;  // L x L maps of long prompts are not kept
    m_learner->eval();
    auto out = m_learner->run(p.tokens.to(m_device), true);
    m_learner->train();
    for (size_t i = 0; i < out.maps.size(); ++i) {
      Tensor q = out.maps[i][0].to(torch::kFloat32).cpu().contiguous();
      StoredMap m;
      m.step = step; m.layer = int(i); m.layerName = out.mapLayers[i]; m.kind = "model";
      m.rows = int(q.size(0)); m.cols = int(q.size(1));
      m.values.assign(q.data_ptr<float>(), q.data_ptr<float>() + q.numel());
      m.meta = {{"interleaved", m_task->interleaved()}};
      if (!m_task->hasGroundTruth()) {
        maps.push_back(m);
        continue;
      }
      // The query (last row) should look at what the ground truth says (MQAR: its matching key and value).
      Tensor truth = torch::zeros_like(q);
      truth.index_put_({-1}, m_task->groundTruth(p)[0]);
      m.kl = selectivityKl(p.truth.index({Slice(), Slice(0, q.size(1) - 1)}), queryRow(q.unsqueeze(0))).item<double>();
      StoredMap t = m;
      t.kind = "truth";
      t.values.assign(truth.data_ptr<float>(), truth.data_ptr<float>() + truth.numel());
      maps.push_back(m);
      maps.push_back(t);
    }
    return maps;
  }

  // The final evaluation adds what needs more model calls (chain of thought predicted step by step) and the
  // classical baselines on the same prompts.
  void finalSweeps(int64_t step, std::vector<MetricPoint>& metrics, std::vector<CurvePoint>& c) override {
    IclPrompts p = evalPrompts();
    Evaluation e = evaluatePrompts(p, true);
    for (const auto& [name, v] : e.extra) {
      metrics.push_back({"test/" + name, step, 0, torch::nanmean(v).item<double>()});
      if (v.size(0) > 1) addCurve(c, "examples/" + name, step, v);
    }
    for (const auto& [name, pred] : m_task->baselines(p))
      addCurve(c, "baseline/" + name, step, torch::nanmean(m_task->metric(pred, p), 0));
  }

 private:
  json m_config;
  torch::Device m_device;
  std::unique_ptr<IclTask> m_task;
  std::shared_ptr<PromptLearner> m_learner;
};

}  // namespace

std::unique_ptr<TaskRunner> makeIclRunner(const json& config, torch::Device device) {
  return std::make_unique<IclRunner>(config, device);
}

}  // namespace continua::core
