#include "app/cli/cli_common.h"

#include "core/util/paths.h"

#include <cmath>
#include <cstdio>
#include <ctime>
#include <iostream>

namespace continua::app {

void addDatabaseOption(CLI::App* cmd, std::string& db) {
  cmd->add_option("--db", db, "Run database (default: $CONTINUA_DB, settings file, or the XDG data directory)");
}

std::string databasePath(const std::string& db) { return core::resolveDatabasePath(db).path; }

std::string shortNumber(double v) {
  if (std::isnan(v)) return "-";
  char b[32];
  std::snprintf(b, sizeof b, "%.4g", v);
  return b;
}

std::string localTime(double t) {
  if (t <= 0) return "-";
  std::time_t s = static_cast<std::time_t>(t);
  char b[32];
  std::strftime(b, sizeof b, "%Y-%m-%d %H:%M", std::localtime(&s));
  return b;
}

std::string keyMetricText(const core::RunSummary& r) {
  const auto [key, value] = r.keyMetric();
  return key.empty() ? "-" : key.substr(5) + " " + shortNumber(value);
}

void printRunSummary(const core::RunStore& store, int64_t id) {
  auto rec = store.getRun(id);
  if (!rec) return;
  std::cout << "\nRun " << id << " (" << rec->name << "): " << rec->status << ", " << rec->step << "/" << rec->totalSteps
            << " steps, " << shortNumber(rec->finished - rec->started) << " s\n";
  for (const auto& [k, v] : rec->latest)
    if (k.rfind("test/", 0) == 0 || k == "train/loss") std::cout << "  " << k << " = " << shortNumber(v) << "\n";
  std::cout << "Stored in " << store.path() << "\n";
}

}  // namespace continua::app
