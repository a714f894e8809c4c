// Meta-continual learning: episodes from a class source (or sine regression), an EpisodeLearner, CE (or MSE)
// over the queries plus optional selectivity regularisation, and the MambaCL evaluations.
#include "core/models/learners.h"
#include "core/tasks/data_source.h"
#include "core/tasks/mcl_episode.h"
#include "core/train/mcl_data.h"
#include "core/train/task_runner.h"
#include "core/util/errors.h"

#include <cmath>

namespace continua::core {
using nlohmann::json;
using torch::Tensor;

namespace {

class MclRunner : public TaskRunner {
 public:
  MclRunner(const json& c, torch::Device device)
      : m_config(c), m_device(device), m_data(MclData::fromExperiment(c)), m_sine(m_data.sine), m_train(m_data.train),
        m_test(m_data.test) {
    m_gtLabels = c["task"]["gt_label_tokens"];
    m_regulariseLast = c["selectivity"]["layers"] == "last";
    m_joint = c["task"]["token_format"] == "joint";
    m_learner = std::make_shared<EpisodeLearner>(ModelConfig::fromExperiment(c), m_data.inputShape(), m_data.vocab,
                                                 m_sine ? kSineDim : 0, m_joint);
    m_learner->to(device);
  }

  torch::nn::Module& module() override { return *m_learner; }
  std::string modelName() const override { return m_config["model"]["family"]; }
  std::string taskName() const override {
    return m_sine ? "mcl/sine" : "mcl/" + m_config["data"]["kind"].get<std::string>();
  }
  std::string summary() override {
    return m_learner->backbone().summary() + (m_data.source ? "; data: " + m_data.source->describe() : "; data: sine regression");
  }
  ModelFacts facts() override {
    // The stream (one token per example when joint, x and y tokens otherwise) and then the queries.
    const int64_t tokens = (m_joint ? 1 : 2) * m_train.streamExamples() + m_train.queries();
    return {tokens, m_learner->backbone().flopsPerToken(tokens)};
  }

  EpisodeBatch sample(Split split, const EpisodeShape& shape, int64_t batch, double noise, torch::Generator& gen,
                      ClassDataSource* source = nullptr) {
    EpisodeBatch e = m_sine ? sampleSineEpisodes(shape, batch, noise, gen)
                            : sampleClassEpisodes(source ? *source : *m_data.source, split, shape, batch, m_data.vocab, noise, gen);
    for (Tensor* t : {&e.streamX, &e.streamY, &e.queryX, &e.queryY, &e.streamTask, &e.queryTask}) *t = t->to(m_device);
    return e;
  }

  // Per-query loss and correctness (regression: MSE per query, correctness undefined).
  std::pair<Tensor, Tensor> perQuery(const Tensor& pred, const EpisodeBatch& e) {
    if (e.regression) return {(pred - e.queryY).pow(2).mean(-1), Tensor()};
    Tensor ce = torch::nn::functional::cross_entropy(pred.flatten(0, 1), e.queryY.flatten(),
                                                     torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));
    return {ce.view_as(e.queryY).to(torch::kFloat32), pred.argmax(-1).eq(e.queryY).to(torch::kFloat32)};
  }

  // Episode-length curriculum: short streams first. Recurrent models sit on a long plateau at chance when
  // trained on long streams from the start (measured: Mamba, 5 tasks, 900 steps at chance; 3 tasks learn in 300).
  EpisodeShape trainShape(int64_t step) const {
    EpisodeShape s = m_train;
    const int64_t start = m_config["episode"]["curriculum_start_tasks"];
    if (start > 0 && start < s.tasks) {
      const double frac = std::min(1.0, double(step) / m_config["episode"]["curriculum_steps"].get<double>());
      s.tasks = start + static_cast<int64_t>(std::floor(frac * double(s.tasks - start)));
    }
    return s;
  }

  TrainLoss trainLoss(int64_t step, torch::Generator& gen, double lambda) override {
    const EpisodeShape shape = trainShape(step);
    EpisodeBatch e = sample(Split::MetaTrain, shape, m_config["optim"]["batch_size"], 0.0, gen);
    LearnerOutput out = m_learner->forward(e, lambda > 0);
    auto [loss, correct] = perQuery(out.predictions, e);
    TrainLoss r;
    Tensor main = loss.mean();
    r.total = main;
    r.metrics.push_back({"train/loss", main.item<double>()});
    if (correct.defined()) r.metrics.push_back({"train/accuracy", correct.mean().item<double>()});
    r.metrics.push_back({"train/tasks", double(shape.tasks)});
    if (lambda > 0 && !out.maps.empty()) {
      Tensor p = groundTruthAssociation(e, m_gtLabels, m_joint);
      Tensor kl = torch::zeros({}, p.options());
      size_t first = m_regulariseLast ? out.maps.size() - 1 : 0;
      for (size_t i = first; i < out.maps.size(); ++i) kl = kl + selectivityKl(p, out.maps[i]);
      kl = kl / double(out.maps.size() - first);
      r.total = main + lambda * kl;
      r.metrics.push_back({"train/selectivity_kl", kl.item<double>()});
    }
    if (out.auxiliaryLoss.defined()) {  // mixture-of-experts load balancing
      r.total = r.total + m_config["model"]["moe_balance"].get<double>() * out.auxiliaryLoss;
      r.metrics.push_back({"train/moe_balance", out.auxiliaryLoss.item<double>()});
    }
    return r;
  }

