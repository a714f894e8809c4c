// The fused causal depthwise convolution + SiLU (causal_conv.h). Threads take batch elements; every inner loop
// runs over contiguous channels, so it vectorises. The backward recomputes the pre-activation (one multiply-add
// per tap) rather than keeping it, and sums the weight and bias gradients per thread, reduced at the end.
#include "kernels/cpu_isa_namespace.h"
#include "kernels/causal_conv.h"

#include "kernels/cpu_math.h"

#include <omp.h>

#include <stdexcept>
#include <vector>

namespace continua::kernels {
namespace CONTINUA_CPU_ISA {  // one build per instruction set; cpu_dispatch.cpp picks one at run time
using namespace cpu;

namespace {

void validate(const CausalConvParams& p) {
  if (p.batch < 1 || p.length < 1 || p.channels < 1 || p.kernel < 1 || !p.x || !p.weight)
    throw std::invalid_argument("causal conv: batch, length, channels, kernel >= 1 and x, weight are required");
}

// The pre-activation of one row: bias + sum over taps, for every channel. wt is the weight transposed to
// (kernel, channels) so each tap is a contiguous row.
void preActivation(const CausalConvParams& p, const float* wt, int b, int t, float* __restrict out) {
  const int C = p.channels, K = p.kernel;
  for (int c = 0; c < C; ++c) out[c] = p.bias ? p.bias[c] : 0.0f;
  for (int k = 0; k < K; ++k) {
    const int src = t - K + 1 + k;
    if (src < 0) continue;
    const float* __restrict xr = p.x + b * p.xBatchStride + int64_t(src) * p.xTimeStride;
    const float* __restrict wk = wt + int64_t(k) * C;
    for (int c = 0; c < C; ++c) out[c] += wk[c] * xr[c];
  }
}

std::vector<float> transposed(const CausalConvParams& p) {
  std::vector<float> wt(size_t(p.kernel) * p.channels);
  for (int c = 0; c < p.channels; ++c)
    for (int k = 0; k < p.kernel; ++k) wt[size_t(k) * p.channels + c] = p.weight[size_t(c) * p.kernel + k];
  return wt;
}

}  // namespace

void causalConvSiluForwardCpu(const CausalConvParams& p) {
  validate(p);
  const std::vector<float> wt = transposed(p);
  const int C = p.channels;
#pragma omp parallel for num_threads(p.numThreads) schedule(static)
  for (int b = 0; b < p.batch; ++b)
    for (int t = 0; t < p.length; ++t) {
      float* __restrict y = p.y + (int64_t(b) * p.length + t) * C;
      preActivation(p, wt.data(), b, t, y);
      for (int c = 0; c < C; ++c) y[c] = silu(y[c]);
    }
}

void causalConvSiluBackwardCpu(const CausalConvGradParams& p) {
  validate(p);
  if (!p.dy || !p.dx || !p.dWeight || (p.bias && !p.dBias))
    throw std::invalid_argument("causal conv backward: dy, dx, dWeight (and dBias with a bias) are required");
  const std::vector<float> wt = transposed(p);
  const int C = p.channels, K = p.kernel, L = p.length;
  const int threads = std::max(1, std::min(p.numThreads, p.batch));
  std::vector<float> dwPart(size_t(threads) * K * C, 0.0f), dbPart(size_t(threads) * C, 0.0f);
#pragma omp parallel num_threads(threads)
  {
    const int me = omp_get_thread_num();
    float* dwt = dwPart.data() + size_t(me) * K * C;  // (kernel, channels)
    float* db = dbPart.data() + size_t(me) * C;
    std::vector<float> ds(size_t(L) * C);  // the gradient at the pre-activation, for one batch element
#pragma omp for schedule(static)
    for (int b = 0; b < p.batch; ++b) {
      for (int t = 0; t < L; ++t) {
        float* __restrict d = ds.data() + size_t(t) * C;
        preActivation(p, wt.data(), b, t, d);
        const float* __restrict dy = p.dy + (int64_t(b) * L + t) * C;
        for (int c = 0; c < C; ++c) {
          const float sg = sigmoid(d[c]);
          d[c] = dy[c] * sg * (1.0f + d[c] * (1.0f - sg));  // silu'(v) = s (1 + v (1 - s))
          db[c] += d[c];
        }
      }
      for (int t = 0; t < L; ++t) {
        float* __restrict dx = p.dx + (int64_t(b) * L + t) * C;
        const float* __restrict xr = p.x + b * p.xBatchStride + int64_t(t) * p.xTimeStride;
        for (int c = 0; c < C; ++c) dx[c] = 0.0f;
        for (int k = 0; k < K; ++k) {  // x_t feeds output t + K - 1 - k through tap k
          const int out = t + K - 1 - k;
          if (out >= L) continue;
          const float* __restrict d = ds.data() + size_t(out) * C;
          const float* __restrict wk = wt.data() + size_t(k) * C;
          float* __restrict dwk = dwt + size_t(k) * C;
          for (int c = 0; c < C; ++c) {
            dx[c] += wk[c] * d[c];
            dwk[c] += d[c] * xr[c];
          }
        }
      }
    }
  }
  for (int c = 0; c < C; ++c) {
    for (int k = 0; k < K; ++k) {
      float s = 0.0f;
      for (int th = 0; th < threads; ++th) s += dwPart[(size_t(th) * K + k) * C + c];
      p.dWeight[size_t(c) * K + k] = s;
    }
    if (p.dBias) {
      float s = 0.0f;
      for (int th = 0; th < threads; ++th) s += dbPart[size_t(th) * C + c];
      p.dBias[c] = s;
    }
  }
}

}  // namespace CONTINUA_CPU_ISA
}  // namespace continua::kernels
