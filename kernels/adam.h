#pragma once
// The optimiser's per-parameter loops (CPU, float32), built per instruction set like the scan kernels and used by
// core/train/optimizer.h: one Adam/AdamW update, and a sum of squares for gradient clipping. Plain C++ (no torch).
#include <cstdint>

namespace continua::kernels {

// m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  w -= stepSize m / (sqrt(v) / sqrtBiasCorrection2 + eps), with
// weight decay either decoupled (AdamW: w *= 1 - lr wd first) or as L2 (Adam: g += wd w).
struct AdamUpdateParams {
  int64_t n = 0;
  float* param = nullptr;
  const float* grad = nullptr;
  float* expAvg = nullptr;
  float* expAvgSq = nullptr;
  float beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;
  float stepSize = 0;              // lr / (1 - beta1^step)
  float sqrtBiasCorrection2 = 1;   // sqrt(1 - beta2^step)
  float weightDecay = 0;
  bool decoupled = false;
  float decoupledShrink = 1;       // 1 - lr wd
};
void adamUpdateCpu(const AdamUpdateParams& p);

struct SumOfSquaresParams {
  const float* x = nullptr;
  int64_t n = 0;
  double* out = nullptr;  // sum of x^2, accumulated in double
};
void sumOfSquaresCpu(const SumOfSquaresParams& p);

}  // namespace continua::kernels
