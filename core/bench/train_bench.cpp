// `continua-cli bench train`: for each model family on the same MCL episode shape, meta-training throughput
// (episodes/s) and peak memory, and meta-test memory as the stream grows (streaming state bytes and peak RSS
// after consuming L tokens one at a time). Memory is measured, never estimated: every cell runs in a forked
// child and the parent reads the child's peak resident set (getrusage via wait4); the streaming state is the
// bytes of the tensors the model actually holds.
#include "core/bench/bench.h"
#include "core/bench/rank_scaling.h"
#include "core/bench/timing.h"
#include "core/config/experiment_schema.h"
#include "core/train/optimizer.h"
#include "core/train/task_runner.h"
#include "core/util/environment.h"
#include "core/util/table.h"

#include <nlohmann/json.hpp>
#include <sys/resource.h>
#include <sys/wait.h>
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>

namespace continua::core {
using nlohmann::json;

namespace {

struct ChildResult {
  double value = 0;     // what the child measured (episodes/s or state bytes)
  double peakMiB = 0;   // the child's peak resident set
  bool ok = false;
};

// Runs work() in a forked child; it writes one double through a pipe.
ChildResult inChild(const std::function<double()>& work) {
  int fds[2];
  if (pipe(fds) != 0) return {};
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    double v = -1;
    try { v = work(); } catch (...) {}
    if (write(fds[1], &v, sizeof v) != sizeof v) _exit(2);
    _exit(0);
  }
  close(fds[1]);
  double v = -1;
  const bool got = read(fds[0], &v, sizeof v) == sizeof v;
  close(fds[0]);
  int status = 0;
  struct rusage ru;
  std::memset(&ru, 0, sizeof ru);
  wait4(pid, &status, 0, &ru);
  return {v, ru.ru_maxrss / 1024.0, got && v >= 0};
}

std::string fmt(double v, int p = 1) { return formatFixed(v, p); }

}  // namespace

namespace {

// One cell of the table, measured once per round. With several rounds a cell reports the median over its rounds,
// and a ratio between two cells is taken within each round (the two ran minutes apart at most) before its median.
struct TrainCell {
  std::string model;
  int64_t tasks = 0;
  int threads = 1;
  double lambda = 0;
  int64_t params = 0;
  std::vector<ChildResult> rounds;  // failed rounds are left out

