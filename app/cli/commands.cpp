#include "app/cli/commands.h"

namespace continua::app {
namespace {
int g_exitCode = kExitOk;
}

void setExitCode(int code) { g_exitCode = code; }
int exitCode() { return g_exitCode; }

void registerCommands(CLI::App& app) {
  registerKernelCommands(app);
  registerTrainingCommands(app);
  registerInspectCommands(app);
  registerManageCommands(app);
  registerSummaryCommand(app);
  registerReportCommand(app);
  registerImportCommand(app);
  registerSweepCommands(app);
}

}  // namespace continua::app
