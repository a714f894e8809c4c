// In-context learning: prompts from an IclTask through a PromptLearner; training loss at the scored
// positions with the reference curriculum; evaluation as error against the number of in-context examples,
// next to the classical baselines on the same prompts.
#include "core/models/learners.h"
#include "core/tasks/icl_tasks.h"
#include "core/train/task_runner.h"

#include <cmath>

namespace continua::core {
using nlohmann::json;
using torch::Tensor;
using torch::indexing::Slice;

namespace {

class IclRunner : public TaskRunner {
 public:
  IclRunner(const json& c, torch::Device device)
      : m_config(c), m_device(device),
        m_task(IclTaskSpec{c["task"]["icl_task"], c["icl"]["n_dims"], c["icl"]["n_points"], c["icl"]["sparsity"],
                           c["icl"]["cot_hidden"]}) {
    m_learner = std::make_shared<PromptLearner>(ModelConfig::fromExperiment(c), m_task.tokenDim(), m_task.outputDim());
    m_learner->to(device);
  }

  torch::nn::Module& module() override { return *m_learner; }
  std::string modelName() const override { return m_config["model"]["family"]; }
  std::string taskName() const override { return "icl/" + m_task.spec().name; }
  std::string summary() override { return m_learner->backbone().summary() + "; task " + taskName(); }

  IclPrompts onDevice(IclPrompts p) {
    for (Tensor* t : {&p.xs, &p.ys, &p.tokens, &p.scored, &p.hidden})
      if (t->defined()) *t = t->to(m_device);
    return p;
  }

  // The query's (last token's) row of a causal map, over the earlier tokens and renormalised there, as MCL's
  // query rows leave the query itself out.
  static Tensor queryRow(const Tensor& map) {
    Tensor row = map.index({Slice(), -1, Slice(0, map.size(-1) - 1)});
    return row / (row.sum(-1, true) + 1e-12);
  }

  // KL(p || q) of the query row against the ground truth (MQAR's matching key and value), over the regularised
  // blocks (selectivity.layers). Validation admits selectivity.lambda > 0 only for tasks with a ground truth.
  Tensor selectivityLoss(const SequenceModel::Output& out, const IclPrompts& p) const {
    Tensor truth = m_task.groundTruth(p);
    truth = truth.index({Slice(), Slice(0, truth.size(-1) - 1)});
    const size_t first = m_config["selectivity"]["layers"] == "last" ? out.maps.size() - 1 : 0;
    Tensor kl = torch::zeros({}, truth.options());
    for (size_t i = first; i < out.maps.size(); ++i) kl = kl + selectivityKl(truth, queryRow(out.maps[i]));
    return kl / double(out.maps.size() - first);
  }

  TrainLoss trainLoss(int64_t step, torch::Generator& gen, double lambda) override {
    auto [dims, points] = m_task.curriculum(step, m_config["icl"]["curriculum"]);
    IclPrompts p = onDevice(m_task.sample(m_config["optim"]["batch_size"], points, dims, gen));
    SequenceModel::Output out = m_learner->run(p.tokens, lambda > 0);
    Tensor pred = m_task.readPredictions(out.stream);
    TrainLoss r;
    Tensor main = m_task.loss(pred, p);
    r.total = main;
    r.metrics.push_back({"train/loss", main.item<double>()});
    if (lambda > 0 && !out.maps.empty()) {
      Tensor kl = selectivityLoss(out, p);
      r.total = main + lambda * kl;
      r.metrics.push_back({"train/selectivity_kl", kl.item<double>()});
    }
    r.metrics.push_back({"train/curriculum_points", double(points)});
    r.metrics.push_back({"train/curriculum_dims", double(dims)});
    return r;
  }

  IclPrompts evalPrompts() {
    auto gen = at::detail::createCPUGenerator(m_config["seed"].get<uint64_t>() * 1000003ull + 29);
    return m_task.sample(std::min<int64_t>(256, m_config["eval"]["episodes"].get<int64_t>() * 4), m_task.spec().points,
                         m_task.spec().dims, gen);
  }

  void evaluate(int64_t step, std::vector<MetricPoint>& metrics, std::vector<CurvePoint>& curves) override {
    torch::NoGradGuard g;
    m_learner->eval();
    IclPrompts p = evalPrompts();
    Tensor pred = m_task.readPredictions(m_learner->forward(p.tokens.to(m_device))).cpu();
    m_learner->train();
    Tensor perPos = torch::nanmean(m_task.metric(pred, p), 0);  // (N)
    const std::string what = m_task.isClassification() ? "accuracy" : "error";
    metrics.push_back({"test/" + what, step, 0, torch::nanmean(perPos).item<double>()});
    metrics.push_back({"test/loss", step, 0, m_task.loss(pred, p).item<double>()});
    for (int64_t i = 0; i < perPos.size(0); ++i) curves.push_back({"examples/" + what, step, double(i), perPos[i].item<double>()});
  }

  std::vector<StoredMap> probeMaps(int64_t step) override {
    torch::NoGradGuard g;
    m_learner->eval();
    auto gen = at::detail::createCPUGenerator(m_config["seed"].get<uint64_t>() * 7919ull + 5);
    IclPrompts p = m_task.sample(1, m_task.spec().points, m_task.spec().dims, gen);
    std::vector<StoredMap> maps;
    if (p.tokens.size(1) > 256) { m_learner->train(); return maps; }  // L x L maps of long prompts are not kept
    auto out = m_learner->run(p.tokens.to(m_device), true);
    m_learner->train();
    for (size_t i = 0; i < out.maps.size(); ++i) {
      Tensor q = out.maps[i][0].to(torch::kFloat32).cpu().contiguous();
      StoredMap m;
      m.step = step; m.layer = int(i); m.layerName = out.mapLayers[i]; m.kind = "model";
      m.rows = int(q.size(0)); m.cols = int(q.size(1));
      m.values.assign(q.data_ptr<float>(), q.data_ptr<float>() + q.numel());
      m.meta = {{"interleaved", !m_task.isRetrieval()}};
      if (m_task.isRetrieval()) {  // MQAR: the query (last row) should look at its matching key and value
        Tensor truth = torch::zeros_like(q);
        truth.index_put_({-1}, m_task.groundTruth(p)[0]);
        m.kl = selectivityKl(p.truth.index({Slice(), Slice(0, q.size(1) - 1)}), queryRow(q.unsqueeze(0))).item<double>();
        StoredMap t = m;
        t.kind = "truth";
        t.values.assign(truth.data_ptr<float>(), truth.data_ptr<float>() + truth.numel());
        maps.push_back(m);
        maps.push_back(t);
      } else {
        maps.push_back(m);
      }
    }
    return maps;
  }

  std::vector<CurvePoint> finalSweeps(int64_t step) override {
    std::vector<CurvePoint> c;
    IclPrompts p = evalPrompts();
    for (const auto& [name, pred] : m_task.baselines(p)) {
      Tensor perPos = torch::nanmean(m_task.metric(pred, p), 0);
      for (int64_t i = 0; i < perPos.size(0); ++i) c.push_back({"baseline/" + name, step, double(i), perPos[i].item<double>()});
    }
    return c;
  }

 private:
  json m_config;
  torch::Device m_device;
  IclTask m_task;
  std::shared_ptr<PromptLearner> m_learner;
};

}  // namespace

std::unique_ptr<TaskRunner> makeIclRunner(const json& config, torch::Device device) {
  return std::make_unique<IclRunner>(config, device);
}

}  // namespace continua::core
