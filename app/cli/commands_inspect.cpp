// Reading runs: list, show, compare, export.
#include "app/cli/cli_common.h"
#include "app/cli/commands.h"
#include "core/store/run_export.h"
#include "core/util/errors.h"
#include "core/util/table.h"

#include <fstream>
#include <iostream>
#include <memory>

namespace continua::app {
using nlohmann::json;

namespace {

struct ListCommand {
  std::string db;
  core::RunFilter filter;
  bool asJson = false;

  void run() const {
    core::RunStore store(databasePath(db));
    store.markInterruptedRuns();
    const auto runs = store.listRuns(filter);
    if (asJson) {
      std::cout << core::runsToJson(runs).dump(2) << "\n";
      return;
    }
    core::TextTable t({"id", "name", "status", "model", "task", "step", "key metric", "tags", "created"});
    for (const auto& r : runs) {
      std::string tags;
      for (const auto& g : r.tags) tags += (tags.empty() ? "" : ",") + g;
      t.addRow({std::to_string(r.id), r.name, r.status, r.model, r.task, std::to_string(r.step) + "/" + std::to_string(r.totalSteps),
                keyMetricText(r), tags, localTime(r.created)});
    }
    t.print(std::cout);
  }
};

struct ShowCommand {
  std::string db;
  int64_t id = 0;
  bool asJson = false;

  void run() const {
    core::RunStore store(databasePath(db), true);
    auto rec = store.getRun(id);
    if (!rec) throw core::StoreError("run " + std::to_string(id) + " does not exist in " + store.path());
    const json j = core::runToJson(store, *rec);
    if (asJson) { std::cout << j.dump(2) << "\n"; return; }
    std::cout << "run " << rec->id << ": " << rec->name << " [" << rec->status << "]" << (rec->error.empty() ? "" : " " + rec->error) << "\n"
              << "model " << rec->model << ", task " << rec->task << ", step " << rec->step << "/" << rec->totalSteps << "\n"
              << "environment " << rec->environment.dump() << "\nnotes: " << rec->notes << "\n\nlatest metrics:\n";
    for (const auto& [k, v] : rec->latest) std::cout << "  " << k << " = " << shortNumber(v) << "\n";
    std::cout << "\ncurves:\n";
    for (const auto& [name, pts] : j["curves"].items()) std::cout << "  " << name << ": " << pts.size() << " points\n";
    std::cout << "\ncheckpoints:\n";
    for (const auto& c : store.checkpoints(id)) std::cout << "  step " << c.step << "  " << c.path << "\n";
  }
};

struct CompareCommand {
  std::string db;
  std::vector<int64_t> ids;
  bool all = false, asJson = false;

  void run() const {
    core::RunStore store(databasePath(db), true);
    const core::RunComparison cmp = core::compareRuns(store, ids, all);
    if (asJson) { std::cout << core::comparisonToJson(cmp).dump(2) << "\n"; return; }
    std::vector<std::string> header{"key"};
    for (int64_t i : ids) header.push_back("run " + std::to_string(i));
    core::TextTable cfg(header), met(header);
    for (const auto& row : cmp.config) cfg.addRow(row);
    for (const auto& row : cmp.metrics) met.addRow(row);
    std::cout << (all ? "configuration:\n" : "configuration differences:\n");
    cfg.print(std::cout);
    std::cout << "\nfinal metrics:\n";
    met.print(std::cout);
  }
};

struct ExportCommand {
  std::string db, format = "csv", out;
  std::vector<int64_t> ids;

  void run() const {
    core::RunStore store(databasePath(db), true);
    std::vector<int64_t> which = ids;
    if (which.empty())
      for (const auto& r : store.listRuns()) which.push_back(r.id);
    std::ofstream file;
    if (!out.empty()) {
      file.open(out);
      if (!file) return fail(out + " cannot be written (does its folder exist?)");
    }
    std::ostream& os = out.empty() ? std::cout : file;
    if (format == "csv") core::exportCsv(store, which, os);
    else os << core::exportJson(store, which).dump(2) << "\n";
    if (out.empty()) return;
    file.close();
    if (!file) return fail("writing " + out + " failed (disk full?)");
    std::cerr << "wrote " << out << "\n";
  }
  static void fail(const std::string& message) {
    std::cerr << "continua-cli export: " << message << "\n";
    setExitCode(kExitFailure);
  }
};

}  // namespace

void registerInspectCommands(CLI::App& app) {
  auto list = std::make_shared<ListCommand>();
  auto* cmd = app.add_subcommand("list", "List runs");
  cmd->add_option("--status", list->filter.status, "Only runs with this status")
      ->check(CLI::IsMember({"running", "finished", "failed", "cancelled", "interrupted", "diverged"}));
  cmd->add_option("--tag", list->filter.tag, "Only runs with this tag");
  cmd->add_option("--text", list->filter.text, "Only runs whose name, model, task or notes contain this");
  cmd->add_option("--sweep", list->filter.sweep, "Only the runs of this sweep");
  cmd->add_flag("--json", list->asJson, "JSON output");
  addDatabaseOption(cmd, list->db);
  cmd->callback([list] { list->run(); });

  auto show = std::make_shared<ShowCommand>();
  cmd = app.add_subcommand("show", "Show one run: config, environment, latest metrics, curves, checkpoints");
  cmd->add_option("id", show->id, "Run id")->required();
  cmd->add_flag("--json", show->asJson, "JSON output");
  addDatabaseOption(cmd, show->db);
  cmd->callback([show] { show->run(); });

  auto compare = std::make_shared<CompareCommand>();
  cmd = app.add_subcommand("compare", "Configuration differences and final metrics of runs side by side");
  cmd->add_option("ids", compare->ids, "Run ids")->required()->expected(2, 1000);
  cmd->add_flag("--all", compare->all, "Show every configuration key, not only those that differ");
  cmd->add_flag("--json", compare->asJson, "JSON output");
  addDatabaseOption(cmd, compare->db);
  cmd->callback([compare] { compare->run(); });

  auto exporter = std::make_shared<ExportCommand>();
  cmd = app.add_subcommand("export", "Metrics and curves of one or many runs as CSV (long format) or JSON");
  cmd->add_option("ids", exporter->ids, "Run ids (default: all)");
  cmd->add_option("--format", exporter->format, "csv or json")->check(CLI::IsMember({"csv", "json"}));
  cmd->add_option("-o,--output", exporter->out, "Output file (default: standard output)");
  addDatabaseOption(cmd, exporter->db);
  cmd->callback([exporter] { exporter->run(); });
}

}  // namespace continua::app
