#pragma once
// Mamba's causal depthwise convolution with its SiLU, fused (CPU, float32), in the channels-last layout the
// block already has (no transposes, no copies of the strided x half of in_proj's output):
//   y[b, t, c] = silu(bias[c] + sum_k w[c, k] x[b, t - K + 1 + k, c]),  x before t = 0 is zero.
// Plain C++ (no torch). x may have any batch and time strides; its channels must be contiguous.
#include <cstdint>

namespace continua::kernels {

struct CausalConvParams {
  int batch = 0, length = 0, channels = 0, kernel = 0;
  int numThreads = 1;
  const float* x = nullptr;  int64_t xBatchStride = 0, xTimeStride = 0;
  const float* weight = nullptr;  // (channels, kernel)
  const float* bias = nullptr;    // (channels), optional
  float* y = nullptr;             // (batch, length, channels), contiguous
};

struct CausalConvGradParams : CausalConvParams {
  const float* dy = nullptr;  // (batch, length, channels), contiguous
  float* dx = nullptr;        // (batch, length, channels), contiguous
  float* dWeight = nullptr;   // (channels, kernel), overwritten
  float* dBias = nullptr;     // (channels), overwritten; required when bias is given
};

void causalConvSiluForwardCpu(const CausalConvParams& p);
void causalConvSiluBackwardCpu(const CausalConvGradParams& p);

}  // namespace continua::kernels
