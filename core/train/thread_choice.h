#pragma once
// How many intra-op CPU threads a run uses. `threads` > 0 in the experiment is taken as given; 0 (the default,
// "auto") is chosen here from the size of a training step and the CPUs the process may use.
//
// Measured (docs/RESULTS.md §3, `bench train --threads 1,2`, 2-core AMD EPYC): a second thread made small steps
// slower — 1 to 5 tasks of the quick-start's episode, up to 60 MFLOP per forward, 10-20% fewer episodes/s for
// Mamba and the Transformer alike — and every larger one faster: +22-33% at 10 tasks (90-131 MFLOP), +43-54%
// at 20 to 80. Below the threshold, between the two, a run takes one thread; above it, all it may use.
#include <cstdint>

namespace continua::core {

// Forward FLOPs of one training step (tokens per sequence x FLOPs per token x sequences) from which a second
// thread paid for itself in the measurement above.
constexpr double kThreadedStepFlops = 75e6;

// The CPUs this process may run on (its affinity mask, so `taskset`, cgroups' cpusets and Slurm's
// --cpus-per-task count), shared among the runs started together on this machine: a local sweep sets
// CONTINUA_CONCURRENT_RUNS in its runs' environment; data-parallel ranks on one node are counted by
// LOCAL_WORLD_SIZE (torchrun's name) when it is set. At least 1.
int usableCpus();

// The thread count for `requested` (the experiment's `threads`): itself when > 0, else 1 for a step of fewer
// than kThreadedStepFlops, else `cpus`.
int chooseThreadCount(int requested, double stepFlops, int cpus);

// Forward FLOPs of one training step: `sequences` sequences of `tokens` tokens at `flopsPerToken`.
inline double trainingStepFlops(int64_t tokens, double flopsPerToken, int64_t sequences) {
  return double(tokens) * flopsPerToken * double(sequences);
}

}  // namespace continua::core