  struct EvalResult {
    double loss = 0, accuracy = 0;
    std::vector<double> perTask;  // accuracy (or MSE) per task position
    int64_t stateBytes = 0;       // streaming: the model state per episode after the stream
  };

  // streaming: predictions from the model stepping through each stream (EpisodeLearner::predictStreaming),
  // with the state's bytes per episode in r.stateBytes.
  EvalResult evalShape(const EpisodeShape& shape, int64_t episodes, double noise, uint64_t seed, ClassDataSource* source = nullptr,
                       bool streaming = false) {
    torch::NoGradGuard g;
    m_learner->eval();
    auto gen = at::detail::createCPUGenerator(seed);
    EvalResult r;
    r.perTask.assign(size_t(shape.tasks), 0.0);
    std::vector<double> counts(size_t(shape.tasks), 0.0);
    const int64_t batch = 16;
    int64_t done = 0;
    double lossSum = 0, accSum = 0, n = 0;
    while (done < episodes) {
      const int64_t b = std::min(batch, episodes - done);
      EpisodeBatch e = sample(Split::MetaTest, shape, b, noise, gen, source);
      const Tensor predictions = streaming ? m_learner->predictStreaming(e, &r.stateBytes) : m_learner->forward(e, false).predictions;
      auto [loss, correct] = perQuery(predictions, e);
      Tensor score = correct.defined() ? correct : loss;
      lossSum += loss.sum().item<double>();
      accSum += score.sum().item<double>();
      n += double(loss.numel());
      Tensor tasks = e.queryTask.cpu().flatten(), s = score.cpu().flatten();
      auto tp = tasks.accessor<int64_t, 1>();
      auto sp = s.accessor<float, 1>();
      for (int64_t i = 0; i < tasks.size(0); ++i) { r.perTask[size_t(tp[i])] += sp[i]; counts[size_t(tp[i])] += 1; }
      done += b;
    }
    m_learner->train();
    r.loss = lossSum / n;
    r.accuracy = accSum / n;
    for (size_t i = 0; i < r.perTask.size(); ++i) r.perTask[i] /= std::max(1.0, counts[i]);
    return r;
  }

  std::string scoreName() const { return m_sine ? "mse" : "accuracy"; }

  void evaluate(int64_t step, std::vector<MetricPoint>& metrics, std::vector<CurvePoint>& curves) override {
    const uint64_t seed = m_config["seed"].get<uint64_t>() * 1000003ull + 17;  // same held-out episodes every time
    EvalResult r = evalShape(m_test, m_config["eval"]["episodes"], 0.0, seed);
    metrics.push_back({"test/loss", step, 0, r.loss});
    metrics.push_back({"test/" + scoreName(), step, 0, r.accuracy});
    for (size_t t = 0; t < r.perTask.size(); ++t) curves.push_back({"per_task/" + scoreName(), step, double(t), r.perTask[t]});
  }

  std::vector<StoredMap> probeMaps(int64_t step) override {
    torch::NoGradGuard g;
    m_learner->eval();
    auto gen = at::detail::createCPUGenerator(m_config["seed"].get<uint64_t>() * 7919ull + 3);  // the same probe every time
    EpisodeBatch e = sample(Split::MetaTest, m_train, 1, 0.0, gen);
    const bool perHead = m_config["eval"]["per_head_maps"];
    LearnerOutput out = m_learner->forward(e, true, perHead);
    m_learner->train();
    std::vector<StoredMap> maps;
    if (out.maps.empty()) return maps;
    Tensor p = groundTruthAssociation(e, m_gtLabels, m_joint)[0].cpu().contiguous();
    json meta = {{"tasks", m_train.tasks}, {"stream_tokens", p.size(1)},
                 {"tokens_per_task", (m_joint ? 1 : 2) * m_train.shots * m_train.classesPerTask},
                 {"queries_per_task", m_train.testShots * m_train.classesPerTask}};
    auto toMap = [&](const Tensor& t, int layer, const std::string& name, const std::string& kind, double kl) {
      Tensor c = t.to(torch::kFloat32).cpu().contiguous();
      StoredMap m;
      m.step = step; m.layer = layer; m.layerName = name; m.kind = kind; m.rows = int(c.size(0)); m.cols = int(c.size(1));
      m.kl = kl; m.values.assign(c.data_ptr<float>(), c.data_ptr<float>() + c.numel()); m.meta = meta;
      return m;
    };
    int slot = 0;
    for (size_t i = 0; i < out.maps.size(); ++i) {
      Tensor m = out.maps[i][0];  // (Q, L), or (heads, Q, L) for attention with per-head maps
      std::vector<std::pair<std::string, Tensor>> views{{out.mapLayers[i], m.dim() == 3 ? m.mean(0) : m}};
      for (int64_t h = 0; m.dim() == 3 && h < m.size(0); ++h) views.push_back({out.mapLayers[i] + " head " + std::to_string(h), m[h]});
      for (const auto& [name, q] : views) {
        const double kl = selectivityKl(p.unsqueeze(0), q.cpu().unsqueeze(0)).item<double>();
        maps.push_back(toMap(q, slot, name, "model", kl));
        maps.push_back(toMap(p, slot, name, "truth", kl));
        ++slot;
      }
    }
    return maps;
  }

