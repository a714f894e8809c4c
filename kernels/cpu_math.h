#pragma once
// Branch-free float math the compiler can vectorise: the scan's cost is one exp per (b, t, d, n), and
// libm's scalar expf would dominate it (reference/perf.md §4). Relative error of fastExp < 2e-7 over the
// range the scan uses; results below e^-87 flush to ~1e-38 instead of 0, which no scan can tell apart.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace continua::kernels::cpu {

inline float fastExp(float x) {
  x = std::min(std::max(x, -87.0f), 88.0f);
  const float k = std::floor(x * 1.44269504088896341f + 0.5f);
  const float r = x - k * 0.693359375f + k * 2.12194440e-4f;  // x - k*ln2 in two parts (Cody-Waite)
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(k) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

inline float sigmoid(float x) { return 1.0f / (1.0f + fastExp(-x)); }
inline float silu(float x) { return x * sigmoid(x); }
inline float softplus(float x) { return x > 20.0f ? x : std::log1p(fastExp(x)); }

}  // namespace continua::kernels::cpu
