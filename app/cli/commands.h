#pragma once
// Subcommand wiring for continua-cli. Each register* function adds its subcommands, each command's options
// in a struct of its own unit; their callbacks call into core and set the process exit code (docs/CLI.md).
#include <CLI/CLI.hpp>

namespace continua::app {

enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,       // a check failed, or the run failed/diverged
  kExitUsage = 2,         // bad arguments or configuration
  kExitCancelled = 130,   // Ctrl-C: the run was cancelled and marked so
};

void registerCommands(CLI::App& app);
void registerKernelCommands(CLI::App& app);
void registerTrainingCommands(CLI::App& app);  // run, resume
void registerInspectCommands(CLI::App& app);   // list, show, compare, export
void registerManageCommands(CLI::App& app);    // tag, note, rename, delete, presets, where
void registerSummaryCommand(CLI::App& app);
void registerReportCommand(CLI::App& app);
void registerImportCommand(CLI::App& app);
void registerSweepCommands(CLI::App& app);   // sweep list, run, slurm

void setExitCode(int code);
int exitCode();

}  // namespace continua::app
