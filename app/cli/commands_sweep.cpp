// `sweep list|run|slurm FILE`: expand a sweep file (core/config/sweep.h) and run it here with N processes, or
// as a Slurm job array whose task databases `import` merges.
#include "app/cli/cli_common.h"
#include "app/cli/commands.h"
#include "core/store/run_groups.h"
#include "core/train/sweep_runner.h"
#include "core/util/errors.h"
#include "core/util/table.h"

#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>

namespace continua::app {
namespace fs = std::filesystem;

namespace {

std::atomic<bool> g_stopSweep{false};
void onSweepInterrupt(int) { g_stopSweep = true; }

std::string thisExecutable() {
  std::error_code ec;
  const auto p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("continua-cli") : p.string();
}

// Runs a command and returns its standard output (sbatch --parsable prints the job id).
std::string capture(const std::string& command, int& exitCode) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) { exitCode = 127; return out; }
  char buf[512];
  while (fgets(buf, sizeof buf, pipe)) out += buf;
  const int status = pclose(pipe);
  exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
  return out;
}

// Bad sweep files are bad input: exit 2 with the message, as `run` does, and nothing started.
template <typename F>
void asUsage(F body) {
  try {
    body();
  } catch (const core::ConfigError& e) {
    std::cerr << "continua-cli sweep: " << e.what() << "\n";
    setExitCode(kExitUsage);
  }
}

std::string quoted(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

struct ListCommand {
  std::string file;
  void run() const {
    const core::Sweep sweep = core::loadSweepFile(file);
    core::TextTable t({"#", "run name", "seed"});
    for (size_t i = 0; i < sweep.points.size(); ++i)
      t.addRow({std::to_string(i), sweep.points[i].name, std::to_string(sweep.points[i].seed)});
    t.print(std::cout);
    std::cout << sweep.points.size() << " runs in the sweep \"" << sweep.name << "\"\n";
  }
};

struct RunCommand {
  std::string file, db;
  int workers = 1;
  void run() const {
    const core::Sweep sweep = core::loadSweepFile(file);  // every point validated before any run starts
    core::LocalSweepOptions o;
    o.database = databasePath(db);
    o.cli = thisExecutable();
    o.workers = workers;
    o.stop = &g_stopSweep;
    o.log = [](const std::string& line) { std::cout << line << "\n" << std::flush; };
    std::signal(SIGINT, onSweepInterrupt);
    std::signal(SIGTERM, onSweepInterrupt);
    const core::LocalSweepResult r = core::runSweepLocally(sweep, o);
    std::cout << "sweep \"" << sweep.name << "\": " << r.finished << " finished, " << r.failed << " failed, " << r.cancelled
              << " cancelled, " << r.alreadyDone << " already done, of " << r.total << "\n";
    core::RunStore store(o.database, true);
    core::RunFilter f;
    f.sweep = sweep.name;
    const std::vector<std::string> quantities{"test/accuracy", "test/error", "wall"};
    core::TextTable t({"configuration", "seeds", "test/accuracy", "test/error", "wall"});
    for (const auto& g : core::groupRuns(store, f, quantities))
      t.addRow({g.name, std::to_string(g.seeds.size()), g.values[0].text(3), g.values[1].text(3), g.values[2].text(0)});
    t.print(std::cout);
    setExitCode(g_stopSweep ? kExitCancelled : r.failed > 0 ? kExitFailure : kExitOk);
  }
};

struct SlurmCommand {
  std::string file, folder, importInto;
  int cpus = 1;
  std::vector<std::string> sbatch;
  bool submit = false, wait = false;

  void run() const {
    const core::Sweep sweep = core::loadSweepFile(file);
    core::SlurmSweepOptions o;
    o.folder = folder;
    o.cli = thisExecutable();
    o.cpusPerTask = cpus;
    o.sbatchLines = sbatch;
    const std::string script = core::writeSlurmArray(sweep, o);
    std::cout << "wrote " << script << ": a job array of " << sweep.points.size() << " tasks\n";
    if (!submit) {
      std::cout << "submit it with: sbatch " << script << "\n";
      return;
    }
    int code = 0;
    const std::string out = capture("sbatch --parsable" + std::string(wait ? " --wait " : " ") + quoted(script) + " 2>&1", code);
    if (code != 0 && !(wait && !out.empty() && std::isdigit(static_cast<unsigned char>(out[0])))) {
      std::cerr << "continua-cli sweep slurm: sbatch failed (exit " << code << "): " << out;
      setExitCode(kExitFailure);
      return;
    }
    std::cout << "submitted job " << out.substr(0, out.find_first_of(";\n")) << (wait ? ", and it has ended" : "") << "\n";
    if (!wait) {
      std::cout << "when it has ended: continua-cli import " << fs::absolute(folder).string() << "/task-*.db --db WORKSPACE.db\n";
      return;
    }
    if (importInto.empty()) return;
    core::RunStore store(databasePath(importInto));
    int imported = 0;
    for (size_t i = 0; i < sweep.points.size(); ++i) {
      const std::string task = (fs::path(folder) / ("task-" + std::to_string(i) + ".db")).string();
      if (!fs::exists(task)) { std::cerr << "task " << i << " wrote no database (see " << folder << "/slurm-*_" << i << ".out)\n"; continue; }
      imported += store.importFrom(task).imported;
    }
    std::cout << imported << " runs imported into " << store.path() << "\n";
    if (imported < int(sweep.points.size())) setExitCode(kExitFailure);
  }
};

}  // namespace

void registerSweepCommands(CLI::App& app) {
  auto* sweep = app.add_subcommand("sweep", "Sweeps: grid and random search over experiment keys and seeds");
  sweep->require_subcommand(1);

  auto list = std::make_shared<ListCommand>();
  auto* cmd = sweep->add_subcommand("list", "Expand and validate a sweep file: its runs, without running them");
  cmd->add_option("file", list->file, "Sweep file (JSON)")->required()->check(CLI::ExistingFile);
  cmd->callback([list] { asUsage([&] { list->run(); }); });

  auto run = std::make_shared<RunCommand>();
  cmd = sweep->add_subcommand("run", "Run a sweep here, N runs at a time, each its own process; again, it completes the rest");
  cmd->add_option("file", run->file, "Sweep file (JSON)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--workers", run->workers, "Runs at once (default 1)")->check(CLI::PositiveNumber);
  addDatabaseOption(cmd, run->db);
  cmd->callback([run] { asUsage([&] { run->run(); }); });

  auto slurm = std::make_shared<SlurmCommand>();
  cmd = sweep->add_subcommand("slurm", "Write (and with --submit, sbatch) a Slurm job array: one task per run, each its own database");
  cmd->add_option("file", slurm->file, "Sweep file (JSON)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--dir", slurm->folder, "Folder the nodes share: point files, task databases, Slurm logs")->required();
  cmd->add_option("--cpus", slurm->cpus, "CPUs (and threads) per task (default 1)")->check(CLI::PositiveNumber);
  cmd->add_option("--sbatch", slurm->sbatch, "An extra #SBATCH option, e.g. --sbatch=--partition=cpu (repeatable)");
  cmd->add_flag("--submit", slurm->submit, "Submit with sbatch");
  cmd->add_flag("--wait", slurm->wait, "With --submit: wait until every task has ended (sbatch --wait)");
  cmd->add_option("--import-into", slurm->importInto, "With --wait: import the task databases into this workspace");
  cmd->callback([slurm] { asUsage([&] { slurm->run(); }); });
}

}  // namespace continua::app
