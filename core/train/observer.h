#pragma once
// How the engine reports outward: progress, metrics, log lines and status go through this interface only
// (no Qt signals, no globals). The CLI prints them; the workbench's EngineBridge turns them into queued
// signals. Calls come from the training thread.
#include "core/store/run_store.h"

#include <string>
#include <vector>

namespace continua::core {

struct Progress {
  int64_t step = 0, totalSteps = 0;
  double elapsedSeconds = 0, etaSeconds = 0;
  double lastLoss = 0;
};

class TrainingObserver {
 public:
  virtual ~TrainingObserver() = default;
  virtual void onRunCreated(int64_t /*runId*/, const std::string& /*databasePath*/) {}
  virtual void onProgress(const Progress&) {}
  virtual void onMetrics(int64_t /*runId*/, const std::vector<MetricPoint>&) {}
  virtual void onLog(const std::string& /*line*/) {}
  virtual void onStatus(int64_t /*runId*/, const std::string& /*status*/, const std::string& /*message*/) {}
};

}  // namespace continua::core
