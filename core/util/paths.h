#pragma once
// Where Continua keeps its files. The run database is chosen, first match wins, by:
//   1. an explicit path (--db on the command line, or File > Open in the workbench),
//   2. the CONTINUA_DB environment variable,
//   3. the "database" key of the settings file ($XDG_CONFIG_HOME/continua/settings.json),
//   4. $XDG_DATA_HOME/continua/runs.db (default ~/.local/share/continua/runs.db).
#include <string>

namespace continua::core {

struct DatabaseLocation {
  std::string path;
  std::string source;  // "--db", "CONTINUA_DB", "settings file <path>" or "XDG data directory"
};

DatabaseLocation resolveDatabasePath(const std::string& explicitPath = {});
std::string settingsFilePath();
std::string dataDirectory();  // $XDG_DATA_HOME/continua; created on demand by the store

// Writes the "database" key of the settings file (used by the workbench's "remember database" setting).
void saveDatabaseSetting(const std::string& path);

}  // namespace continua::core
