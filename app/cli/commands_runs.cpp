// Run management subcommands (run, resume, list, show, compare, export, tag, note, delete, presets).
#include "app/cli/commands.h"

namespace continua::app {
void registerRunCommands(CLI::App&) {}
}  // namespace continua::app
