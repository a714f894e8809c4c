#include "core/bench/rank_scaling.h"

#include "core/bench/timing.h"

#include "core/config/experiment_schema.h"
#include "core/train/distributed.h"
#include "core/train/optimizer.h"
#include "core/train/task_runner.h"
#include "core/util/environment.h"
#include "core/util/table.h"

#include <sys/wait.h>
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

namespace continua::core {
using nlohmann::json;

namespace {

// One rank's part: median step seconds over `steps` timed steps (after one warm-up step).
double rankMedianStep(const TrainBenchOptions& o, const json& experiment, const Rendezvous& where, int threads) {
  setThreadCount(threads);
  ProcessGroup group(where, std::chrono::seconds(120));
  torch::manual_seed(0);
  auto runner = makeTaskRunner(experiment, torch::kCPU);
  auto opt = makeOptimizer(experiment["optim"], runner->module().parameters());
  auto unused = at::detail::createCPUGenerator(0);  // sharded steps draw from their own streams
  auto stepOnce = [&](int64_t step) {  // the step `run --distributed` takes (computeGradients), then the update
    computeGradients(*runner, *opt, unused, step, 0.0, experiment, &group);
    opt->step();
  };
  int64_t step = 1;
  return medianMs([&] { stepOnce(step++); }, o.steps, false) * 1e-3;
}

// Global episodes/s with `ranks` forked processes (rank 0 reports through a pipe); 0 when a rank failed.
double measureRanks(const TrainBenchOptions& o, const json& experiment, int ranks, int threads, int port) {
  int fds[2];
  if (pipe(fds) != 0) return 0;
  std::vector<pid_t> pids;
  for (int r = 0; r < ranks; ++r) {
    const pid_t pid = fork();
    if (pid == 0) {
      close(fds[0]);
      double v = -1;
      try {
        v = rankMedianStep(o, experiment, {"127.0.0.1", port, r, ranks, "bench"}, threads);
      } catch (...) {
      }
      if (r == 0 && write(fds[1], &v, sizeof v) != sizeof v) _exit(2);
      _exit(v > 0 ? 0 : 1);
    }
    pids.push_back(pid);
  }
  close(fds[1]);
  double median = -1;
  const bool got = read(fds[0], &median, sizeof median) == sizeof median;
  close(fds[0]);
  bool ok = got && median > 0;
  for (pid_t pid : pids) {
    int status = 0;
    waitpid(pid, &status, 0);
    ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }
  return ok ? double(o.batch) * ranks / median : 0;
}

}  // namespace

void printRankScaling(const TrainBenchOptions& o, const std::vector<std::string>& families, std::ostream& out, json& results) {
  const int threads = o.threads.front();
  out << "\ndata-parallel scaling (Gloo on loopback, " << threads << " intra-op thread(s) per rank, one shard of " << o.batch
      << " episodes per rank per step, " << o.tasks.front() << " tasks)\n";
  TextTable t({"model", "ranks", "threads/rank", "episodes/s (all ranks)", "scaling efficiency"});
  results["ranks"] = json::array();
  int port = 29400 + int(getpid() % 500);
  for (const auto& family : families) {
    json experiment = withDefaults(benchConfig(family, o.tasks.front()));
    experiment["optim"]["batch_size"] = o.batch;
    double single = 0;
    for (int ranks : o.ranks) {
      experiment["optim"]["shards"] = ranks;  // one shard per rank
      const double rate = measureRanks(o, experiment, ranks, threads, port++);
      if (ranks == 1) single = rate;
      const std::string efficiency = single > 0 && rate > 0 ? formatFixed(rate / (ranks * single), 2) : "-";
      t.addRow({family, std::to_string(ranks), std::to_string(threads), rate > 0 ? formatFixed(rate, 1) : "failed", efficiency});
      results["ranks"].push_back({{"model", family}, {"ranks", ranks}, {"threads_per_rank", threads}, {"episodes_per_s", rate}});
    }
  }
  t.print(out);
}

}  // namespace continua::core
