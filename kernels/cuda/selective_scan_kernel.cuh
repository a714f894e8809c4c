#pragma once
// CUDA selective scan. One thread owns one (batch, channel) row and runs the time loop sequentially with
// a tile of kTile states in registers; consecutive threads are consecutive channels, so every load of
// u/delta/z/out (channels contiguous) is coalesced, and B_t/C_t are warp-wide broadcasts. With B*D in the
// tens of thousands this "sequential per-thread scan" (reference/perf.md §1.4, lever 7) keeps the GPU full
// without a block-wide parallel scan. States beyond one tile are handled tile by tile, with y, du and ddelta
// accumulated across tiles in float32 workspaces; the last tile finalises (gate, softplus chain, casts).
// Inputs may be float or bfloat16; all arithmetic is float32.
//
// The same source also compiles for the host under kernels/emulation/cuda_host_shim.h (namespace
// cuda_emulated), where tests check it against the float64 reference on machines without a GPU.
#include "kernels/cuda/cuda_check.h"
#include "kernels/selective_scan.h"

#ifndef CONTINUA_CUDA_EMULATION
#include <cuda_bf16.h>
#define CONTINUA_CUDA_NS cuda
#endif

namespace continua::kernels::CONTINUA_CUDA_NS {

constexpr int kTile = 16;        // states held in registers per pass
constexpr int kThreads = 128;    // channels per thread block
constexpr int kMaxChunk = 32;    // the backward keeps one chunk of states in (local) memory
constexpr float kLog2e = 1.4426950408889634f;

__device__ __forceinline__ float toFloat(float v) { return v; }
__device__ __forceinline__ float toFloat(__nv_bfloat16 v) { return __bfloat162float(v); }
template <typename T> __device__ __forceinline__ T fromFloat(float v);
template <> __device__ __forceinline__ float fromFloat<float>(float v) { return v; }
template <> __device__ __forceinline__ __nv_bfloat16 fromFloat<__nv_bfloat16>(float v) { return __float2bfloat16(v); }

__device__ __forceinline__ float softplusf(float x) { return x > 20.f ? x : log1pf(expf(x)); }
__device__ __forceinline__ float sigmoidf(float x) { return 1.f / (1.f + expf(-x)); }

template <typename T>
__device__ __forceinline__ float loadRow(const void* base, Strides2 s, int b, int t, int i) {
  return toFloat(static_cast<const T*>(base)[b * s.batch + t * s.time + i]);
}

struct RowConsts {  // per-(b, d) values read once
  float D, bias;
  int groupOffset;
};

__device__ __forceinline__ RowConsts rowConsts(const ScanParams& p, int d) {
  RowConsts r;
  r.D = p.D ? static_cast<const float*>(p.D)[d] : 0.f;
  r.bias = p.deltaBias ? static_cast<const float*>(p.deltaBias)[d] : 0.f;
  r.groupOffset = (d / (p.channels / p.groups)) * p.states;
  return r;
}

template <typename T>
__device__ __forceinline__ float deltaAt(const ScanParams& p, const RowConsts& r, int b, int t, int d, float* raw) {
  float v = loadRow<T>(p.delta, p.deltaStride, b, t, d) + r.bias;
  *raw = v;
  return p.deltaSoftplus ? softplusf(v) : v;
}

template <typename T>
__global__ void __launch_bounds__(kThreads) scanForwardKernel(ScanParams p, float* yAcc) {
  const int d = blockIdx.x * kThreads + threadIdx.x, b = blockIdx.y;
  if (d >= p.channels) return;
  const int N = p.states, L = p.length;
  const RowConsts r = rowConsts(p, d);
  for (int n0 = 0; n0 < N; n0 += kTile) {
    const bool firstTile = n0 == 0, lastTile = n0 + kTile >= N;
    float h[kTile], a2[kTile];
#pragma unroll
    for (int j = 0; j < kTile; ++j) {
      const int n = n0 + j;
      a2[j] = n < N ? static_cast<const float*>(p.A)[d * N + n] * kLog2e : 0.f;
      h[j] = (n < N && p.initialState) ? static_cast<const float*>(p.initialState)[(int64_t(b) * p.channels + d) * N + n] : 0.f;
    }
    for (int t = 0; t < L; ++t) {
      float raw;
      const float u = loadRow<T>(p.u, p.uStride, b, t, d);
      const float dt = deltaAt<T>(p, r, b, t, d, &raw);
      float y = 0.f;
#pragma unroll
      for (int j = 0; j < kTile; ++j) {
        const int n = n0 + j;
        if (n < N) {
          const float bn = loadRow<T>(p.B, p.bStride, b, t, r.groupOffset + n);
          const float cn = loadRow<T>(p.C, p.cStride, b, t, r.groupOffset + n);
          h[j] = exp2f(dt * a2[j]) * h[j] + dt * u * bn;
          y += cn * h[j];
        }
      }
      const int64_t row = (int64_t(b) * L + t) * p.channels + d;
      if (!firstTile) y += yAcc[row];
      if (!lastTile) {
        yAcc[row] = y;
      } else {
        y += r.D * u;
        if (p.z) {
          const float z = loadRow<T>(p.z, p.zStride, b, t, d);
          y *= z * sigmoidf(z);
        }
        static_cast<T*>(p.out)[b * p.outStride.batch + t * p.outStride.time + d] = fromFloat<T>(y);
      }
      const bool chunkEnd = (t + 1) % p.chunkLength == 0 || t == L - 1;
      if (chunkEnd && p.chunkStates) {
        float* dst = static_cast<float*>(p.chunkStates) + ((int64_t(b) * p.numChunks() + t / p.chunkLength) * p.channels + d) * N;
#pragma unroll
        for (int j = 0; j < kTile; ++j)
          if (n0 + j < N) dst[n0 + j] = h[j];
      }
    }
    if (p.finalState) {
      float* dst = static_cast<float*>(p.finalState) + (int64_t(b) * p.channels + d) * N;
#pragma unroll
      for (int j = 0; j < kTile; ++j)
        if (n0 + j < N) dst[n0 + j] = h[j];
    }
  }
}

// Sum of v over the warp, in lane 0. All 32 lanes must call it.
__device__ __forceinline__ float warpSum(float v) {
#pragma unroll
  for (int off = 16; off > 0; off >>= 1) v += __shfl_down_sync(0xffffffffu, v, off);
  return v;
}

struct BackwardWorkspace {  // float32, (batch, length, channels); used only when states > kTile
  float* yAcc;
  float* duAcc;
  float* ddtAcc;
};

// warpGroups: every warp's 32 channels share one group and all are in range, so dB/dC are reduced over
// the warp before one atomic per warp instead of one per channel.
template <typename T>
__global__ void __launch_bounds__(kThreads) scanBackwardKernel(ScanGradParams p, BackwardWorkspace ws, bool warpGroups) {
  const int d = blockIdx.x * kThreads + threadIdx.x, b = blockIdx.y;
  const bool active = d < p.channels;
  if (!warpGroups && !active) return;
  const int dc = active ? d : 0;
  const int N = p.states, L = p.length, K = p.chunkLength;
  const RowConsts r = rowConsts(p, dc);
  float* dB = static_cast<float*>(p.dB);
  float* dC = static_cast<float*>(p.dC);
  float dDacc = 0.f, dBiasAcc = 0.f;
  for (int n0 = 0; n0 < N; n0 += kTile) {
    const bool firstTile = n0 == 0, lastTile = n0 + kTile >= N;
    float g[kTile], a2[kTile], A[kTile], dA[kTile], hs[kMaxChunk][kTile], h0[kTile];
#pragma unroll
    for (int j = 0; j < kTile; ++j) {
      const int n = n0 + j;
      A[j] = (active && n < N) ? static_cast<const float*>(p.A)[dc * N + n] : 0.f;
      a2[j] = A[j] * kLog2e;
      g[j] = (p.dFinalState && active && n < N) ? static_cast<const float*>(p.dFinalState)[(int64_t(b) * p.channels + dc) * N + n] : 0.f;
      dA[j] = 0.f;
    }
    for (int chunk = p.numChunks() - 1; chunk >= 0; --chunk) {
      const int t0 = chunk * K, t1 = min(L, t0 + K);
      const float* start = chunk == 0 ? static_cast<const float*>(p.initialState)
                                       : static_cast<const float*>(p.chunkStates) + (int64_t(b) * p.numChunks() + chunk - 1) * p.channels * N;
      if (chunk == 0 && start) start += int64_t(b) * p.channels * N;
#pragma unroll
      for (int j = 0; j < kTile; ++j) h0[j] = (start && active && n0 + j < N) ? start[int64_t(dc) * N + n0 + j] : 0.f;
      // Recompute the chunk's states.
      for (int t = t0; t < t1; ++t) {
        float raw;
        const float u = active ? loadRow<T>(p.u, p.uStride, b, t, dc) : 0.f;
        const float dt = active ? deltaAt<T>(p, r, b, t, dc, &raw) : 0.f;
        float y = 0.f;
#pragma unroll
        for (int j = 0; j < kTile; ++j) {
          const int n = n0 + j;
          const float prev = t > t0 ? hs[t - t0 - 1][j] : h0[j];
          float h = 0.f;
          if (n < N) {
            const float bn = loadRow<T>(p.B, p.bStride, b, t, r.groupOffset + n);
            const float cn = loadRow<T>(p.C, p.cStride, b, t, r.groupOffset + n);
            h = exp2f(dt * a2[j]) * prev + dt * u * bn;
            y += cn * h;
          }
          hs[t - t0][j] = h;
        }
        if (p.z && active && N > kTile) {  // pre-gate y summed over tiles, read by the last tile for dz
          const int64_t row = (int64_t(b) * L + t) * p.channels + dc;
          ws.yAcc[row] = (firstTile ? 0.f : ws.yAcc[row]) + y;
        }
      }
      // Reverse pass through the chunk.
      for (int t = t1 - 1; t >= t0; --t) {
        float raw = 0.f;
        const float u = active ? loadRow<T>(p.u, p.uStride, b, t, dc) : 0.f;
        const float dt = active ? deltaAt<T>(p, r, b, t, dc, &raw) : 0.f;
        float dy = active ? loadRow<T>(p.dout, p.doutStride, b, t, dc) : 0.f;
        const int64_t row = (int64_t(b) * L + t) * p.channels + dc;
        if (p.z && active) {
          const float z = loadRow<T>(p.z, p.zStride, b, t, dc), s = sigmoidf(z);
          if (lastTile) {
            float y = r.D * u;
            if (N > kTile) {
              y += ws.yAcc[row];
            } else {
#pragma unroll
              for (int j = 0; j < kTile; ++j)
                if (n0 + j < N) y += loadRow<T>(p.C, p.cStride, b, t, r.groupOffset + n0 + j) * hs[t - t0][j];
            }
            static_cast<T*>(p.dz)[row] = fromFloat<T>(dy * y * s * (1.f + z * (1.f - s)));
          }
          dy *= z * s;
        }
        float du = 0.f, ddt = 0.f;
#pragma unroll
        for (int j = 0; j < kTile; ++j) {
          const int n = n0 + j;
          if (n >= N) continue;
          const float bn = loadRow<T>(p.B, p.bStride, b, t, r.groupOffset + n);
          const float cn = loadRow<T>(p.C, p.cStride, b, t, r.groupOffset + n);
          const float hp = t > t0 ? hs[t - t0 - 1][j] : h0[j];
          const float a = exp2f(dt * a2[j]);
          const float gn = g[j] + cn * dy;
          float sumC = dy * hs[t - t0][j], sumB = gn * dt * u;
          du += gn * dt * bn;
          ddt += gn * (hp * A[j] * a + bn * u);
          dA[j] += gn * hp * dt * a;
          g[j] = gn * a;
          const int64_t bc = (int64_t(b) * L + t) * p.groups * N + r.groupOffset + n;
          if (warpGroups) {
            sumB = warpSum(sumB);
            sumC = warpSum(sumC);
            if ((threadIdx.x & 31) == 0) { atomicAdd(dB + bc, sumB); atomicAdd(dC + bc, sumC); }
          } else {
            atomicAdd(dB + bc, sumB);
            atomicAdd(dC + bc, sumC);
          }
        }
        if (!active) continue;
        if (!firstTile) { du += ws.duAcc[row]; ddt += ws.ddtAcc[row]; }
        if (!lastTile) {
          ws.duAcc[row] = du;
          ws.ddtAcc[row] = ddt;
        } else {
          du += r.D * dy;
          dDacc += dy * u;
          if (p.deltaSoftplus) ddt *= sigmoidf(raw);
          dBiasAcc += ddt;
          static_cast<T*>(p.du)[row] = fromFloat<T>(du);
          static_cast<T*>(p.ddelta)[row] = fromFloat<T>(ddt);
        }
      }
    }
    if (active) {
#pragma unroll
      for (int j = 0; j < kTile; ++j) {
        if (n0 + j >= N) continue;
        atomicAdd(static_cast<float*>(p.dA) + dc * N + n0 + j, dA[j]);
        if (p.dInitialState) static_cast<float*>(p.dInitialState)[(int64_t(b) * p.channels + dc) * N + n0 + j] = g[j];
      }
    }
  }
  if (!active) return;
  if (p.dD) atomicAdd(static_cast<float*>(p.dD) + dc, dDacc);
  if (p.dDeltaBias) atomicAdd(static_cast<float*>(p.dDeltaBias) + dc, dBiasAcc);
}

template <typename T>
__global__ void scanStepKernel(ScanStepParams p) {
  const int d = blockIdx.x * blockDim.x + threadIdx.x, b = blockIdx.y;
  if (d >= p.channels) return;
  const int N = p.states;
  const int64_t i = int64_t(b) * p.channels + d;
  const float u = toFloat(static_cast<const T*>(p.u)[i]);
  float dt = toFloat(static_cast<const T*>(p.delta)[i]) + (p.deltaBias ? static_cast<const float*>(p.deltaBias)[d] : 0.f);
  if (p.deltaSoftplus) dt = softplusf(dt);
  const int64_t bc = (int64_t(b) * p.groups + d / (p.channels / p.groups)) * N;
  float* h = static_cast<float*>(p.state) + i * N;
  float y = p.D ? static_cast<const float*>(p.D)[d] * u : 0.f;
  for (int n = 0; n < N; ++n) {
    const float a = exp2f(dt * static_cast<const float*>(p.A)[d * N + n] * kLog2e);
    h[n] = a * h[n] + dt * u * toFloat(static_cast<const T*>(p.B)[bc + n]);
    y += toFloat(static_cast<const T*>(p.C)[bc + n]) * h[n];
  }
  if (p.z) {
    const float z = toFloat(static_cast<const T*>(p.z)[i]);
    y *= z * sigmoidf(z);
  }
  static_cast<T*>(p.out)[i] = fromFloat<T>(y);
}

}  // namespace continua::kernels::CONTINUA_CUDA_NS
