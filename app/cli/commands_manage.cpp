// Managing runs and finding things: tag, note, rename, delete, presets, where.
#include "app/cli/cli_common.h"
#include "app/cli/commands.h"
#include "core/config/experiment_schema.h"
#include "core/util/paths.h"
#include "core/util/table.h"

#include <iostream>
#include <memory>

namespace continua::app {
using nlohmann::json;

namespace {

struct TagCommand {
  std::string db;
  int64_t id = 0;
  std::vector<std::string> tags;
  bool remove = false;
  void run() const {
    core::RunStore store(databasePath(db));
    for (const auto& t : tags) remove ? store.removeTag(id, t) : store.addTag(id, t);
  }
};

struct TextCommand {  // note and rename: one run, one string
  std::string db, text;
  int64_t id = 0;
};

struct DeleteCommand {
  std::string db;
  std::vector<int64_t> ids;
  bool yes = false;
  void run() const {
    if (!yes) {
      std::cout << "Delete " << ids.size() << " run(s) and their checkpoints? [y/N] " << std::flush;
      std::string answer;
      std::getline(std::cin, answer);
      if (answer != "y" && answer != "Y") { std::cout << "nothing deleted\n"; return; }
    }
    core::RunStore store(databasePath(db));
    for (int64_t i : ids) store.deleteRun(i);
  }
};

void printPresets(bool asJson) {
  if (asJson) {
    json j = json::object();
    for (const auto& n : core::presetNames()) j[n] = core::presetExperiment(n);
    std::cout << j.dump(2) << "\n";
    return;
  }
  core::TextTable t({"preset", "description"});
  for (const auto& n : core::presetNames()) t.addRow({n, core::presetDescription(n)});
  t.print(std::cout);
}

}  // namespace

void registerManageCommands(CLI::App& app) {
  auto tag = std::make_shared<TagCommand>();
  auto* cmd = app.add_subcommand("tag", "Add (or --remove) tags on a run");
  cmd->add_option("id", tag->id)->required();
  cmd->add_option("tags", tag->tags)->required();
  cmd->add_flag("--remove", tag->remove, "Remove the tags instead");
  addDatabaseOption(cmd, tag->db);
  cmd->callback([tag] { tag->run(); });

  auto note = std::make_shared<TextCommand>();
  cmd = app.add_subcommand("note", "Set a run's notes");
  cmd->add_option("id", note->id)->required();
  cmd->add_option("text", note->text)->required();
  addDatabaseOption(cmd, note->db);
  cmd->callback([note] { core::RunStore(databasePath(note->db)).setNotes(note->id, note->text); });

  auto rename = std::make_shared<TextCommand>();
  cmd = app.add_subcommand("rename", "Rename a run");
  cmd->add_option("id", rename->id)->required();
  cmd->add_option("name", rename->text)->required();
  addDatabaseOption(cmd, rename->db);
  cmd->callback([rename] { core::RunStore(databasePath(rename->db)).rename(rename->id, rename->text); });

  auto del = std::make_shared<DeleteCommand>();
  cmd = app.add_subcommand("delete", "Delete runs with their metrics, maps and checkpoint files");
  cmd->add_option("ids", del->ids)->required();
  cmd->add_flag("-y,--yes", del->yes, "Do not ask for confirmation");
  addDatabaseOption(cmd, del->db);
  cmd->callback([del] { del->run(); });

  auto presetsJson = std::make_shared<bool>(false);
  cmd = app.add_subcommand("presets", "List the named experiment presets");
  cmd->add_flag("--json", *presetsJson, "JSON output (the full configs)");
  cmd->callback([presetsJson] { printPresets(*presetsJson); });

  auto where = std::make_shared<std::string>();
  cmd = app.add_subcommand("where", "Print the run database in use and why");
  addDatabaseOption(cmd, *where);
  cmd->callback([where] {
    const auto loc = core::resolveDatabasePath(*where);
    std::cout << loc.path << "  (from " << loc.source << ")\n";
  });
}

}  // namespace continua::app
