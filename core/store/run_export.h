#pragma once
// Read-side views of the run store shared by the CLI and the workbench: JSON documents, CSV export (long
// format: run, name, kind, key, step, x, wall_time, value) and run comparison (config differences, final metrics).
#include "core/store/run_store.h"

#include <ostream>

namespace continua::core {

nlohmann::json runsToJson(const std::vector<RunSummary>& runs);
nlohmann::json runToJson(const RunStore& store, const RunRecord& run);

void exportCsv(const RunStore& store, const std::vector<int64_t>& runs, std::ostream& out);
nlohmann::json exportJson(const RunStore& store, const std::vector<int64_t>& runs);

struct RunComparison {
  std::vector<int64_t> runs;
  std::vector<std::vector<std::string>> config;   // rows: key, value per run
  std::vector<std::vector<std::string>> metrics;  // rows: metric, latest value per run
  std::vector<std::string> differingKeys;
};
RunComparison compareRuns(const RunStore& store, const std::vector<int64_t>& runs, bool includeEqual);
nlohmann::json comparisonToJson(const RunComparison& c);

}  // namespace continua::core