  // Length generalisation (tasks and shots past the training episode), noise robustness (sigma in units of
  // the inputs' per-coordinate standard deviation) and domain shift, each point on the same held-out episodes.
  void finalSweeps(int64_t step, std::vector<MetricPoint>&, std::vector<CurvePoint>& c) override {
    const int64_t episodes = m_config["eval"]["final_episodes"];
    const uint64_t seed = m_config["seed"].get<uint64_t>() * 1000003ull + 101;
    auto point = [&](const std::string& curve, double x, const EpisodeShape& s, double noise, ClassDataSource* src = nullptr) {
      c.push_back({curve + "/" + scoreName(), step, x, evalShape(s, episodes, noise, seed, src).accuracy});
    };
    const bool streaming = m_config["eval"]["streaming"];
    for (const auto& t : m_config["eval"]["length_tasks"]) {
      EpisodeShape s = m_test;
      s.tasks = t;
      point("length_tasks", double(s.tasks), s, 0.0);
      if (!streaming) continue;
      // The same point with the model consuming each stream one token at a time: equal to the parallel number
      // (tests/core/test_models), with the memory the state needs beside it.
      const EvalResult r = evalShape(s, episodes, 0.0, seed, nullptr, true);
      c.push_back({"length_tasks_streaming/" + scoreName(), step, double(s.tasks), r.accuracy});
      c.push_back({"length_tasks_streaming/state_bytes", step, double(s.tasks), double(r.stateBytes)});
    }
    for (const auto& k : m_config["eval"]["length_shots"]) {
      EpisodeShape s = m_test;
      s.shots = k;
      point("length_shots", double(s.shots), s, 0.0);
    }
    for (const auto& sigma : m_config["eval"]["noise_levels"])
      point("noise", sigma.get<double>(), m_test, sigma.get<double>() * m_data.inputScale);
    if (m_data.shifted) {
      point("domain_shift", 0.0, m_test, 0.0);
      point("domain_shift", 1.0, m_test, 0.0, m_data.shifted.get());
    }
    if (m_config["eval"]["forgetting"]) forgettingSweep(step, episodes, seed, c);
  }

  // cl-as-seq's measure_forgetting: meta-test streams of t = 1 .. T tasks, and the score of the queries of each
  // task k <= t after the stream — how well task k is remembered as later tasks arrive. One curve per task,
  // "forgetting/task K/<score>", x = tasks in the stream.
  void forgettingSweep(int64_t step, int64_t episodes, uint64_t seed, std::vector<CurvePoint>& c) {
    for (int64_t t = 1; t <= m_test.tasks; ++t) {
      EpisodeShape s = m_test;
      s.tasks = t;
      const EvalResult r = evalShape(s, episodes, 0.0, seed);
      for (int64_t k = 0; k < t; ++k)
        c.push_back({"forgetting/task " + std::to_string(k + 1) + "/" + scoreName(), step, double(t), r.perTask[size_t(k)]});
    }
  }

 private:
  json m_config;
  torch::Device m_device;
  MclData m_data;
  bool m_sine = false, m_gtLabels = true, m_regulariseLast = false, m_joint = false;
  EpisodeShape m_train, m_test;
  std::shared_ptr<EpisodeLearner> m_learner;
};

}  // namespace

std::unique_ptr<TaskRunner> makeMclRunner(const json& config, torch::Device device) {
  return std::make_unique<MclRunner>(config, device);
}

Tensor selectivityKl(const Tensor& p, const Tensor& q) {
  Tensor mask = p.gt(0);
  Tensor terms = torch::where(mask, p * (torch::log(p.clamp_min(1e-12)) - torch::log(q.clamp_min(1e-12))), torch::zeros_like(p));
  return terms.sum(-1).mean();
}

}  // namespace continua::core
