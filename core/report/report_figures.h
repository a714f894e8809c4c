#pragma once
// The figures of a report, drawn from stored runs: per task, learning curves (test metric and training
// loss, mean ± std over seeds), length generalisation (tasks, shots; the region past the training length
// shaded), the streaming meta-test with the state's memory, noise robustness, ICL error against in-context
// examples with the classical baselines, and each group's association maps against the ground truth.
#include "core/store/run_groups.h"
#include "core/store/run_store.h"

#include <map>
#include <string>
#include <vector>

namespace continua::core {

// Finished runs with one name: one configuration repeated over seeds.
struct ReportGroup {
  std::string name, model, task;
  std::vector<RunSummary> runs;
  nlohmann::json config;  // the first run's
};

struct ReportFigure {
  std::string file;     // relative to the report folder, e.g. "figures/mcl-synthetic-length-tasks.png"
  std::string caption;
};

std::vector<ReportGroup> groupByName(const RunStore& store, const std::vector<RunSummary>& finished);
std::string slug(const std::string& text);

// Draws every figure the groups of one task have data for into `folder`/figures; returns them in order.
std::vector<ReportFigure> drawTaskFigures(const RunStore& store, CurveCache& curves, const std::vector<ReportGroup>& groups,
                                          const std::string& folder);

}  // namespace continua::core
