#pragma once
// Data-parallel meta-training over LibTorch's c10d: a TCPStore rendezvous and a Gloo process group (CPU
// tensors; gradients of a CUDA run are reduced through host memory, since Debian's LibTorch has no NCCL).
// The batch of a step is `optim.shards` shards, each drawn from its own seed stream (seed, step, shard);
// rank r computes shards r, r + W, ... and the gradients are summed over ranks, so any number of ranks that
// divides the shards trains exactly the model one process trains on the combined batch (docs/SCALE.md).
#include "core/train/task_runner.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace continua::core {

// Where the group meets: MASTER_ADDR / MASTER_PORT / RANK / WORLD_SIZE (torchrun's), else Slurm's
// SLURM_PROCID / SLURM_NTASKS and the first host of SLURM_NODELIST (port MASTER_PORT or 29500).
struct Rendezvous {
  std::string masterAddress;
  int port = 29500;
  int rank = 0, worldSize = 1;
  std::string source;  // "environment" or "slurm"
};
Rendezvous rendezvousFromEnvironment();  // ConfigError naming what is missing
std::string firstSlurmHost(const std::string& nodeList);  // "gpu[03-05,9],cpu1" -> "gpu03"

// A peer stopped answering or died: the run ends as interrupted, resumable from its last checkpoint.
struct RankLost : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class ProcessGroup {
 public:
  ProcessGroup(const Rendezvous& where, std::chrono::seconds timeout);
  ~ProcessGroup();
  int rank() const { return m_rank; }
  int size() const { return m_size; }
  // Sums the tensors over every rank, in place, flattened into buckets of about 25 MB. Throws RankLost.
  void sum(const std::vector<torch::Tensor>& tensors);
  // Small values shared through the rendezvous store (rank 0 publishes where training starts).
  void publish(const std::string& key, const std::string& value);
  std::string fetch(const std::string& key);  // waits for the key, up to the timeout
  bool has(const std::string& key);

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
  int m_rank = 0, m_size = 1;
};

// The generator of one shard of one step: the same on every rank and in a single process.
torch::Generator shardGenerator(uint64_t seed, int64_t step, int64_t shard);

// One step's forward and backward passes: gradients left in the parameters (not yet clipped), the loss and the
// step's training metrics. Unsharded and alone: one batch from the run's episode stream `gen`, as always.
// Sharded or distributed: `optim.shards` batches, each from its own stream (seed, step, shard), this rank's
// share of them, gradients and metrics summed over the ranks and averaged over the shards. Throws RankLost.
struct StepOutcome {
  double loss = 0;
  std::vector<std::pair<std::string, double>> metrics;
};
StepOutcome computeGradients(TaskRunner& runner, torch::optim::Optimizer& optimizer, torch::Generator& gen, int64_t step,
                             double lambda, const nlohmann::json& config, ProcessGroup* group);

}  // namespace continua::core
