#pragma once
// Queries answered after a stream (MCL's test queries, cl-as-seq's block mask, for a recurrent model): query q
// of batch b is one scan step from the state the stream left, h[b], the same for every query of b:
//   dt = softplus(delta + bias);  h'[n] = exp(dt A[n]) h[b, n] + dt B[q, n] u;  y = sum_n C[q, n] h'[n] + D u
//   out = y * silu(z)
// One call does every query without materialising a (queries, channels, states) tensor; the backward sums the
// queries' state gradients into dState. Plain C++ (no torch); float32, CPU. Shapes, all contiguous:
//   u, delta, z, out: (batch, queries, channels)   B, C: (batch, queries, states)   state: (batch, channels, states)
//   A: (channels, states)   D, deltaBias: (channels)
#include <cstdint>

namespace continua::kernels {

struct QueryStepParams {
  int batch = 0, queries = 0, channels = 0, states = 0;
  bool deltaSoftplus = true;
  int numThreads = 1;
  const float* u = nullptr;
  const float* delta = nullptr;
  const float* A = nullptr;
  const float* B = nullptr;
  const float* C = nullptr;
  const float* D = nullptr;          // optional
  const float* z = nullptr;          // optional
  const float* deltaBias = nullptr;  // optional
  const float* state = nullptr;
  float* out = nullptr;
};

struct QueryStepGradParams : QueryStepParams {
  const float* dout = nullptr;
  // Outputs, overwritten: du, ddelta, dz like u; dB, dC like B; dA like A; dD, dDeltaBias (channels);
  // dState like state. dz, dD, dDeltaBias are required when z, D, deltaBias are given.
  float* du = nullptr;
  float* ddelta = nullptr;
  float* dz = nullptr;
  float* dA = nullptr;
  float* dB = nullptr;
  float* dC = nullptr;
  float* dD = nullptr;
  float* dDeltaBias = nullptr;
  float* dState = nullptr;
};

void queryStepForwardCpu(const QueryStepParams& p);
void queryStepBackwardCpu(const QueryStepGradParams& p);

}  // namespace continua::kernels
