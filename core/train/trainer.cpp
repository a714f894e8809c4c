#include "core/train/trainer.h"

#include "core/config/experiment_schema.h"
#include "core/train/checkpoint.h"
#include "core/train/distributed.h"
#include "core/train/memory_estimate.h"
#include "core/train/optimizer.h"
#include "core/util/fault_injection.h"
#include "core/train/task_runner.h"
#include "core/train/thread_choice.h"
#include "core/util/environment.h"
#include "core/util/errors.h"

#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <thread>

namespace continua::core {
using nlohmann::json;
using Clock = std::chrono::steady_clock;

std::unique_ptr<TaskRunner> makeMclRunner(const json& config, torch::Device device);
std::unique_ptr<TaskRunner> makeIclRunner(const json& config, torch::Device device);

std::unique_ptr<TaskRunner> makeTaskRunner(const json& config, torch::Device device) {
  return config["task"]["family"] == "icl" ? makeIclRunner(config, device) : makeMclRunner(config, device);
}

json prepareExperiment(const json& user) {
  json config = withDefaults(user);
  auto issues = validateExperiment(config);
  if (!issues.empty()) throw ConfigError("invalid experiment configuration:\n" + formatIssues(issues));
  return config;
}

namespace {

double wallClock() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Learning rate at a step: linear warm-up, then constant, step decay or cosine to zero.
double learningRate(const json& o, int64_t step, int64_t total) {
  const double lr = o["lr"];
  const int64_t warm = o["warmup_steps"];
  if (warm > 0 && step <= warm) return lr * double(step) / double(warm);
  const std::string sched = o["schedule"];
  if (sched == "step") return lr * std::pow(o["gamma"].get<double>(), double((step - 1) / o["step_size"].get<int64_t>()));
  if (sched == "cosine") {
    const double t = double(step - warm) / double(std::max<int64_t>(1, total - warm));
    return lr * 0.5 * (1.0 + std::cos(M_PI * std::min(1.0, t)));
  }
  return lr;
}

void setLearningRate(torch::optim::Optimizer& opt, double lr) {
  for (auto& g : opt.param_groups()) g.options().set_lr(lr);
}

// Applies the run's intra-op thread count (core/train/thread_choice.h: the experiment's `threads`, or for 0 a
// choice by the training step's size) and returns it.
int applyThreadChoice(const json& config, TaskRunner& runner) {
  const ModelFacts f = runner.facts();
  const double stepFlops = trainingStepFlops(f.contextTokens, f.flopsPerToken, config["optim"]["batch_size"].get<int64_t>());
  const int threads = chooseThreadCount(config["threads"], stepFlops, usableCpus());
  setThreadCount(threads);
  return threads;
}

json environmentJson(const std::string& device, int64_t seed) {
  Environment e = currentEnvironment(device);
  return {{"continua", e.continuaVersion}, {"commit", e.gitCommit}, {"libtorch", e.torchVersion}, {"blas", e.blas},
          {"threads", e.threads}, {"cpu", e.cpuModel}, {"cpu_kernels", e.cpuKernels}, {"device", e.device}, {"seed", seed}};
}

torch::Tensor generatorState(at::Generator& g) {
  std::lock_guard<std::mutex> lock(g.mutex());
  return g.get_state();
}
void restoreGenerator(at::Generator& g, const torch::Tensor& s) {
  std::lock_guard<std::mutex> lock(g.mutex());
  g.set_state(s);
}

// Buffers metric points and writes them in one transaction at most every `interval` (one writer, batched).
class MetricWriter {
 public:
  MetricWriter(RunStore& store, TrainingObserver& obs, int64_t run) : m_store(store), m_obs(obs), m_run(run) {}
  void add(MetricPoint p) { m_pending.push_back(std::move(p)); }
  void maybeFlush() {
    if (Clock::now() - m_last > std::chrono::milliseconds(500)) flush();
  }
  void flush() {
    m_last = Clock::now();
    if (m_pending.empty()) return;
    m_store.logMetrics(m_run, m_pending);
    m_obs.onMetrics(m_run, m_pending);
    m_pending.clear();
  }

 private:
  RunStore& m_store;
  TrainingObserver& m_obs;
  int64_t m_run;
  std::vector<MetricPoint> m_pending;
  Clock::time_point m_last = Clock::now();
};

double peakResidentMegabytes() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_maxrss) / 1024.0;  // Linux reports kilobytes
}