  bool ok() const { return !rounds.empty(); }
  double episodesPerS() const { return medianOver([](const ChildResult& r) { return r.value; }); }
  double peakMiB() const { return medianOver([](const ChildResult& r) { return r.peakMiB; }); }
  template <typename F>
  double medianOver(F f) const {
    std::vector<double> v;
    for (const auto& r : rounds) v.push_back(f(r));
    return medianOf(v);
  }
};

// Per-round ratios a / b of two cells' values (rounds both measured), their median and range as text.
std::string ratioText(const TrainCell& a, const TrainCell& b, double (*value)(const ChildResult&, double),
                      double baseline) {
  std::vector<double> r;
  for (size_t i = 0; i < std::min(a.rounds.size(), b.rounds.size()); ++i)
    r.push_back(value(a.rounds[i], baseline) / std::max(1e-9, value(b.rounds[i], baseline)));
  if (r.empty()) return "-";
  const auto [lo, hi] = std::minmax_element(r.begin(), r.end());
  std::string text = fmt(medianOf(r), 2);
  if (r.size() > 1) text += " (" + fmt(*lo, 2) + "-" + fmt(*hi, 2) + ")";
  return text;
}
double throughputOf(const ChildResult& r, double) { return r.value; }
double memoryOf(const ChildResult& r, double baseline) { return r.peakMiB - baseline; }
double stepTimeOf(const ChildResult& r, double) { return 1.0 / std::max(1e-9, r.value); }

// Meta-training episodes/s of one model at one shape, in a forked child (which also gives its peak RSS).
ChildResult measureTraining(const TrainBenchOptions& o, const std::string& family, int64_t tasks, int threads, double lambda) {
  return inChild([&] {
    setThreadCount(threads);
    json c = withDefaults(benchConfig(family, tasks));
    c["optim"]["batch_size"] = o.batch;
    torch::manual_seed(0);
    auto runner = makeTaskRunner(c, torch::kCPU);
    // The trainer's step (core/train/trainer.cpp): its optimiser and its gradient clipping.
    auto opt = makeOptimizer(c["optim"], runner->module().parameters());
    const double clip = gradClipBound(c["optim"]);
    auto gen = at::detail::createCPUGenerator(0);
    auto stepOnce = [&](int64_t s) {
      TrainLoss l = runner->trainLoss(s, gen, lambda);
      opt->zero_grad();
      l.total.backward();
      clipGradNorm(runner->module().parameters(), clip);
      opt->step();
    };
    // Each step timed on its own (after a warm-up step) and the median kept: one preempted step on a shared
    // machine moves a mean, not it.
    int64_t step = 1;
    return double(o.batch) / (medianMs([&] { stepOnce(step++); }, o.steps, false) * 1e-3);
  });
}

int64_t parameterCount(const std::string& family, int64_t tasks) {
  torch::manual_seed(0);
  auto runner = makeTaskRunner(withDefaults(benchConfig(family, tasks)), torch::kCPU);
  int64_t n = 0;
  for (const auto& p : runner->module().parameters()) n += p.numel();
  return n;
}

// Every cell once per round, round after round, so a slow spell of a shared machine falls on one round of
// every cell rather than on every round of some.
std::vector<TrainCell> measureCells(const TrainBenchOptions& o, const std::vector<std::string>& families) {
  std::vector<TrainCell> cells;
  for (int threads : o.threads)
    for (int64_t tasks : o.tasks)
      for (const auto& f : families)
        for (double lambda : o.selectivity ? std::vector<double>{0.0, 1.0} : std::vector<double>{0.0})
          cells.push_back({f, tasks, threads, lambda, parameterCount(f, tasks), {}});
  for (int round = 0; round < std::max(1, o.rounds); ++round)
    for (auto& c : cells) {
      ChildResult r = measureTraining(o, c.model, c.tasks, c.threads, c.lambda);
      if (r.ok) c.rounds.push_back(r);
    }
  return cells;
}

const TrainCell* find(const std::vector<TrainCell>& cells, const std::string& model, int64_t tasks, int threads, double lambda) {
  for (const auto& c : cells)
    if (c.model == model && c.tasks == tasks && c.threads == threads && c.lambda == lambda && c.ok()) return &c;
  return nullptr;
}

void printStreaming(const TrainBenchOptions& o, const ChildResult& baseline, std::ostream& out, json& results) {
  out << "\nMeta-test streaming (one token at a time, batch 1): state held by the model and peak RSS over baseline\n";
  TextTable stream({"model", "stream tokens", "state bytes", "peak RSS MiB"});
  for (const auto& f : std::vector<std::string>{"mamba", "transformer", "linear-transformer", "s4"}) {
    for (int64_t L : o.quick ? std::vector<int64_t>{64, 256} : std::vector<int64_t>{256, 1024, 4096}) {
      ChildResult r = inChild([&] {
        torch::NoGradGuard g;
        ModelConfig mc = ModelConfig::fromExperiment(withDefaults(benchConfig(f, 10)));
        mc.heads = 4;
        auto model = makeSequenceModel(mc);
        model->eval();
        ModelState s = model->initialState(1, torch::TensorOptions());
        for (int64_t t = 0; t < L; ++t) model->step(torch::randn({1, mc.dModel}), s);
        return double(s.bytes());
      });
      stream.addRow({f, std::to_string(L), r.ok ? std::to_string(int64_t(r.value)) : "failed", fmt(r.peakMiB - baseline.peakMiB)});
      results["stream"].push_back({{"model", f}, {"tokens", L}, {"state_bytes", r.value}, {"peak_rss_mib_over_baseline", r.peakMiB - baseline.peakMiB}});
    }
  }
  stream.print(out);
}

// The trainer's update (its gradient clipping, then Adam) on one model's parameters: LibTorch's operations
// against the one-loop versions of core/train/optimizer.h, in blocks alternated within one process so a slow
// spell of a shared machine falls on both. Both optimisers step the same parameters; only the time is kept.
struct UpdateTimes {
  int64_t tensors = 0;
  double libtorchUs = 0, fusedUs = 0;
};

UpdateTimes measureUpdate(const std::string& family, int64_t tasks) {
  torch::manual_seed(0);
  const json c = withDefaults(benchConfig(family, tasks));
  auto runner = makeTaskRunner(c, torch::kCPU);
  std::vector<torch::Tensor> params = runner->module().parameters();
  for (auto& p : params) p.mutable_grad() = torch::randn_like(p) * 1e-2;
  const double clip = gradClipBound(c["optim"]);
  torch::optim::Adam plain(params, torch::optim::AdamOptions(1e-6));
  FusedAdam fused(params, torch::optim::AdamOptions(1e-6));
  std::vector<double> plainUs, fusedUs;
  for (int block = 0; block < 9; ++block) {
    plainUs.push_back(1e3 * medianMs([&] { torch::nn::utils::clip_grad_norm_(params, clip); plain.step(); }, 25, false));
    fusedUs.push_back(1e3 * medianMs([&] { clipGradNorm(params, clip); fused.step(); }, 25, false));
  }
  return {int64_t(params.size()), medianOf(plainUs), medianOf(fusedUs)};
}

void printUpdates(const TrainBenchOptions& o, const std::vector<std::string>& families, std::ostream& out, json& results) {
  out << "\nOptimiser update (the trainer's gradient clipping + Adam), " << o.threads.front() << " thread(s), " << o.tasks.front()
      << " tasks: LibTorch's operations against one loop per parameter (core/train/optimizer.h), medians\n";
  TextTable t({"model", "parameter tensors", "LibTorch us", "fused us", "LibTorch / fused"});
  for (const auto& f : families) {
    const UpdateTimes u = measureUpdate(f, o.tasks.front());
    t.addRow({f, std::to_string(u.tensors), fmt(u.libtorchUs, 0), fmt(u.fusedUs, 0), fmt(u.libtorchUs / u.fusedUs, 1) + "x"});
    results["update"].push_back({{"model", f}, {"tensors", u.tensors}, {"libtorch_us", u.libtorchUs}, {"fused_us", u.fusedUs}});
  }
  t.print(out);
}

// What more threads buy: each cell's episodes/s over the same cell at the first thread count, taken within each
// round (the two ran minutes apart at most). core/train/thread_choice.h sets the default thread count from this.
void printThreadGains(const TrainBenchOptions& o, const std::vector<TrainCell>& cells, std::ostream& out) {
  if (o.threads.size() < 2) return;
  TextTable gains({"model", "lambda", "tasks", "threads", "episodes/s vs " + std::to_string(o.threads.front()) + " thread(s)"});
  for (const auto& base : cells) {
    if (base.threads != o.threads.front() || !base.ok()) continue;
    for (size_t i = 1; i < o.threads.size(); ++i)
      if (const TrainCell* more = find(cells, base.model, base.tasks, o.threads[i], base.lambda))
        gains.addRow({base.model, fmt(base.lambda, 0), std::to_string(base.tasks), std::to_string(o.threads[i]),
                      ratioText(*more, base, throughputOf, 0)});
  }
  out << "\n";
  gains.print(out);
}

}  // namespace

