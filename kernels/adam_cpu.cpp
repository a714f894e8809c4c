// The optimiser's loops (kernels/adam.h), compiled once per instruction set (kernels/CMakeLists.txt), so they
// vectorise with the widest registers the processor has.
#include "kernels/adam.h"

#include "kernels/cpu_isa_namespace.h"

#include <cmath>

namespace continua::kernels {
namespace CONTINUA_CPU_ISA {

void adamUpdateCpu(const AdamUpdateParams& p) {
  float* __restrict w = p.param;
  const float* __restrict g = p.grad;
  float* __restrict m = p.expAvg;
  float* __restrict v = p.expAvgSq;
  const float b1 = p.beta1, b2 = p.beta2, c1 = 1.0f - p.beta1, c2 = 1.0f - p.beta2;
  const float sqrtBc2 = p.sqrtBiasCorrection2, eps = p.eps, step = p.stepSize, wd = p.weightDecay;
  // Three loops rather than branches inside one, so each vectorises.
  if (wd != 0 && p.decoupled) {
    const float shrink = p.decoupledShrink;
    for (int64_t i = 0; i < p.n; ++i) w[i] *= shrink;
  }
  if (wd != 0 && !p.decoupled) {
    for (int64_t i = 0; i < p.n; ++i) {
      const float gi = g[i] + wd * w[i];
      m[i] = m[i] * b1 + c1 * gi;
      v[i] = v[i] * b2 + c2 * gi * gi;
      w[i] -= step * (m[i] / (std::sqrt(v[i]) / sqrtBc2 + eps));
    }
    return;
  }
  for (int64_t i = 0; i < p.n; ++i) {
    const float gi = g[i];
    m[i] = m[i] * b1 + c1 * gi;
    v[i] = v[i] * b2 + c2 * gi * gi;
    w[i] -= step * (m[i] / (std::sqrt(v[i]) / sqrtBc2 + eps));
  }
}

void sumOfSquaresCpu(const SumOfSquaresParams& p) {
  double sum = 0;  // -fassociative-math (the kernels' flags) lets this reduction vectorise
  for (int64_t i = 0; i < p.n; ++i) sum += double(p.x[i]) * double(p.x[i]);
  *p.out = sum;
}

}  // namespace CONTINUA_CPU_ISA
}  // namespace continua::kernels
