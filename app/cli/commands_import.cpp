// `import DB...`: merge run databases (e.g. one per sweep task or cluster node) into this workspace.
#include "app/cli/cli_common.h"
#include "app/cli/commands.h"

#include <iostream>
#include <memory>

namespace continua::app {

namespace {

struct ImportCommand {
  std::string db;
  std::vector<std::string> sources;

  void run() const {
    core::RunStore store(databasePath(db));
    for (const auto& source : sources) {
      const core::ImportResult r = store.importFrom(source);
      std::cout << source << ": " << r.imported << " imported, " << r.refreshed << " refreshed, " << r.unchanged
                << " already here";
      if (r.skippedRunning) std::cout << ", " << r.skippedRunning << " still running (import again when they end)";
      std::cout << "; checkpoints " << r.checkpointsCopied << " copied";
      if (r.checkpointsReferenced) std::cout << ", " << r.checkpointsReferenced << " referenced (file not found)";
      std::cout << "\n";
    }
    std::cout << "into " << store.path() << "\n";
  }
};

}  // namespace

void registerImportCommand(CLI::App& app) {
  auto command = std::make_shared<ImportCommand>();
  auto* cmd = app.add_subcommand("import", "Merge run databases into this one; a run already here (same UUID) is not added twice");
  cmd->add_option("sources", command->sources, "Run databases to import")->required()->check(CLI::ExistingFile);
  addDatabaseOption(cmd, command->db);
  cmd->callback([command] { command->run(); });
}

}  // namespace continua::app
