#pragma once
// Checkpoint files: model parameters and buffers, optimizer state, the episode generator's and LibTorch's
// default generator's states, and the step. Written to a temporary file and renamed, so a kill during the
// write leaves the previous checkpoint intact.
#include <torch/torch.h>

#include <string>

namespace continua::core {

struct CheckpointState {
  int64_t step = 0;
  torch::Tensor episodeRng, defaultRng;
};

// Returns the SHA-256 of the written file.
std::string saveCheckpoint(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer& optimizer,
                           const CheckpointState& state);
// Verifies the file against expectedSha256 (when given) before reading it; DataError when it is missing,
// corrupt or unreadable.
CheckpointState loadCheckpoint(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer& optimizer,
                               const std::string& expectedSha256 = {});

}  // namespace continua::core
