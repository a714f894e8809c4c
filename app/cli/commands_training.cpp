// `run` and `resume`: train an experiment into the store; Ctrl-C or SIGTERM checkpoints and cancels.
#include "app/cli/cli_common.h"
#include "app/cli/cli_observer.h"
#include "app/cli/commands.h"
#include "core/config/experiment_schema.h"
#include "core/config/experiment_text.h"
#include "core/train/distributed.h"
#include "core/train/trainer.h"
#include "core/util/errors.h"

#include <csignal>
#include <iostream>
#include <chrono>
#include <memory>

namespace continua::app {
using nlohmann::json;

namespace {

core::Trainer* g_activeTrainer = nullptr;  // a signal handler can reach nothing else
void onInterrupt(int) {
  if (g_activeTrainer) g_activeTrainer->cancel();  // the loop checkpoints and marks the run cancelled
}

int exitCodeOf(const std::string& status) {
  return status == "finished" ? kExitOk : status == "cancelled" ? kExitCancelled : kExitFailure;
}

// --distributed: join the process group named by the environment (torchrun's variables or Slurm's).
struct DistributedOptions {
  bool enabled = false;
  int timeoutSeconds = 300;

  void add(CLI::App* cmd) {
    cmd->add_flag("--distributed", enabled,
                  "Data-parallel over c10d (Gloo): rendezvous from MASTER_ADDR/MASTER_PORT/RANK/WORLD_SIZE or SLURM_PROCID/"
                  "SLURM_NTASKS/SLURM_NODELIST; rank 0 writes the store (docs/SCALE.md)");
    cmd->add_option("--rank-timeout", timeoutSeconds, "Seconds a rank waits for the others before the run ends as interrupted (default 300)")
        ->check(CLI::PositiveNumber);
  }
  std::shared_ptr<core::ProcessGroup> join() const {
    if (!enabled) return nullptr;
    const core::Rendezvous where = core::rendezvousFromEnvironment();
    std::cout << "rank " << where.rank << " of " << where.worldSize << " joining " << where.masterAddress << ":" << where.port
              << " (from the " << where.source << ")\n" << std::flush;
    return std::make_shared<core::ProcessGroup>(where, std::chrono::seconds(timeoutSeconds));
  }
};

// Trains with the signal handlers installed, then prints the run's summary (rank 0 or alone).
template <typename Train>
int trainWithSignals(const std::string& db, const DistributedOptions& distributed, Train train) {
  CliObserver obs;
  core::Trainer trainer(databasePath(db), obs);
  const auto group = distributed.join();
  trainer.setProcessGroup(group);
  g_activeTrainer = &trainer;
  std::signal(SIGINT, onInterrupt);
  std::signal(SIGTERM, onInterrupt);  // a job scheduler's stop checkpoints and marks the run cancelled
  core::TrainResult r = train(trainer);
  g_activeTrainer = nullptr;
  if (group && group->rank() > 0) {  // a follower stores nothing; its line says how it ended
    std::cout << r.status << ": " << r.message << "\n";
    return exitCodeOf(r.status);
  }
  printRunSummary(core::RunStore(databasePath(db), true), r.runId);
  return exitCodeOf(r.status);
}

struct RunCommand {
  std::string db, configFile, preset, device;
  std::vector<std::string> sets;
  int threads = 0;
  DistributedOptions distributed;

  json experiment() const {
    json config;
    if (!preset.empty()) config = core::presetExperiment(preset);
    else if (!configFile.empty()) config = core::readExperimentFile(configFile);
    else throw core::ConfigError("give an experiment file or --preset NAME (see `continua-cli presets`)");
    config = core::withDefaults(config);
    for (const auto& s : sets) core::applyOverride(config, s);
    if (!device.empty()) config["device"] = device;
    if (threads > 0) config["threads"] = threads;
    return config;
  }

  void run() const {
    try {
      const json config = experiment();
      setExitCode(trainWithSignals(db, distributed, [&](core::Trainer& t) { return t.run(config); }));
    } catch (const core::ConfigError& e) {
      std::cerr << "continua-cli run: " << e.what() << "\n";
      setExitCode(kExitUsage);
    } catch (const core::DataError& e) {  // the experiment names data it cannot read: bad input, no run made
      std::cerr << "continua-cli run: " << e.what() << "\n";
      setExitCode(kExitUsage);
    }
  }
};

struct ResumeCommand {
  std::string db;
  int64_t id = 0;
  DistributedOptions distributed;
  void run() const { setExitCode(trainWithSignals(db, distributed, [&](core::Trainer& t) { return t.resume(id); })); }
};

}  // namespace

void registerTrainingCommands(CLI::App& app) {
  auto run = std::make_shared<RunCommand>();
  auto* cmd = app.add_subcommand("run", "Meta-train an experiment (config file or --preset) and store the run");
  cmd->add_option("config", run->configFile, "Experiment JSON file");
  cmd->add_option("--preset", run->preset, "Named preset (see `presets`)");
  cmd->add_option("--set", run->sets, "Override a field: key=value (repeatable)");
  cmd->add_option("--device", run->device, "cpu or cuda");
  cmd->add_option("--threads", run->threads, "Intra-op CPU threads (default: the experiment's `threads`, whose 0 chooses by the training step's size)");
  run->distributed.add(cmd);
  addDatabaseOption(cmd, run->db);
  cmd->callback([run] { run->run(); });

  auto resume = std::make_shared<ResumeCommand>();
  cmd = app.add_subcommand("resume", "Continue an interrupted or cancelled run from its last checkpoint");
  cmd->add_option("id", resume->id, "Run id")->required();
  resume->distributed.add(cmd);
  addDatabaseOption(cmd, resume->db);
  cmd->callback([resume] { resume->run(); });
}

}  // namespace continua::app
