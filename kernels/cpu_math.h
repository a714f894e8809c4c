#pragma once
// Branch-free float math the compiler can vectorise: the scan's cost is one exp per (b, t, d, n), and
// libm's scalar expf would dominate it (reference/perf.md §4). Relative error of fastExp < 2e-7 over the
// range the scan uses; results below e^-87 flush to ~1e-38 instead of 0, which no scan can tell apart.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <xmmintrin.h>

#include "kernels/cpu_isa_namespace.h"

namespace continua::kernels::cpu {
// Compiled once per instruction set (kernels/CMakeLists.txt): the inline namespace keeps each build's inline
// functions apart, so the linker never hands AVX-512 code to a baseline caller.
inline namespace CONTINUA_CPU_ISA {

// Flush-to-zero and denormals-are-zero for the calling thread while in scope. Decaying states and exp tails
// produce denormals, and each one costs a microcode assist: measured 2-2.5x slower scans without this.
// Nothing below 1e-38 is visible against the kernels' error bounds.
class FlushDenormals {
 public:
  FlushDenormals() : m_saved(_mm_getcsr()) { _mm_setcsr(m_saved | 0x8040u); }
  ~FlushDenormals() { _mm_setcsr(m_saved); }
  FlushDenormals(const FlushDenormals&) = delete;
  FlushDenormals& operator=(const FlushDenormals&) = delete;

 private:
  unsigned m_saved;
};

// exp(r) for |r| <= ln(2)/2 (Cephes' polynomial), for a float or a GCC vector of floats (cpu_vec.h).
template <typename T>
inline T expOfReduced(T r) {
  T p = 1.9875691500e-4f * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  return p * r * r + r + 1.0f;
}

// log(1 + f) for f = m - 1, m in [sqrt(1/2), sqrt(2)) (Cephes' polynomial), for a float or a GCC vector.
template <typename T>
inline T logOfReduced(T f) {
  T p = 7.0376836292e-2f * f - 1.1514610310e-1f;
  p = p * f + 1.1676998740e-1f;
  p = p * f - 1.2420140846e-1f;
  p = p * f + 1.4249322787e-1f;
  p = p * f - 1.6668057665e-1f;
  p = p * f + 2.0000714765e-1f;
  p = p * f - 2.4999993993e-1f;
  p = p * f + 3.3333331174e-1f;
  return f + f * f * (f * p - 0.5f);
}

inline float fastExp(float x) {
  x = std::min(std::max(x, -87.0f), 88.0f);
  // k = floor(x log2(e) + 1/2) through a truncating int conversion of a value made positive by +128 (x >= -87,
  // so it is > 2): no compare and no std::floor, which needs SSE4.1's roundps, so the baseline build vectorises.
  const float k = static_cast<float>(static_cast<int32_t>(x * 1.44269504088896341f + 128.5f)) - 128.0f;
  const float r = x - k * 0.693359375f + k * 2.12194440e-4f;  // x - k*ln2 in two parts (Cody-Waite)
  const float p = expOfReduced(r);
  const int32_t bits = (static_cast<int32_t>(k) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

// Natural log for x > 0 (normal numbers): exponent from the bits, Cephes' polynomial on the mantissa. T is a float
// or a GCC vector of floats (cpu_vec.h), I the same-size integer type and toFloat its conversion to T.
template <typename T, typename I, typename ToFloat>
inline T fastLogOf(T x, ToFloat toFloat) {
  I bits;
  std::memcpy(&bits, &x, sizeof bits);
  T e = toFloat(((bits >> 23) & 0xff) - 127);
  bits = (bits & 0x007fffff) | 0x3f800000;  // mantissa in [1, 2)
  T m;
  std::memcpy(&m, &bits, sizeof m);
  const auto big = m > 1.41421356f;  // recentre to [sqrt(1/2), sqrt(2)) for accuracy
  m = big ? m * 0.5f : m;
  e = big ? e + 1.0f : e;
  return logOfReduced(m - 1.0f) + e * 0.693147180559945f;
}
inline float fastLog(float x) {
  return fastLogOf<float, int32_t>(x, [](int32_t i) { return static_cast<float>(i); });
}

// log1p(eps) for eps >= 0 as log(u) * eps / (u - 1), u = 1 + eps: exact for the rounding of u
// (Goldberg's trick). Written with selects only, so loops over it vectorise.
inline float fastLog1p(float eps) {
  const float u = 1.0f + eps, d = u - 1.0f;
  const float viaLog = fastLog(u) * (eps / std::max(d, 1e-30f));
  return d > 0.0f ? viaLog : eps;
}

inline float sigmoid(float x) { return 1.0f / (1.0f + fastExp(-x)); }
inline float silu(float x) { return x * sigmoid(x); }
// softplus(x) and its derivative sigmoid(x) from one exp: e / (1 + e) with the e that softplus needs anyway.
inline float softplusWithSlope(float x, float* slope) {
  const float e = fastExp(std::min(x, 20.0f));
  *slope = x > 20.0f ? 1.0f : e / (1.0f + e);
  const float soft = fastLog1p(e);
  return x > 20.0f ? x : soft;
}
inline float softplus(float x) {
  float unused;  // the slope's division is dead code once inlined
  return softplusWithSlope(x, &unused);
}

}  // namespace CONTINUA_CPU_ISA
}  // namespace continua::kernels::cpu
