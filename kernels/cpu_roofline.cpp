// The CPU's ceiling for the scan's inner work: one vectorised exp and two fused multiply-adds per element
// (h = exp(dt A) h + dt u B, then y += C h), on L1-resident data over every lane and thread — the forward can
// do no better than this (reference/perf.md §4). Compiled per instruction set like the kernels.
#include "kernels/cpu_isa_namespace.h"
#include "kernels/cpu_math.h"

#include <omp.h>

#include <chrono>
#include <vector>

namespace continua::kernels {
namespace CONTINUA_CPU_ISA {

double expRooflineGelems(int threads) {
  constexpr int kWidth = 256, kRounds = 20000;  // 256 lanes of state: registers and L1
  double seconds = 0;
  float sink = 0;
#pragma omp parallel num_threads(threads) reduction(+ : sink)
  {
    cpu::FlushDenormals ftz;
    alignas(64) float h[kWidth], dt[kWidth], a[kWidth], bu[kWidth], c[kWidth], y[kWidth];
    for (int i = 0; i < kWidth; ++i) {
      h[i] = 0.1f * float(i % 7); dt[i] = 0.01f * float(1 + i % 5); a[i] = -1.0f - float(i % 3);
      bu[i] = 0.001f * float(i % 11); c[i] = 0.5f; y[i] = 0.0f;
    }
#pragma omp barrier
    const auto t0 = std::chrono::steady_clock::now();
    for (int r = 0; r < kRounds; ++r)
      for (int i = 0; i < kWidth; ++i) {
        h[i] = cpu::fastExp(dt[i] * a[i]) * h[i] + bu[i];
        y[i] += c[i] * h[i];
      }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
#pragma omp critical
    seconds = std::max(seconds, s);
    for (int i = 0; i < kWidth; ++i) sink += y[i];
  }
  volatile float keep = sink;
  (void)keep;
  return double(threads) * kWidth * kRounds / seconds / 1e9;
}

}  // namespace CONTINUA_CPU_ISA
}  // namespace continua::kernels
