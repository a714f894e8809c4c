#pragma once
// How many intra-op CPU threads a run uses. `threads` > 0 in the experiment is taken as given; 0 (the default,
// "auto") is chosen here from the size of a training step and the CPUs the process may use.
//
// Measured (docs/RESULTS.md §3, `bench train --threads 1,2 --rounds 7`, 2-core AMD EPYC, medians of per-round
// ratios): what a second thread buys grows with the step — nothing at 1 task of the quick-start's episode (9-11
// MFLOP per forward step: Mamba 1.07, the Transformer 0.99), +7-11% at 2 tasks (18-23 MFLOP), +24-37% from 5 to
// 10 tasks, +38-56% at 20 to 80 — and a tiny test experiment (0.3 MFLOP) ran 1-18% slower on two. So a run takes
// one thread below the 1-task size and every CPU it may use above it.
#include <cstdint>

namespace continua::core {

// Forward FLOPs of one training step (tokens per sequence x FLOPs per token x sequences) from which a second
// thread paid for itself in the measurement above.
constexpr double kThreadedStepFlops = 12e6;

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
