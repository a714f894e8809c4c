#pragma once
// Running a sweep (core/config/sweep.h): each run is its own `continua-cli run` process on a complete
// experiment file written beside the database, so a run that crashes takes nothing else down, and the same
// files serve a Slurm job array (one array task per file, each writing its own database, merged afterwards
// with `continua-cli import`).
#include "core/config/sweep.h"

#include <atomic>
#include <functional>
#include <string>
#include <vector>

namespace continua::core {

// <folder>/point-<i>.json, one per sweep point, in order; returns their paths. The folder is created.
std::vector<std::string> writeSweepPoints(const Sweep& sweep, const std::string& folder);

struct LocalSweepOptions {
  std::string database;               // where every run is stored
  std::string cli;                    // the continua-cli executable to start for each run
  int workers = 1;                    // runs at once
  const std::atomic<bool>* stop = nullptr;   // set (e.g. by Ctrl-C): running runs get SIGTERM (they checkpoint)
  std::function<void(const std::string&)> log = [](const std::string&) {};
};

struct LocalSweepResult {
  int total = 0, alreadyDone = 0, finished = 0, failed = 0, cancelled = 0;
  std::string folder;  // the point files and each run's log
};

// Points with a finished run of the same sweep, name and seed in the database are skipped, so running a
// sweep again completes it. Throws StoreError when the database cannot be opened.
LocalSweepResult runSweepLocally(const Sweep& sweep, const LocalSweepOptions& options);

struct SlurmSweepOptions {
  std::string folder;                 // shared by the cluster's nodes: point files, task databases, logs
  std::string cli;                    // continua-cli as the nodes see it
  int cpusPerTask = 1;
  std::vector<std::string> sbatchLines;  // extra "#SBATCH ..." options, e.g. "--partition=gpu", "--time=02:00:00"
};

// Writes the point files and <folder>/sweep.sbatch, a job array with one task per point; returns the script.
std::string writeSlurmArray(const Sweep& sweep, const SlurmSweepOptions& options);

}  // namespace continua::core
