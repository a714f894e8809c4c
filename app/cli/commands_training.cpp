// `run` and `resume`: train an experiment into the store; Ctrl-C or SIGTERM checkpoints and cancels.
#include "app/cli/cli_common.h"
#include "app/cli/cli_observer.h"
#include "app/cli/commands.h"
#include "core/config/experiment_schema.h"
#include "core/config/experiment_text.h"
#include "core/train/trainer.h"
#include "core/util/errors.h"

#include <csignal>
#include <iostream>
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

// Trains with the signal handlers installed, then prints the run's summary.
template <typename Train>
int trainWithSignals(const std::string& db, Train train) {
  CliObserver obs;
  core::Trainer trainer(databasePath(db), obs);
  g_activeTrainer = &trainer;
  std::signal(SIGINT, onInterrupt);
  std::signal(SIGTERM, onInterrupt);  // a job scheduler's stop checkpoints and marks the run cancelled
  core::TrainResult r = train(trainer);
  g_activeTrainer = nullptr;
  printRunSummary(core::RunStore(databasePath(db), true), r.runId);
  return exitCodeOf(r.status);
}

struct RunCommand {
  std::string db, configFile, preset, device;
  std::vector<std::string> sets;
  int threads = 0;

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
      setExitCode(trainWithSignals(db, [&](core::Trainer& t) { return t.run(config); }));
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
  void run() const { setExitCode(trainWithSignals(db, [&](core::Trainer& t) { return t.resume(id); })); }
};

}  // namespace

void registerTrainingCommands(CLI::App& app) {
  auto run = std::make_shared<RunCommand>();
  auto* cmd = app.add_subcommand("run", "Meta-train an experiment (config file or --preset) and store the run");
  cmd->add_option("config", run->configFile, "Experiment JSON file");
  cmd->add_option("--preset", run->preset, "Named preset (see `presets`)");
  cmd->add_option("--set", run->sets, "Override a field: key=value (repeatable)");
  cmd->add_option("--device", run->device, "cpu or cuda");
  cmd->add_option("--threads", run->threads, "Intra-op CPU threads");
  addDatabaseOption(cmd, run->db);
  cmd->callback([run] { run->run(); });

  auto resume = std::make_shared<ResumeCommand>();
  cmd = app.add_subcommand("resume", "Continue an interrupted or cancelled run from its last checkpoint");
  cmd->add_option("id", resume->id, "Run id")->required();
  addDatabaseOption(cmd, resume->db);
  cmd->callback([resume] { resume->run(); });
}

}  // namespace continua::app