// Size and cost of the model, logged once per session at the step it starts from, so a report can state them.
void logModelFacts(MetricWriter& writer, TaskRunner& runner, int64_t step) {
  int64_t parameters = 0;
  for (const auto& p : runner.module().parameters()) parameters += p.numel();
  const ModelFacts f = runner.facts();
  const double wall = wallClock();
  writer.add({"model/parameters", step, wall, double(parameters)});
  writer.add({"model/context_tokens", step, wall, double(f.contextTokens)});
  writer.add({"model/flops_per_token", step, wall, f.flopsPerToken});
}

// One optimisation step as every rank takes it: the step's learning rate, the gradients (summed over the ranks
// by computeGradients), clip, update. Nothing is updated when the loss is not finite (the caller ends the run).
struct StepTaken {
  StepOutcome outcome;
  double lr = 0, gradNorm = 0;
};

StepTaken takeStep(TaskRunner& runner, torch::optim::Optimizer& optimizer, torch::Generator& gen, int64_t step, const json& config,
                   ProcessGroup* group) {
  const int64_t total = config["optim"]["steps"], until = config["selectivity"]["until_step"];
  const double lambda = config["selectivity"]["lambda"];
  StepTaken t;
  t.lr = learningRate(config["optim"], step, total);
  setLearningRate(optimizer, t.lr);
  t.outcome = computeGradients(runner, optimizer, gen, step, (until == 0 || step < until) ? lambda : 0.0, config, group);
  if (!std::isfinite(t.outcome.loss)) return t;
  t.gradNorm = clipGradNorm(runner.module().parameters(), gradClipBound(config["optim"]));
  optimizer.step();
  return t;
}

// With W ranks the shards must be a multiple of W; a run that asked for none gets one shard per rank.
json shardedForRanks(json config, int ranks) {
  int64_t shards = config["optim"]["shards"];
  if (shards == 1) config["optim"]["shards"] = shards = ranks;
  if (shards % ranks != 0)
    throw ConfigError("optim.shards (" + std::to_string(shards) + ") must be a multiple of the number of ranks (" + std::to_string(ranks) +
                      "): each rank computes the same number of shards");
  return config;
}

}  // namespace

void Trainer::reportMigration(const RunStore& store) {
  if (!store.migrationBackup().empty())
    m_observer.onLog("upgraded " + store.path() + " to schema version " + std::to_string(kSchemaVersion) +
                     "; the file as it was is kept at " + store.migrationBackup());
}

Trainer::Trainer(std::string databasePath, TrainingObserver& observer)
    : m_databasePath(std::move(databasePath)), m_observer(observer) {}

TrainResult Trainer::run(const json& userConfig) {
  if (m_group && m_group->rank() > 0) return follow();
  json config = prepareExperiment(userConfig);
  if (m_group) config = shardedForRanks(config, m_group->size());
  RunStore store(m_databasePath);
  reportMigration(store);
  store.markInterruptedRuns();
  torch::manual_seed(config["seed"].get<uint64_t>());
  const torch::Device device(config["device"] == "cuda" ? torch::kCUDA : torch::kCPU);
  if (device.is_cuda() && !torch::cuda::is_available())
    throw ConfigError("device: 'cuda' was asked for but LibTorch sees no CUDA GPU (use device = cpu)");
  if (device.is_cpu()) requireFitsInMemory(config, availableMemoryBytes());
  auto probe = makeTaskRunner(config, device);  // fail on bad data before a run record exists
  applyThreadChoice(config, *probe);             // before the environment, which records the count
  json environment = environmentJson(config["device"], config["seed"]);
  environment["ranks"] = m_group ? m_group->size() : 1;
  const int64_t id = store.createRun(config["name"], config, probe->modelName(), probe->taskName(), environment,
                                     config["optim"]["steps"], config["sweep"]);
  probe.reset();
  m_observer.onRunCreated(id, store.path());
  return execute(store, id, config, false);
}

TrainResult Trainer::resume(int64_t runId) {
  if (m_group && m_group->rank() > 0) return follow();
  RunStore store(m_databasePath);
  reportMigration(store);
  store.markInterruptedRuns();
  auto rec = store.getRun(runId);
  if (!rec) throw StoreError("run " + std::to_string(runId) + " does not exist in " + m_databasePath);
  if (rec->status == "finished") throw StoreError("run " + std::to_string(runId) + " already finished");
  if (rec->status == "running") throw StoreError("run " + std::to_string(runId) + " is running in another process");
  m_observer.onRunCreated(runId, store.path());
  json config = prepareExperiment(rec->config);
  if (m_group) config = shardedForRanks(config, m_group->size());
  return execute(store, runId, config, true);
}

