#pragma once
// The query steps of kernels/selective_scan_queries.h as a LibTorch autograd operation: every query of a batch
// element one scan step from that element's state, differentiable in every input (the state's gradient is the
// sum over its queries). CPU float32 runs the fused kernel; other devices and dtypes take the same steps through
// selectiveScan over (batch x queries) sequences of length 1 (core/ops/selective_scan_op.h).
#include "core/ops/selective_scan_op.h"

namespace continua::core {

// u, delta, z: (batch, queries, channels); B, C: (batch, queries, states); state: (batch, channels, states);
// A, D, deltaBias as selectiveScan. Returns (batch, queries, channels).
torch::Tensor selectiveScanQueries(const ScanInputs& queries, const torch::Tensor& state);

}  // namespace continua::core
