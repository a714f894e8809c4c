// The CPU's ceiling for the scan's inner work: one vectorised exp and two fused multiply-adds per element
// (h = exp(dt A) h + dt u B, then y += C h), on L1-resident data over every lane and thread — the forward can
// do no better than this (reference/perf.md §4). Compiled per instruction set like the kernels.
//
// Each round reads its own row of dt, so every element's exp has an argument of its own, as in the scan. With one
// dt for all rounds (this function's first version) GCC unrolled two rounds and computed their common exp once,
// so the "roofline" did half an exp per element and stood ~1.6x too high. It uses the kernels' vector exp
// (cpu_vec.h), whose clamp is two instructions: with cpu_math.h's scalar exp (compare and blend) it would sit below
// what the forward itself now does.
#include "kernels/cpu_isa_namespace.h"
#include "kernels/cpu_math.h"
#include "kernels/cpu_vec.h"

#include <omp.h>

#include <chrono>
#include <vector>

namespace continua::kernels {
namespace CONTINUA_CPU_ISA {

double expRooflineGelems(int threads) {
  constexpr int kWidth = 256, kRounds = 20000;  // 256 lanes of state: registers and L1
  constexpr int kRows = 4;                       // distinct dt rows, cycled through by the rounds
  double seconds = 0;
  float sink = 0;
#pragma omp parallel num_threads(threads) reduction(+ : sink)
  {
    cpu::FlushDenormals ftz;
    alignas(64) float h[kWidth], dt[kRows][kWidth], a[kWidth], bu[kWidth], c[kWidth], y[kWidth];
    for (int i = 0; i < kWidth; ++i) {
      for (int r = 0; r < kRows; ++r) dt[r][i] = 0.01f * float(1 + (i + r) % 5);
      h[i] = 0.1f * float(i % 7); a[i] = -1.0f - float(i % 3);
      bu[i] = 0.001f * float(i % 11); c[i] = 0.5f; y[i] = 0.0f;
    }
#pragma omp barrier
    const auto t0 = std::chrono::steady_clock::now();
    for (int r = 0; r < kRounds; ++r) {
      const float* __restrict dtr = dt[r % kRows];
      for (int i = 0; i < kWidth; i += cpu::kVecLanes) {
        using cpu::loadV;
        const cpu::Vec hv = cpu::fastExpV(loadV(dtr + i) * loadV(a + i)) * loadV(h + i) + loadV(bu + i);
        cpu::storeV(h + i, hv);
        cpu::storeV(y + i, loadV(y + i) + loadV(c + i) * hv);
      }
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
