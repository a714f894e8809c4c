// `report RUN... --out DIR`: a Markdown report with figures from stored runs (core/report/report.h).
#include "app/cli/cli_common.h"
#include "app/cli/commands.h"
#include "core/report/report.h"
#include "core/util/errors.h"

#include <iostream>
#include <memory>

namespace continua::app {

namespace {

struct ReportCommand {
  std::string db;
  std::vector<int64_t> runs;
  core::ReportOptions options;
  bool noFigures = false;

  void run() {
    core::RunStore store(databasePath(db), true);
    options.figures = !noFigures;
    const core::ReportSummary s = core::writeReport(store, runs, options);
    std::cout << "Wrote " << s.markdownPath << ": " << s.runs << " runs in " << s.groups << " groups, " << s.figures << " figures";
    if (s.claims > 0) std::cout << ", " << s.reproduced << " of " << s.claims << " claims reproduced";
    std::cout << "\n";
  }
};

}  // namespace

void registerReportCommand(CLI::App& app) {
  auto command = std::make_shared<ReportCommand>();
  auto* cmd = app.add_subcommand("report", "A Markdown report with tables and PNG figures from stored runs (all runs when none is named)");
  cmd->add_option("runs", command->runs, "Run ids to report on (default: every run in the database)");
  cmd->add_option("--out", command->options.folder, "Folder for report.md and figures/ (created if missing)")->required();
  cmd->add_option("--claims", command->options.claimsFile,
                  "A claims file (docs/experiments/claims-*.json) to check against the runs: reproduced / not reproduced");
  cmd->add_option("--title", command->options.title, "The report's title");
  cmd->add_option("--sweep", command->options.sweep, "Only the runs of this sweep (continua-cli sweep)");
  cmd->add_flag("--no-figures", command->noFigures, "Tables only");
  addDatabaseOption(cmd, command->db);
  cmd->callback([command] {
    try {
      command->run();
    } catch (const core::ConfigError& e) {  // a bad claims file, run id or sweep: bad input, nothing written
      std::cerr << "continua-cli report: " << e.what() << "\n";
      setExitCode(kExitUsage);
    }
  });
}

}  // namespace continua::app