// Rank > 0: rank 0's configuration and starting point, then this rank's shards of every step until the
// last one or until rank 0 says stop. Nothing is written: no store, no checkpoint.
TrainResult Trainer::follow() {
  const std::string who = "rank " + std::to_string(m_group->rank()) + " of " + std::to_string(m_group->size());
  try {
    const json config = json::parse(m_group->fetch("config"));
    const json start = json::parse(m_group->fetch("start"));
    const uint64_t seed = config["seed"];
    torch::manual_seed(seed);  // the same initial weights as rank 0
    const torch::Device device(config["device"] == "cuda" ? torch::kCUDA : torch::kCPU);
    auto runner = makeTaskRunner(config, device);
    applyThreadChoice(config, *runner);
    auto optimizer = makeOptimizer(config["optim"], runner->module().parameters());
    int64_t done = start["step"];
    if (!start["checkpoint"].get<std::string>().empty()) {
      CheckpointState s = loadCheckpoint(start["checkpoint"].get<std::string>(), runner->module(), *optimizer, "");
      at::Generator defaultGen = at::detail::getDefaultCPUGenerator();
      restoreGenerator(defaultGen, s.defaultRng);
    }
    m_observer.onLog(who + ": following rank 0 from step " + std::to_string(done));
    auto gen = at::detail::createCPUGenerator(seed);  // unused when sharded; computeGradients wants one
    const int64_t total = config["optim"]["steps"];
    runner->module().train();
    for (int64_t step = done + 1; step <= total; ++step) {
      if (m_group->has("stop")) return {0, "cancelled", who + ": rank 0 ended the run at step " + std::to_string(done)};
      const StepTaken taken = takeStep(*runner, *optimizer, gen, step, config, m_group.get());
      if (!std::isfinite(taken.outcome.loss)) return {0, "diverged", who + ": the loss became non-finite at step " + std::to_string(step)};
      done = step;
    }
    return {0, "finished", who + ": trained its shards of steps " + std::to_string(start["step"].get<int64_t>() + 1) + "-" +
                               std::to_string(total)};
  } catch (const RankLost& e) {
    return {0, "interrupted", who + ": " + e.what()};
  }
}

