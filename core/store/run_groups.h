#pragma once
// Runs grouped for seed statistics: every run with the same name (a configuration repeated over seeds) is
// one group, and each requested quantity is reported as mean, sample standard deviation and count over the
// group's finished runs. Used by `continua-cli summary` (docs/CLI.md) and written to docs/RESULTS.md tables.
//
// A quantity is one of:
//   "test/accuracy"           a metric's latest value
//   "train/loss@first"        a metric's first logged value
//   "examples/error@20"       a curve's value at x = 20, from the last step the curve was recorded at
//   "wall"                    seconds from start to finish
#include "core/store/run_store.h"

#include <map>
#include <string>
#include <vector>

namespace continua::core {

struct Statistic {
  double mean = std::nan(""), std = std::nan("");
  int count = 0;
  std::string text(int decimals) const;  // "0.812 ± 0.013 (3)", "-" when count is 0
};

struct RunGroup {
  std::string name;
  std::vector<int64_t> runs;
  std::vector<int64_t> seeds;
  std::vector<Statistic> values;  // one per requested quantity, in order
};

// Groups in order of their first run. Only finished runs count; a group with none is left out.
std::vector<RunGroup> groupRuns(const RunStore& store, const RunFilter& filter, const std::vector<std::string>& quantities);

// A run's curves, read once and kept: a report's figures and a claims file's "curve@x" quantities ask for many
// points of the same runs' curves, and each read is every point of the run.
class CurveCache {
 public:
  explicit CurveCache(const RunStore& store) : m_store(store) {}
  const std::vector<CurvePoint>& of(int64_t run);

 private:
  const RunStore& m_store;
  std::map<int64_t, std::vector<CurvePoint>> m_curves;
};

// One quantity of one run (NaN when the run lacks it). "curve@x" quantities read the run's curves through
// `curves` when given (or once per call without it).
double runQuantity(const RunStore& store, const RunSummary& run, const std::string& quantity, CurveCache* curves = nullptr);

Statistic statisticOf(const std::vector<double>& values);  // NaNs skipped

// The runs, grouped where their configurations are equal but for seed and name (seed repeats of one
// experiment), in the order of each group's first run.
std::vector<std::vector<int64_t>> groupIgnoringSeed(const RunStore& store, const std::vector<int64_t>& runs);

}  // namespace continua::core
