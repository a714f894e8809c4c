// Run management: run, resume, list, show, compare, export, tag, note, delete, presets.
#include "app/cli/cli_observer.h"
#include "app/cli/commands.h"
#include "core/config/experiment_schema.h"
#include "core/config/experiment_text.h"
#include "core/store/run_export.h"
#include "core/store/run_store.h"
#include "core/train/trainer.h"
#include "core/util/errors.h"
#include "core/util/paths.h"
#include "core/util/table.h"

#include <csignal>
#include <ctime>
#include <fstream>
#include <iostream>

namespace continua::app {
using nlohmann::json;

namespace {

core::Trainer* g_activeTrainer = nullptr;
void onInterrupt(int) {
  if (g_activeTrainer) g_activeTrainer->cancel();  // the loop checkpoints and marks the run cancelled
}

struct Common {
  std::string db;
  bool json = false;
};

std::string databasePath(const Common& c) { return core::resolveDatabasePath(c.db).path; }

void addDb(CLI::App* cmd, Common& c) {
  cmd->add_option("--db", c.db, "Run database (default: $CONTINUA_DB, settings file, or the XDG data directory)");
}

std::string fmt(double v) {
  if (std::isnan(v)) return "-";
  char b[32];
  std::snprintf(b, sizeof b, "%.4g", v);
  return b;
}

std::string when(double t) {
  if (t <= 0) return "-";
  std::time_t s = static_cast<std::time_t>(t);
  char b[32];
  std::strftime(b, sizeof b, "%Y-%m-%d %H:%M", std::localtime(&s));
  return b;
}

std::string keyMetric(const core::RunSummary& r) {
  const auto [key, value] = r.keyMetric();
  return key.empty() ? "-" : key.substr(5) + " " + fmt(value);
}

void printSummary(const core::RunStore& store, int64_t id) {
  auto rec = store.getRun(id);
  if (!rec) return;
  std::cout << "\nRun " << id << " (" << rec->name << "): " << rec->status << ", " << rec->step << "/" << rec->totalSteps
            << " steps, " << fmt(rec->finished - rec->started) << " s\n";
  for (const auto& [k, v] : rec->latest)
    if (k.rfind("test/", 0) == 0 || k == "train/loss") std::cout << "  " << k << " = " << fmt(v) << "\n";
  std::cout << "Stored in " << store.path() << "\n";
}

int runExperiment(const json& config, const Common& c) {
  CliObserver obs;
  core::Trainer trainer(databasePath(c), obs);
  g_activeTrainer = &trainer;
  std::signal(SIGINT, onInterrupt);
  std::signal(SIGTERM, onInterrupt);
  core::TrainResult r = trainer.run(config);
  g_activeTrainer = nullptr;
  core::RunStore store(databasePath(c), true);
  printSummary(store, r.runId);
  if (r.status == "cancelled") return kExitCancelled;
  return r.status == "finished" ? kExitOk : kExitFailure;
}

}  // namespace

void registerRunCommands(CLI::App& app) {
  static Common common;
  // run
  {
    static std::string configFile, preset;
    static std::vector<std::string> sets;
    static std::string device;
    static int threads = 0;
    auto* cmd = app.add_subcommand("run", "Meta-train an experiment (config file or --preset) and store the run");
    cmd->add_option("config", configFile, "Experiment JSON file");
    cmd->add_option("--preset", preset, "Named preset (see `presets`)");
    cmd->add_option("--set", sets, "Override a field: key=value (repeatable)");
    cmd->add_option("--device", device, "cpu or cuda");
    cmd->add_option("--threads", threads, "Intra-op CPU threads");
    addDb(cmd, common);
    cmd->callback([&] {
      try {
        json config;
        if (!preset.empty()) config = core::presetExperiment(preset);
        else if (!configFile.empty()) {
          config = core::readExperimentFile(configFile);
        } else {
          throw core::ConfigError("give an experiment file or --preset NAME (see `continua-cli presets`)");
        }
        config = core::withDefaults(config);
        for (const auto& s : sets) core::applyOverride(config, s);
        if (!device.empty()) config["device"] = device;
        if (threads > 0) config["threads"] = threads;
        setExitCode(runExperiment(config, common));
      } catch (const core::ConfigError& e) {
        std::cerr << "continua-cli run: " << e.what() << "\n";
        setExitCode(kExitUsage);
      } catch (const core::DataError& e) {  // the experiment names data it cannot read: bad input, no run made
        std::cerr << "continua-cli run: " << e.what() << "\n";
        setExitCode(kExitUsage);
      }
    });
  }
  // resume
  {
    static int64_t id = 0;
    auto* cmd = app.add_subcommand("resume", "Continue an interrupted or cancelled run from its last checkpoint");
    cmd->add_option("id", id, "Run id")->required();
    addDb(cmd, common);
    cmd->callback([&] {
      CliObserver obs;
      core::Trainer trainer(databasePath(common), obs);
      g_activeTrainer = &trainer;
      std::signal(SIGINT, onInterrupt);
      std::signal(SIGTERM, onInterrupt);  // as `run`: a job scheduler's stop checkpoints and marks the run cancelled
      core::TrainResult r = trainer.resume(id);
      g_activeTrainer = nullptr;
      printSummary(core::RunStore(databasePath(common), true), r.runId);
      setExitCode(r.status == "finished" ? kExitOk : r.status == "cancelled" ? kExitCancelled : kExitFailure);
    });
  }
  // list
  {
    static core::RunFilter filter;
    auto* cmd = app.add_subcommand("list", "List runs");
    cmd->add_option("--status", filter.status, "Only runs with this status")
        ->check(CLI::IsMember({"running", "finished", "failed", "cancelled", "interrupted", "diverged"}));
    cmd->add_option("--tag", filter.tag, "Only runs with this tag");
    cmd->add_option("--text", filter.text, "Only runs whose name, model, task or notes contain this");
    cmd->add_flag("--json", common.json, "JSON output");
    addDb(cmd, common);
    cmd->callback([&] {
      core::RunStore store(databasePath(common));
      store.markInterruptedRuns();
      auto runs = store.listRuns(filter);
      if (common.json) {
        std::cout << core::runsToJson(runs).dump(2) << "\n";
        return;
      }
      core::TextTable t({"id", "name", "status", "model", "task", "step", "key metric", "tags", "created"});
      for (const auto& r : runs) {
        std::string tags;
        for (const auto& g : r.tags) tags += (tags.empty() ? "" : ",") + g;
        t.addRow({std::to_string(r.id), r.name, r.status, r.model, r.task, std::to_string(r.step) + "/" + std::to_string(r.totalSteps),
                  keyMetric(r), tags, when(r.created)});
      }
      t.print(std::cout);
    });
  }
  // show
  {
    static int64_t id = 0;
    auto* cmd = app.add_subcommand("show", "Show one run: config, environment, latest metrics, curves, checkpoints");
    cmd->add_option("id", id, "Run id")->required();
    cmd->add_flag("--json", common.json, "JSON output");
    addDb(cmd, common);
    cmd->callback([&] {
      core::RunStore store(databasePath(common), true);
      auto rec = store.getRun(id);
      if (!rec) throw core::StoreError("run " + std::to_string(id) + " does not exist in " + store.path());
      json j = core::runToJson(store, *rec);
      if (common.json) { std::cout << j.dump(2) << "\n"; return; }
      std::cout << "run " << rec->id << ": " << rec->name << " [" << rec->status << "]" << (rec->error.empty() ? "" : " " + rec->error) << "\n"
                << "model " << rec->model << ", task " << rec->task << ", step " << rec->step << "/" << rec->totalSteps << "\n"
                << "environment " << rec->environment.dump() << "\nnotes: " << rec->notes << "\n\nlatest metrics:\n";
      for (const auto& [k, v] : rec->latest) std::cout << "  " << k << " = " << fmt(v) << "\n";
      std::cout << "\ncurves:\n";
      for (const auto& [name, pts] : j["curves"].items()) std::cout << "  " << name << ": " << pts.size() << " points\n";
      std::cout << "\ncheckpoints:\n";
      for (const auto& c : store.checkpoints(id)) std::cout << "  step " << c.step << "  " << c.path << "\n";
    });
  }
  // compare
  {
    static std::vector<int64_t> ids;
    static bool all = false;
    auto* cmd = app.add_subcommand("compare", "Configuration differences and final metrics of runs side by side");
    cmd->add_option("ids", ids, "Run ids")->required()->expected(2, 1000);
    cmd->add_flag("--all", all, "Show every configuration key, not only those that differ");
    cmd->add_flag("--json", common.json, "JSON output");
    addDb(cmd, common);
    cmd->callback([&] {
      core::RunStore store(databasePath(common), true);
      core::RunComparison cmp = core::compareRuns(store, ids, all);
      if (common.json) { std::cout << core::comparisonToJson(cmp).dump(2) << "\n"; return; }
      std::vector<std::string> header{"key"};
      for (int64_t i : ids) header.push_back("run " + std::to_string(i));
      core::TextTable cfg(header), met(header);
      for (const auto& row : cmp.config) cfg.addRow(row);
      for (const auto& row : cmp.metrics) met.addRow(row);
      std::cout << (all ? "configuration:\n" : "configuration differences:\n");
      cfg.print(std::cout);
      std::cout << "\nfinal metrics:\n";
      met.print(std::cout);
    });
  }
  // export
  {
    static std::vector<int64_t> ids;
    static std::string format = "csv", out;
    auto* cmd = app.add_subcommand("export", "Metrics and curves of one or many runs as CSV (long format) or JSON");
    cmd->add_option("ids", ids, "Run ids (default: all)");
    cmd->add_option("--format", format, "csv or json")->check(CLI::IsMember({"csv", "json"}));
    cmd->add_option("-o,--output", out, "Output file (default: standard output)");
    addDb(cmd, common);
    cmd->callback([&] {
      core::RunStore store(databasePath(common), true);
      std::vector<int64_t> which = ids;
      if (which.empty())
        for (const auto& r : store.listRuns()) which.push_back(r.id);
      std::ofstream file;
      if (!out.empty()) {
        file.open(out);
        if (!file) {
          std::cerr << "continua-cli export: " << out << " cannot be written (does its folder exist?)\n";
          setExitCode(kExitFailure);
          return;
        }
      }
      std::ostream& os = out.empty() ? std::cout : file;
      if (format == "csv") core::exportCsv(store, which, os);
      else os << core::exportJson(store, which).dump(2) << "\n";
      if (!out.empty()) {
        file.close();
        if (!file) {
          std::cerr << "continua-cli export: writing " << out << " failed (disk full?)\n";
          setExitCode(kExitFailure);
          return;
        }
        std::cerr << "wrote " << out << "\n";
      }
    });
  }
  // tag, note, rename, delete
  {
    static int64_t id = 0;
    static std::vector<std::string> tags;
    static bool remove = false;
    auto* cmd = app.add_subcommand("tag", "Add (or --remove) tags on a run");
    cmd->add_option("id", id)->required();
    cmd->add_option("tags", tags)->required();
    cmd->add_flag("--remove", remove, "Remove the tags instead");
    addDb(cmd, common);
    cmd->callback([&] {
      core::RunStore store(databasePath(common));
      for (const auto& t : tags) remove ? store.removeTag(id, t) : store.addTag(id, t);
    });
  }
  {
    static int64_t id = 0;
    static std::string text;
    auto* cmd = app.add_subcommand("note", "Set a run's notes");
    cmd->add_option("id", id)->required();
    cmd->add_option("text", text)->required();
    addDb(cmd, common);
    cmd->callback([&] { core::RunStore(databasePath(common)).setNotes(id, text); });
  }
  {
    static int64_t id = 0;
    static std::string name;
    auto* cmd = app.add_subcommand("rename", "Rename a run");
    cmd->add_option("id", id)->required();
    cmd->add_option("name", name)->required();
    addDb(cmd, common);
    cmd->callback([&] { core::RunStore(databasePath(common)).rename(id, name); });
  }
  {
    static std::vector<int64_t> ids;
    static bool yes = false;
    auto* cmd = app.add_subcommand("delete", "Delete runs with their metrics, maps and checkpoint files");
    cmd->add_option("ids", ids)->required();
    cmd->add_flag("-y,--yes", yes, "Do not ask for confirmation");
    addDb(cmd, common);
    cmd->callback([&] {
      if (!yes) {
        std::cout << "Delete " << ids.size() << " run(s) and their checkpoints? [y/N] " << std::flush;
        std::string answer;
        std::getline(std::cin, answer);
        if (answer != "y" && answer != "Y") { std::cout << "nothing deleted\n"; return; }
      }
      core::RunStore store(databasePath(common));
      for (int64_t i : ids) store.deleteRun(i);
    });
  }
  // presets
  {
    auto* cmd = app.add_subcommand("presets", "List the named experiment presets");
    cmd->add_flag("--json", common.json, "JSON output (the full configs)");
    cmd->callback([&] {
      if (common.json) {
        json j = json::object();
        for (const auto& n : core::presetNames()) j[n] = core::presetExperiment(n);
        std::cout << j.dump(2) << "\n";
        return;
      }
      core::TextTable t({"preset", "description"});
      for (const auto& n : core::presetNames()) t.addRow({n, core::presetDescription(n)});
      t.print(std::cout);
    });
  }
  // where
  {
    auto* cmd = app.add_subcommand("where", "Print the run database in use and why");
    addDb(cmd, common);
    cmd->callback([&] {
      auto loc = core::resolveDatabasePath(common.db);
      std::cout << loc.path << "  (from " << loc.source << ")\n";
    });
  }
}

}  // namespace continua::app
