#include "core/train/sweep_runner.h"

#include "core/store/run_store.h"
#include "core/util/errors.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

extern char** environ;

namespace continua::core {
namespace fs = std::filesystem;

namespace {

std::string folderName(const std::string& sweep) {
  std::string s;
  for (char c : sweep) s.push_back(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ? c : '_');
  return s.empty() ? "sweep" : s;
}

// (name, seed) of every finished run of this sweep already in the database.
std::set<std::pair<std::string, int64_t>> finishedRuns(const std::string& database, const std::string& sweep) {
  std::set<std::pair<std::string, int64_t>> done;
  if (!fs::exists(database)) return done;
  RunStore store(database, true);
  RunFilter f;
  f.sweep = sweep;
  f.status = "finished";
  for (const auto& r : store.listRuns(f)) {
    const auto rec = store.getRun(r.id);
    if (rec && rec->config.contains("seed")) done.emplace(r.name, rec->config["seed"].get<int64_t>());
  }
  return done;
}

// This process's environment with CONTINUA_CONCURRENT_RUNS set to `runs`: a run whose `threads` is 0 (auto)
// then takes its share of the CPUs, not all of them (core/train/thread_choice.h).
std::vector<std::string> runEnvironment(int runs) {
  std::vector<std::string> env;
  const std::string key = "CONTINUA_CONCURRENT_RUNS=";
  for (char** e = environ; *e; ++e)
    if (std::strncmp(*e, key.c_str(), key.size()) != 0) env.emplace_back(*e);
  env.push_back(key + std::to_string(std::max(1, runs)));
  return env;
}

// Starts `cli run FILE --db DB` with its output in `logFile`, one of `concurrent` runs; returns the child's pid.
pid_t startRun(const std::string& cli, const std::string& file, const std::string& database, const std::string& logFile,
               int concurrent) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, logFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  std::vector<std::string> args{cli, "run", file, "--db", database};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env = runEnvironment(concurrent);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, cli.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw StoreError("cannot start " + cli + " for " + file + ": " + std::strerror(rc));
  return pid;
}

}  // namespace

std::vector<std::string> writeSweepPoints(const Sweep& sweep, const std::string& folder) {
  fs::create_directories(folder);
  std::vector<std::string> files;
  for (size_t i = 0; i < sweep.points.size(); ++i) {
    const std::string file = (fs::path(folder) / ("point-" + std::to_string(i) + ".json")).string();
    std::ofstream out(file);
    out << sweep.points[i].experiment.dump(2) << "\n";
    if (!out) throw StoreError("cannot write the sweep point " + file);
    files.push_back(file);
  }
  return files;
}

LocalSweepResult runSweepLocally(const Sweep& sweep, const LocalSweepOptions& o) {
  LocalSweepResult result;
  result.total = int(sweep.points.size());
  { RunStore create(o.database); }  // created (or migrated) once, before the runs start together
  result.folder = o.database + ".sweeps/" + folderName(sweep.name);
  const auto files = writeSweepPoints(sweep, result.folder);
  const auto done = finishedRuns(o.database, sweep.name);
  std::vector<size_t> todo;
  for (size_t i = 0; i < sweep.points.size(); ++i)
    if (done.count({sweep.points[i].name, sweep.points[i].seed})) ++result.alreadyDone;
    else todo.push_back(i);
  o.log(std::to_string(todo.size()) + " of " + std::to_string(result.total) + " runs to do, " + std::to_string(o.workers) +
        " at a time; point files and logs in " + result.folder);
  std::map<pid_t, size_t> running;
  size_t next = 0;
  bool stopping = false;
  while (next < todo.size() || !running.empty()) {
    if (o.stop && *o.stop && !stopping) {
      stopping = true;  // each run checkpoints and marks itself cancelled; `sweep run` again resumes the rest
      for (const auto& [pid, i] : running) kill(pid, SIGTERM);
    }
    while (!stopping && next < todo.size() && int(running.size()) < std::max(1, o.workers)) {
      const size_t i = todo[next++];
      running[startRun(o.cli, files[i], o.database, result.folder + "/point-" + std::to_string(i) + ".log", o.workers)] = i;
    }
    if (stopping && running.empty()) break;
    int status = 0;
    const pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid <= 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    auto it = running.find(pid);
    if (it == running.end()) continue;
    const size_t i = it->second;
    running.erase(it);
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    const char* what = code == 0 ? "finished" : code == 130 ? "cancelled" : "failed";
    (code == 0 ? result.finished : code == 130 ? result.cancelled : result.failed) += 1;
    o.log("[" + std::to_string(result.finished + result.failed + result.cancelled) + "/" + std::to_string(todo.size()) + "] " +
          sweep.points[i].name + " seed " + std::to_string(sweep.points[i].seed) + ": " + what +
          (code == 0 ? "" : " (exit " + std::to_string(code) + "; log " + result.folder + "/point-" + std::to_string(i) + ".log)"));
  }
  return result;
}

std::string writeSlurmArray(const Sweep& sweep, const SlurmSweepOptions& o) {
  const auto files = writeSweepPoints(sweep, o.folder);
  const std::string folder = fs::absolute(o.folder).string();
  const std::string script = folder + "/sweep.sbatch";
  std::ofstream out(script);
  out << "#!/bin/bash\n"
      << "# Written by `continua-cli sweep slurm` for the sweep \"" << sweep.name << "\": one array task per run.\n"
      << "# When every task has ended: continua-cli import " << folder << "/task-*.db --db WORKSPACE.db\n"
      << "#SBATCH --job-name=continua-" << folderName(sweep.name) << "\n"
      << "#SBATCH --array=0-" << (files.size() - 1) << "\n"
      << "#SBATCH --ntasks=1\n"
      << "#SBATCH --cpus-per-task=" << o.cpusPerTask << "\n"
      << "#SBATCH --output=" << folder << "/slurm-%A_%a.out\n";
  for (const auto& line : o.sbatchLines) out << "#SBATCH " << line << "\n";
  out << "set -euo pipefail\n"
      << "i=${SLURM_ARRAY_TASK_ID:?not started by sbatch --array}\n"
      << "exec '" << o.cli << "' run \"" << folder << "/point-$i.json\" --threads " << o.cpusPerTask << " --db \"" << folder
      << "/task-$i.db\"\n";
  out.close();
  if (!out) throw StoreError("cannot write " + script);
  fs::permissions(script, fs::perms::owner_all | fs::perms::group_read | fs::perms::others_read);
  return script;
}

}  // namespace continua::core
