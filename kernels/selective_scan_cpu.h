#pragma once
// Internals shared by the CPU forward, backward and step (not part of the public kernel interface).
#include "kernels/cpu_math.h"
#include "kernels/cpu_vec.h"
#include "kernels/selective_scan.h"

#include <vector>

#include "kernels/cpu_isa_namespace.h"

namespace continua::kernels::cpu {
// Compiled once per instruction set (kernels/CMakeLists.txt): the inline namespace keeps each build's inline
// functions apart, so the linker never hands AVX-512 code to a baseline caller.
inline namespace CONTINUA_CPU_ISA {

constexpr int kLanes = 16;  // channels per block: two AVX2 vectors; every inner loop runs over all lanes

// One (batch, channel-block) unit of work, with per-lane views of the block's inputs at one time step.
struct BlockLanes {
  int b = 0, d0 = 0, width = 0;  // width < kLanes only for the last block; padded lanes hold zeros
  int group = -1;                // the block's group when all its channels share one, else -1
};

inline void loadLanes(const float* src, int width, float* dst) {
  if (width == kLanes) {
    std::memcpy(dst, src, sizeof(float) * kLanes);
  } else {
    for (int c = 0; c < kLanes; ++c) dst[c] = c < width ? src[c] : 0.0f;
  }
}

// Lanes v .. v + kVecLanes - 1 of a block's row as a vector, lanes past the block's width as zeros.
inline Vec laneVec(const float* row, int width, int v) {
  if (width >= v + kVecLanes) return loadV(row + v);
  alignas(64) float lanes[kVecLanes] = {};
  for (int c = v; c < width; ++c) lanes[c - v] = row[c];
  return loadV(lanes);
}

// A full block's copy has a constant size, so it is one vector store; a runtime size is a call to memcpy, which
// the forward and backward made up to four times per step and block.
inline void storeLanes(const float* src, int width, float* dst) {
  if (width == kLanes)
    std::memcpy(dst, src, sizeof(float) * kLanes);
  else
    std::memcpy(dst, src, sizeof(float) * width);
}

// Whether an output's rows go past the caches (streaming stores, cpu_vec.h streamV): when the whole output is too
// big to be in them when it is next read. An ordinary store first reads every line it writes (for ownership), so
// a large output costs twice its size in memory traffic (measured: the backward's du/ddelta/dz rows were ~15% of
// it at B16 L512 D256). A small one stays cached for the autograd op that reads it next. The caller fences
// (_mm_sfence) before its outputs are read.
constexpr int64_t kStreamedOutputBytes = int64_t(4) << 20;
inline bool streamsOutput(int64_t elements) { return elements * int64_t(sizeof(float)) >= kStreamedOutputBytes; }

inline const float* rowAt(const void* base, Strides2 s, int b, int t) {
  return static_cast<const float*>(base) + b * s.batch + t * s.time;
}

// A task walks time with a stride of a whole row (channels * 4 bytes), which the hardware prefetcher does
// not follow; without this every step's loads miss (measured: 3x slower at D = 256).
constexpr int kPrefetchSteps = 8;
inline void prefetchRow(const void* base, Strides2 s, int b, int t, int d0) {
  __builtin_prefetch(static_cast<const float*>(base) + b * s.batch + t * s.time + d0);
}

// Per-lane constants of a block: A transposed to (states, lanes), D, bias and group offsets into B/C.
struct BlockConstants {
  std::vector<float> At;  // states * kLanes
  float D[kLanes] = {};
  float bias[kLanes] = {};
  int groupOffset[kLanes] = {};  // group * states, per lane

  void load(const ScanParams& p, const BlockLanes& blk) {
    const int N = p.states, perGroup = p.channels / p.groups;
    At.assign(static_cast<size_t>(N) * kLanes, 0.0f);
    const auto* A = static_cast<const float*>(p.A);
    for (int c = 0; c < blk.width; ++c) {
      for (int n = 0; n < N; ++n) At[n * kLanes + c] = A[(blk.d0 + c) * N + n];
      D[c] = p.D ? static_cast<const float*>(p.D)[blk.d0 + c] : 0.0f;
      bias[c] = p.deltaBias ? static_cast<const float*>(p.deltaBias)[blk.d0 + c] : 0.0f;
      groupOffset[c] = ((blk.d0 + c) / perGroup) * N;
    }
    for (int c = blk.width; c < kLanes; ++c) groupOffset[c] = groupOffset[0];
  }
};

inline BlockLanes blockOf(const ScanParams& p, int task) {
  const int blocksPerBatch = (p.channels + kLanes - 1) / kLanes;
  BlockLanes blk;
  blk.b = task / blocksPerBatch;
  blk.d0 = (task % blocksPerBatch) * kLanes;
  blk.width = std::min(kLanes, p.channels - blk.d0);
  const int perGroup = p.channels / p.groups;
  const int g0 = blk.d0 / perGroup, g1 = (blk.d0 + blk.width - 1) / perGroup;
  blk.group = g0 == g1 ? g0 : -1;
  return blk;
}

// Between a (channels x states) slot of a state tensor, at the block's first channel, and a block's (states x
// lanes) array: the forward's initial, chunk and final states, the backward's chunk starts and gradients.
// A null source reads as zeros; padded lanes are zero.
inline void statesToLanes(const float* src, const BlockLanes& blk, int N, float* dst) {
  std::fill(dst, dst + N * kLanes, 0.0f);
  if (!src) return;
  for (int c = 0; c < blk.width; ++c)
    for (int n = 0; n < N; ++n) dst[n * kLanes + c] = src[c * N + n];
}
inline void lanesToStates(const float* src, const BlockLanes& blk, int N, float* dst) {
  for (int c = 0; c < blk.width; ++c)
    for (int n = 0; n < N; ++n) dst[c * N + n] = src[n * kLanes + c];
}

inline int blocksPerBatch(const ScanParams& p) { return (p.channels + kLanes - 1) / kLanes; }

// dt for a vector of lanes from x = delta + bias: softplus(x), or x itself without softplus; `slope` gets
// d dt / dx (sigmoid(x) from softplus' own exp, or 1).
inline Vec dtOf(Vec x, bool softplus, Vec* slope) {
  *slope = splat(1.0f);
  return softplus ? softplusWithSlopeV(x, slope) : x;
}

// dt_t per lane of a block: softplus(delta + bias), or delta + bias without softplus (the forward's rows).
inline void deltaLanes(const ScanParams& p, const BlockLanes& blk, const BlockConstants& k, int t, float* dt) {
  alignas(64) float raw[kLanes];
  loadLanes(rowAt(p.delta, p.deltaStride, blk.b, t) + blk.d0, blk.width, raw);
  for (int v = 0; v < kLanes; v += kVecLanes) {
    Vec slope;  // the forward has no use for it: once inlined, its division is dead code
    storeV(dt + v, dtOf(loadV(raw + v) + loadV(k.bias + v), p.deltaSoftplus, &slope));
  }
}

// B_t or C_t value of state n for every lane (a broadcast when the block has one group).
inline void stateLanes(const float* row, const BlockLanes& blk, const BlockConstants& k, int n, float* dst) {
  if (blk.group >= 0) {
    const float v = row[k.groupOffset[0] + n];
    for (int c = 0; c < kLanes; ++c) dst[c] = v;
  } else {
    for (int c = 0; c < kLanes; ++c) dst[c] = row[k.groupOffset[c] + n];
  }
}

}  // namespace CONTINUA_CPU_ISA
}  // namespace continua::kernels::cpu