json benchConfig(const std::string& family, int64_t tasks) {
  json c = presetExperiment("quickstart");
  c["model"]["family"] = family;
  // Sinusoidal positions for every attention model, so no learned position table skews the parameter counts.
  c["model"]["positional"] = family == "s4" || family == "s4-mamba" || family.rfind("mamba", 0) == 0 ? "auto" : "sinusoidal";
  c["episode"]["tasks"] = tasks;
  c["episode"]["curriculum_start_tasks"] = 0;
  c["eval_episode"]["tasks"] = tasks;
  c["task"]["label_vocab"] = tasks;
  c["model"]["heads"] = 4;
  return c;
}

int runTrainBenchmark(const TrainBenchOptions& o, std::ostream& out) {
  setThreadCount(o.threads.front());
  Environment env = currentEnvironment("cpu");
  out << "bench train: " << describe(env) << "\n";
  out << "episode: tasks x 5 shots (+2 queries per class), joint tokens, batch " << o.batch
      << ", d_model 64, 2 layers; each cell in a forked child, peak RSS over a forked baseline";
  if (o.rounds > 1)
    out << "; " << o.rounds << " rounds of every cell, medians, ratios taken within a round (median, range)";
  out << "\n\n";
  std::vector<std::string> families = o.models;
  if (families.empty())
    families = {"mamba", "transformer", "linear-transformer", "performer", "s4", "s4-mamba", "hybrid", "mambaformer", "mamba-moe"};
  if (o.quick && o.models.empty()) families = {"mamba", "transformer"};
  json results = {{"train", json::array()}, {"stream", json::array()}};
  const ChildResult baseline = inChild([] { return 0.0; });
  measureTraining(o, families.front(), o.tasks.front(), o.threads.front(), 0.0);  // discarded: the first cell ran slow
  const std::vector<TrainCell> cells = measureCells(o, families);
  TextTable train({"tasks", "threads", "model", "lambda", "params", "episodes/s", "peak RSS MiB"});
  for (const auto& c : cells) {
    const double rss = c.peakMiB() - baseline.peakMiB;
    train.addRow({std::to_string(c.tasks), std::to_string(c.threads), c.model, fmt(c.lambda, 0), std::to_string(c.params),
                  c.ok() ? fmt(c.episodesPerS(), 1) : "failed", fmt(rss)});
    json perRound = json::array();
    for (const auto& r : c.rounds) perRound.push_back(r.value);
    results["train"].push_back({{"model", c.model}, {"tasks", c.tasks}, {"threads", c.threads}, {"lambda", c.lambda},
                                {"params", c.params}, {"episodes_per_s", c.episodesPerS()},
                                {"episodes_per_s_per_round", perRound}, {"peak_rss_mib_over_baseline", rss}});
  }
  train.print(out);
  // The comparison the papers make: Mamba against the Transformer, and the regulariser's cost, side by side.
  TextTable ratio({"tasks", "threads", "mamba / transformer episodes/s", "mamba / transformer peak RSS", "mamba step with lambda / without"});
  bool any = false;
  for (int threads : o.threads)
    for (int64_t tasks : o.tasks) {
      const TrainCell* m = find(cells, "mamba", tasks, threads, 0.0);
      const TrainCell* t = find(cells, "transformer", tasks, threads, 0.0);
      const TrainCell* ml = find(cells, "mamba", tasks, threads, 1.0);
      if (!m || !t) continue;
      any = true;
      ratio.addRow({std::to_string(tasks), std::to_string(threads), ratioText(*m, *t, throughputOf, 0),
                    ratioText(*m, *t, memoryOf, baseline.peakMiB), ml ? ratioText(*ml, *m, stepTimeOf, 0) : "-"});
    }
  if (any) {
    out << "\n";
    ratio.print(out);
  }
  printThreadGains(o, cells, out);
  if (!o.quick) printUpdates(o, families, out, results);
  if (!o.ranks.empty()) printRankScaling(o, families, out, results);
  if (o.stream) printStreaming(o, baseline, out, results);
  if (!o.jsonPath.empty()) {
    results["environment"] = {{"commit", env.gitCommit}, {"blas", env.blas}, {"threads", o.threads}, {"cpu", env.cpuModel}};
    std::ofstream(o.jsonPath) << results.dump(2) << "\n";
    out << "JSON written to " << o.jsonPath << "\n";
  }
  return 0;
}

}  // namespace continua::core