TrainResult Trainer::execute(RunStore& store, int64_t runId, const json& config, bool resuming) {
  MetricWriter writer(store, m_observer, runId);
  auto finish = [&](const std::string& status, const std::string& message) {
    writer.flush();
    store.setStatus(runId, status, status == "finished" || status == "cancelled" ? "" : message);
    m_observer.onStatus(runId, status, message);
    return TrainResult{runId, status, message};
  };
  // Tells the other ranks that rank 0 is ending the run early (they check before each step).
  auto stopFollowers = [&] {
    try {
      if (m_group) m_group->publish("stop", "1");
    } catch (const std::exception&) {
    }
  };
  try {
    const uint64_t seed = config["seed"];
    torch::manual_seed(seed);
    const torch::Device device(config["device"] == "cuda" ? torch::kCUDA : torch::kCPU);
    auto runner = makeTaskRunner(config, device);
    applyThreadChoice(config, *runner);
    auto optimizer = makeOptimizer(config["optim"], runner->module().parameters());
    auto gen = at::detail::createCPUGenerator(seed);
    at::Generator defaultGen = at::detail::getDefaultCPUGenerator();
    const int64_t total = config["optim"]["steps"], evalEvery = config["eval"]["every"], ckptEvery = config["checkpoint"]["every"];
    int64_t done = 0, lastCheckpoint = 0;
    std::string resumedFrom;  // the checkpoint the other ranks load too (a path every node sees)
    if (resuming) {
      // The newest checkpoint whose file is intact (SHA-256 as recorded); a damaged one is reported and skipped.
      auto cps = store.checkpoints(runId);
      bool loaded = cps.empty();
      for (auto it = cps.rbegin(); it != cps.rend() && !loaded; ++it) {
        try {
          CheckpointState s = loadCheckpoint(it->path, runner->module(), *optimizer, it->sha256);
          restoreGenerator(gen, s.episodeRng);
          restoreGenerator(defaultGen, s.defaultRng);
          done = lastCheckpoint = s.step;
          resumedFrom = it->path;
          loaded = true;
        } catch (const DataError& e) {
          m_observer.onLog(std::string(e.what()) + "; trying the one before");
        }
      }
      if (!loaded) throw DataError("run " + std::to_string(runId) + ": none of its " + std::to_string(cps.size()) +
                                   " checkpoints can be loaded (see the log); it cannot be resumed");
      store.truncateAfter(runId, done);
      store.setStatus(runId, "running");
      m_observer.onLog("resuming run " + std::to_string(runId) + " from step " + std::to_string(done));
    }
    m_observer.onLog(runner->summary());
    logModelFacts(writer, *runner, done);
    if (m_group) {
      m_group->publish("config", config.dump());
      m_group->publish("start", json{{"step", done}, {"checkpoint", resumedFrom}}.dump());
    }
    m_observer.onStatus(runId, "running", "");
    auto checkpoint = [&](int64_t step) {
      const std::string path = store.checkpointDirectory(runId) + "/step-" + std::to_string(step) + ".pt";
      const std::string hash = saveCheckpoint(path, runner->module(), *optimizer,
                                              {step, generatorState(gen), generatorState(defaultGen)});
      writer.flush();  // metrics up to the checkpoint are in the database before it is recorded
      store.addCheckpoint(runId, {step, path, hash});
      lastCheckpoint = step;
    };
    const auto started = Clock::now();
    const int64_t startStep = done;
    double trainingSeconds = 0;  // optimisation steps only: what episodes/s measures (evaluations excluded)
    runner->module().train();
    for (int64_t step = done + 1; step <= total; ++step) {
      while (m_paused && !m_cancel) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      if (m_cancel) {
        if (done > lastCheckpoint) checkpoint(done);
        stopFollowers();
        return finish("cancelled", "cancelled at step " + std::to_string(done) + "; resumable from step " + std::to_string(lastCheckpoint));
      }
      const auto stepStarted = Clock::now();
      StepTaken taken;
      try {
        taken = takeStep(*runner, *optimizer, gen, step, config, m_group.get());
      } catch (const RankLost& e) {  // the parameters are those of step `done`: the failed step changed nothing
        if (done > lastCheckpoint) checkpoint(done);
        return finish("interrupted", std::string(e.what()) + "; resumable from step " + std::to_string(lastCheckpoint) +
                                         " (continua-cli resume " + std::to_string(runId) + ", with any number of ranks dividing optim.shards)");
      }
      const double value = taken.outcome.loss;
      if (!std::isfinite(value)) {
        stopFollowers();
        return finish("diverged", "loss became " + std::to_string(value) + " at step " + std::to_string(step) +
                                      "; last good checkpoint: step " + std::to_string(lastCheckpoint));
      }
      trainingSeconds += std::chrono::duration<double>(Clock::now() - stepStarted).count();
      faultPoint("step");
      done = step;
      const double wall = wallClock();
      for (const auto& [k, v] : taken.outcome.metrics) writer.add({k, step, wall, v});
      writer.add({"train/lr", step, wall, taken.lr});
      writer.add({"train/grad_norm", step, wall, taken.gradNorm});
      if (step % evalEvery == 0 || step == total) {
        std::vector<MetricPoint> m;
        std::vector<CurvePoint> c;
        runner->evaluate(step, m, c);
        for (auto& p : m) { p.wallTime = wall; writer.add(p); }
        store.addCurve(runId, c);
        faultPoint("maps");
        store.addMaps(runId, runner->probeMaps(step));
      }
      if (step % ckptEvery == 0 || step == total) checkpoint(step);
      writer.maybeFlush();
      const double elapsed = std::chrono::duration<double>(Clock::now() - started).count();
      const double rate = double(step - startStep) / std::max(elapsed, 1e-9);
      m_observer.onProgress({step, total, elapsed, double(total - step) / std::max(rate, 1e-9), value});
    }
    const double episodes = double(total - startStep) * config["optim"]["batch_size"].get<double>() * config["optim"]["shards"].get<double>();
    if (trainingSeconds > 0) writer.add({"perf/episodes_per_s", total, wallClock(), episodes / trainingSeconds});
    writer.add({"perf/peak_rss_mb", total, wallClock(), peakResidentMegabytes()});
    writer.flush();
    m_observer.onLog("final sweeps (length generalisation, noise, domain shift)...");
    faultPoint("final-sweeps");
    std::vector<MetricPoint> finalMetrics;
    std::vector<CurvePoint> finalCurves;
    runner->finalSweeps(total, finalMetrics, finalCurves);
    for (auto& p : finalMetrics) { p.wallTime = wallClock(); writer.add(p); }
    writer.flush();
    store.addCurve(runId, finalCurves);
    return finish("finished", "");
  } catch (const c10::Error& e) {
    stopFollowers();
    return finish("failed", e.what_without_backtrace());  // LibTorch's message, not its stack frames
  } catch (const std::exception& e) {
    stopFollowers();
    return finish("failed", e.what());
  }
}

}  // namespace continua::core
