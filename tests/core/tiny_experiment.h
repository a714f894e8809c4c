#pragma once
// The smallest experiment that exercises every part of an MCL run (evaluations, probe maps, checkpoints every 4
// steps, final sweeps) in well under a second per step: shared by the engine and reliability tests.
#include <nlohmann/json.hpp>

#include <cstdint>

namespace continua::test {

inline nlohmann::json tinyExperiment(int steps, uint64_t seed) {
  return {{"name", "tiny"}, {"seed", seed},
          {"model", {{"family", "mamba"}, {"d_model", 16}, {"layers", 1}, {"d_state", 4}}},
          {"episode", {{"tasks", 3}, {"shots", 2}, {"test_shots", 1}}},
          {"eval_episode", {{"tasks", 3}, {"shots", 2}}},
          {"data", {{"classes", 40}, {"dim", 8}}},
          {"optim", {{"steps", steps}, {"batch_size", 4}, {"lr", 3e-3}}},
          {"eval", {{"every", 5}, {"episodes", 8}, {"final_episodes", 4}, {"length_tasks", {2, 3}}, {"length_shots", {2}},
                    {"noise_levels", {0.0}}}},
          {"checkpoint", {{"every", 4}}}};
}

}  // namespace continua::test
