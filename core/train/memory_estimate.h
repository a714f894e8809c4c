#pragma once
// A training step's memory, estimated from the configuration before a run exists, so a size that cannot fit
// is refused with the estimate and the limit in the message instead of dying in LibTorch's allocator (or
// being OOM-killed) after the run was created. The estimate counts what autograd keeps per token and block
// (a deliberate over- rather than under-estimate, within a small factor); see docs/RELIABILITY.md.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace continua::core {

struct MemoryEstimate {
  double stepBytes = 0;   // activations, gradients and inputs of one training step
  int64_t tokens = 0;     // tokens per sequence
  std::string describe() const;
};

MemoryEstimate estimateTrainingStep(const nlohmann::json& experiment);
// The memory this process may use: MemAvailable of /proc/meminfo (or physical memory), in bytes.
double availableMemoryBytes();
// Throws ConfigError naming the estimate, the limit and the fields to reduce when the step cannot fit.
void requireFitsInMemory(const nlohmann::json& experiment, double availableBytes);

}  // namespace continua::core
