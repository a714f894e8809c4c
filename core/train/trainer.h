#pragma once
// Runs an experiment: builds the task runner and optimizer, meta-trains with periodic evaluation and
// checkpoints, runs the final sweeps, and records everything in the run store. Resume continues a run from
// its last checkpoint and produces the losses an uninterrupted run would have produced (same RNG streams).
// cancel()/pause() may be called from any thread; the loop checks them between steps.
#include "core/store/run_store.h"
#include "core/train/observer.h"

#include <nlohmann/json.hpp>

#include <atomic>
#include <memory>
#include <string>

namespace continua::core {

class ProcessGroup;

struct TrainResult {
  int64_t runId = 0;
  std::string status;  // finished | cancelled | diverged | failed
  std::string message;
};

class Trainer {
 public:
  Trainer(std::string databasePath, TrainingObserver& observer);

  // config: a full experiment document (validated here; ConfigError lists every problem).
  TrainResult run(const nlohmann::json& config);
  TrainResult resume(int64_t runId);

  // Data-parallel training (core/train/distributed.h): rank 0 trains, evaluates and writes the store as
  // alone; the other ranks, given the group, only compute their shards' gradients (run/resume on them
  // follow rank 0: its configuration and starting checkpoint come through the group's store).
  void setProcessGroup(std::shared_ptr<ProcessGroup> group) { m_group = std::move(group); }

  void cancel() { m_cancel = true; }
  void setPaused(bool paused) { m_paused = paused; }
  bool paused() const { return m_paused; }

 private:
  TrainResult execute(RunStore& store, int64_t runId, const nlohmann::json& config, bool resuming);
  TrainResult follow();  // a rank > 0
  void reportMigration(const RunStore& store);  // tells the observer where an older database was kept
  std::string m_databasePath;
  TrainingObserver& m_observer;
  std::atomic<bool> m_cancel{false}, m_paused{false};
  std::shared_ptr<ProcessGroup> m_group;
};

// Validated, defaults-filled config or ConfigError listing every problem.
nlohmann::json prepareExperiment(const nlohmann::json& userConfig);

}  // namespace continua::core
