// continua-cli: the headless twin of the workbench. Parses arguments and hands each subcommand to core.
#include "app/cli/commands.h"
#include "continua_version.h"
#include "core/util/environment.h"

#include <CLI/CLI.hpp>

#include <iostream>

int main(int argc, char** argv) {
  continua::core::keepFreedMemoryForReuse();
  CLI::App app{"continua-cli: meta-learn sequence models as continual and in-context learners, headless"};
  app.set_version_flag("--version", std::string("continua-cli ") + CONTINUA_VERSION + " (" CONTINUA_GIT_COMMIT ")");
  app.require_subcommand(1);
  continua::app::registerCommands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 prints the message (or the help); its own codes (100+) become the documented "bad arguments".
    return app.exit(e) == 0 ? continua::app::kExitOk : continua::app::kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "continua-cli: error: " << e.what() << "\n";
    return continua::app::kExitFailure;
  }
  return continua::app::exitCode();
}
