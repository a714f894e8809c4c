#pragma once
// The widest vector of floats the build has, as a GCC vector value (vector_size extension): 16 lanes in the AVX-512
// build, 8 in AVX2, 4 in the baseline. Plain arrays over a block's lanes leave it to the compiler whether a value
// stays in a register; a loop that carries a tile of states through time (the backward's adjoint) needs them to,
// and a vector-typed local does. Arithmetic is the same as cpu_math.h's, operation for operation.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/cpu_isa_namespace.h"
#include "kernels/cpu_math.h"

// Every function here is inline and used inside one build's files, so the baseline build's warning that a 64-byte
// vector argument changes the calling convention without AVX-512 concerns no interface.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"

namespace continua::kernels::cpu {
inline namespace CONTINUA_CPU_ISA {

#if defined(__AVX512F__)
constexpr int kVecLanes = 16;
#elif defined(__AVX2__)
constexpr int kVecLanes = 8;
#else
constexpr int kVecLanes = 4;
#endif
typedef float Vec __attribute__((vector_size(kVecLanes * 4)));
typedef int32_t VecInts __attribute__((vector_size(kVecLanes * 4)));

inline Vec loadV(const float* p) {
  Vec v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void storeV(float* p, Vec v) { std::memcpy(p, &v, sizeof v); }
inline Vec splat(float x) { return Vec{} + x; }
// A store past the caches (non-temporal) to a vector-aligned address; the caller fences before the data is read.
inline void streamV(float* p, Vec v) {
#if defined(__AVX512F__)
  _mm512_stream_ps(p, (__m512)v);
#elif defined(__AVX2__)
  _mm256_stream_ps(p, (__m256)v);
#else
  _mm_stream_ps(p, (__m128)v);
#endif
}

// min(hi, x) and max(lo, x) as one instruction each. Written as `x < lo ? lo : x`, GCC emits a compare and a blend
// (it cannot prove the instruction's NaN rule harmless); the instructions return their second operand when either
// is NaN, so with x second a NaN still comes through, as from the compare-and-select form.
inline Vec minV(float hi, Vec x) {
#if defined(__AVX512F__)
  return (Vec)_mm512_min_ps(_mm512_set1_ps(hi), (__m512)x);
#elif defined(__AVX2__)
  return (Vec)_mm256_min_ps(_mm256_set1_ps(hi), (__m256)x);
#else
  return (Vec)_mm_min_ps(_mm_set1_ps(hi), (__m128)x);
#endif
}
inline Vec maxV(float lo, Vec x) {
#if defined(__AVX512F__)
  return (Vec)_mm512_max_ps(_mm512_set1_ps(lo), (__m512)x);
#elif defined(__AVX2__)
  return (Vec)_mm256_max_ps(_mm256_set1_ps(lo), (__m256)x);
#else
  return (Vec)_mm_max_ps(_mm_set1_ps(lo), (__m128)x);
#endif
}
inline Vec clampV(Vec x, float lo, float hi) { return minV(hi, maxV(lo, x)); }

// cpu::fastExp over the lanes (see cpu_math.h for the method and its error).
inline Vec fastExpV(Vec x) {
  x = clampV(x, -87.0f, 88.0f);
  const VecInts shifted = __builtin_convertvector(x * 1.44269504088896341f + 128.5f, VecInts);
  const Vec k = __builtin_convertvector(shifted, Vec) - 128.0f;
  const Vec r = x - k * 0.693359375f + k * 2.12194440e-4f;
  const Vec p = expOfReduced(r);
  const VecInts bits = (__builtin_convertvector(k, VecInts) + 127) << 23;
  return p * (Vec)bits;  // a same-size vector cast reinterprets the bits
}

// cpu::fastLog, fastLog1p, sigmoid and softplusWithSlope over the lanes, operation for operation (cpu_math.h).
// The scalar forms inside a loop over a block's lanes vectorise too, but GCC keeps their clamps as compare + blend
// and, with the outputs behind pointers that may alias, versions or splits the loop; these stay in registers.
inline Vec fastLogV(Vec x) {
  return fastLogOf<Vec, VecInts>(x, [](VecInts i) { return __builtin_convertvector(i, Vec); });
}
inline Vec fastLog1pV(Vec eps) {
  const Vec u = 1.0f + eps, d = u - 1.0f;
  const Vec viaLog = fastLogV(u) * (eps / maxV(1e-30f, d));
  return d > 0.0f ? viaLog : eps;
}
inline Vec sigmoidV(Vec x) { return 1.0f / (1.0f + fastExpV(-x)); }
inline Vec softplusWithSlopeV(Vec x, Vec* slope) {
  const Vec e = fastExpV(minV(20.0f, x));
  const VecInts linear = x > 20.0f;
  *slope = linear ? splat(1.0f) : e / (1.0f + e);
  return linear ? x : fastLog1pV(e);
}

}  // namespace CONTINUA_CPU_ISA
}  // namespace continua::kernels::cpu

#pragma GCC diagnostic pop
