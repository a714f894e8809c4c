#pragma once
// Benchmarks behind `continua-cli bench`. They print tables (and JSON on request); nothing here asserts a
// time. Ratios measured side by side in one run are what the docs quote.
#include <nlohmann/json.hpp>

#include <ostream>
#include <cstdint>
#include <string>
#include <vector>

namespace continua::core {

struct ScanBenchOptions {
  std::string jsonPath;
  int threads = 1;
  int repeats = 5;
  int rounds = 1;  // the whole grid this many times, round after round; medians, speed-ups taken within a round
  bool quick = false;
  bool skipReference = false;
  bool sliceReference = false;  // also the per-step-slice LibTorch loop (O(L^2) backward: minutes at L = 512)
  std::vector<int64_t> shape;  // B, L, D, N: benchmark this one shape instead of the grid
  std::string device = "all";  // "cpu", "cuda" or "all" (CUDA rows need a visible GPU)
};

// Returns a process exit code.
int runScanBenchmark(const ScanBenchOptions& options, std::ostream& out);

struct TrainBenchOptions {
  std::string jsonPath;
  std::vector<int> threads{1};         // each thread count is a block of rows
  int steps = 21;                      // timed steps per cell; the median step is reported
  int rounds = 1;                      // each cell this many times, round-robin; medians, ratios within a round
  int64_t batch = 8;
  std::vector<int64_t> tasks{10};      // tasks per episode, a block of rows each
  std::vector<std::string> models;     // empty: every family
  bool selectivity = false;            // also each model with selectivity.lambda = 1 (the regulariser's cost)
  bool stream = true;                  // the streaming-memory table
  bool quick = false;
  std::vector<int> ranks;              // data-parallel scaling table for these rank counts (include 1); empty: none
};

int runTrainBenchmark(const TrainBenchOptions& options, std::ostream& out);

// The experiment every `bench train` cell trains: the quick-start with this family at this many tasks (no
// curriculum, labels sized to the tasks, sinusoidal positions for attention models, 4 heads).
nlohmann::json benchConfig(const std::string& family, int64_t tasks);

}  // namespace continua::core
