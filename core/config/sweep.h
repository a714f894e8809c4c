#pragma once
// Sweep files: many runs from one experiment, grouped under one sweep in the store. JSON:
//
//   {"name": "lambda-vs-family",
//    "preset": "quickstart",                 // or "experiment": "base.json" (relative to the sweep file)
//    "set":  {"optim.steps": 600},           // fixed overrides
//    "grid": {"model.family": ["mamba", "transformer"], "selectivity.lambda": [0, 1]},
//    "random": {"count": 4, "seed": 0,       // per grid point, `count` draws of these
//               "params": {"optim.lr": {"log_uniform": [1e-4, 1e-2]}, "model.d_state": {"choice": [8, 16]}}},
//    "seeds": [0, 1, 2]}
//
// Every configuration (grid point × random draw) runs once per seed; its runs share one name, "<sweep>
// key=value ...", so `summary` and the workbench treat them as one configuration over seeds. Every key is
// checked against the experiment schema and every expanded experiment validated before anything runs; errors
// name the sweep file, the key and what was expected.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace continua::core {

struct SweepPoint {
  std::string name;            // the run name: the sweep's name and the values that vary
  int64_t seed = 0;
  nlohmann::json experiment;   // complete, validated, with name, seed and sweep set
};

struct Sweep {
  std::string name;
  std::vector<SweepPoint> points;  // configurations in order, each over every seed
};

Sweep loadSweepFile(const std::string& path);

// The workbench's sweep dialog: one line per key, "model.family = mamba, transformer" or
// "eval.length_tasks = [10, 20], [10, 50]" (commas inside brackets belong to a value); values are JSON where
// they parse as JSON, else text. Returns a "grid" object; ConfigError names the line and the key.
nlohmann::json parseGridLines(const std::string& text);
// "0, 1, 2" or "0-4" (inclusive) -> seeds; ConfigError otherwise.
std::vector<int64_t> parseSeeds(const std::string& text);
// `baseDirectory`: where an "experiment" path is resolved; `where`: the file named in errors.
Sweep expandSweep(const nlohmann::json& spec, const std::string& baseDirectory, const std::string& where);

}  // namespace continua::core
