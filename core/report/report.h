#pragma once
// `continua-cli report` and the workbench's File > Export report: a folder with report.md (claims checked
// against the runs, final metrics as mean ± std over seeds with the models' size, cost, speed and memory, the
// runs it was made from) and the PNG figures it shows (report_figures.h). Readable from the database alone.
#include "core/store/run_store.h"

#include <string>
#include <vector>

namespace continua::core {

struct ReportOptions {
  std::string folder;       // created when missing
  std::string claimsFile;   // optional: docs/experiments/claims-*.json
  std::string title = "Continua report";
  std::string sweep;        // only the runs of this sweep (with or without run ids)
  bool figures = true;
};

struct ReportSummary {
  std::string markdownPath;
  int runs = 0, groups = 0, figures = 0, claims = 0, reproduced = 0;
};

// `runIds` empty: every run in the store. Unfinished runs are listed but left out of the statistics.
// Throws ConfigError for a bad claims file or unknown run id, StoreError when the folder cannot be written.
ReportSummary writeReport(const RunStore& store, const std::vector<int64_t>& runIds, const ReportOptions& options);

}  // namespace continua::core
