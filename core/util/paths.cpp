#include "core/util/paths.h"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace continua::core {
namespace fs = std::filesystem;

namespace {
std::string envOr(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return (v && *v) ? std::string(v) : fallback;
}
std::string home() { return envOr("HOME", "."); }
}  // namespace

std::string dataDirectory() {
  return (fs::path(envOr("XDG_DATA_HOME", home() + "/.local/share")) / "continua").string();
}

std::string settingsFilePath() {
  return (fs::path(envOr("XDG_CONFIG_HOME", home() + "/.config")) / "continua" / "settings.json").string();
}

DatabaseLocation resolveDatabasePath(const std::string& explicitPath) {
  if (!explicitPath.empty()) return {explicitPath, "--db"};
  if (const char* env = std::getenv("CONTINUA_DB"); env && *env) return {env, "CONTINUA_DB"};
  const std::string settings = settingsFilePath();
  if (fs::exists(settings)) {
    std::ifstream in(settings);
    nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded())
      throw std::runtime_error("settings file " + settings + " is not valid JSON");
    if (j.contains("database") && j["database"].is_string() && !j["database"].get<std::string>().empty())
      return {j["database"].get<std::string>(), "settings file " + settings};
  }
  return {(fs::path(dataDirectory()) / "runs.db").string(), "XDG data directory"};
}

void saveDatabaseSetting(const std::string& path) {
  const fs::path file = settingsFilePath();
  nlohmann::json j = nlohmann::json::object();
  if (fs::exists(file)) {
    std::ifstream in(file);
    j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded() || !j.is_object()) j = nlohmann::json::object();
  }
  j["database"] = path;
  fs::create_directories(file.parent_path());
  std::ofstream(file) << j.dump(2) << "\n";
}

}  // namespace continua::core
