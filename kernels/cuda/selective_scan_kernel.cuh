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
constexpr float kLn2 = 0.6931471805599453f;

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

template <typename T>
__device__ __forceinline__ const T* rowPointer(const void* base, Strides2 s, int b, int t, int i) {
  return static_cast<const T*>(base) + b * s.batch + t * s.time + i;
}

// One state tile of B_t or C_t as float32, zero past `count`. With `vector` the launcher has checked that
// every tile is full and starts 16-byte aligned, so 4 (fp32) or 2 (bf16) 16-byte loads replace 16 scalar
// ones: these loads are warp-wide broadcasts, so what they cost is issue slots (reasoning in KERNELS.md).
__device__ __forceinline__ void loadStates(const float* row, int count, bool vector, float (&out)[kTile]) {
  if (vector) {
    const float4* v = reinterpret_cast<const float4*>(row);
#pragma unroll
    for (int i = 0; i < kTile / 4; ++i) {
      const float4 q = v[i];
      out[4 * i] = q.x; out[4 * i + 1] = q.y; out[4 * i + 2] = q.z; out[4 * i + 3] = q.w;
    }
    return;
  }
#pragma unroll
  for (int j = 0; j < kTile; ++j) out[j] = j < count ? row[j] : 0.f;
}

__device__ __forceinline__ void loadStates(const __nv_bfloat16* row, int count, bool vector, float (&out)[kTile]) {
  if (vector) {
    const uint4* v = reinterpret_cast<const uint4*>(row);
#pragma unroll
    for (int i = 0; i < kTile / 8; ++i) {
      const uint4 q = v[i];
      const unsigned words[4] = {q.x, q.y, q.z, q.w};
#pragma unroll
      for (int w = 0; w < 4; ++w) {  // little-endian: the even element is the low half
        out[8 * i + 2 * w] = __uint_as_float(words[w] << 16);
        out[8 * i + 2 * w + 1] = __uint_as_float(words[w] & 0xffff0000u);
      }
    }
    return;
  }
#pragma unroll
  for (int j = 0; j < kTile; ++j) out[j] = j < count ? toFloat(row[j]) : 0.f;
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

__device__ __forceinline__ float discretise(const ScanParams& p, const RowConsts& r, float delta, float* raw) {
  const float v = delta + r.bias;
  *raw = v;
  return p.deltaSoftplus ? softplusf(v) : v;
}

// Per-step inputs of one (b, d) row, loaded a step ahead of their use so that global-memory latency
// overlaps the previous step's exponentials.
template <typename T>
struct StepInputs {
  float u, delta, z;
  __device__ __forceinline__ void load(const ScanParams& p, int b, int t, int d) {
    u = loadRow<T>(p.u, p.uStride, b, t, d);
    delta = loadRow<T>(p.delta, p.deltaStride, b, t, d);
    z = p.z ? loadRow<T>(p.z, p.zStride, b, t, d) : 0.f;
  }
};

// Enough blocks of kThreads per SM to hold the benchmark shape (B=64, D=1536: 768 blocks on 132 SMs) in one
// wave; ptxas then keeps the forward at <= 80 registers (KERNELS.md, "Resources").
constexpr int kForwardMinBlocks = 6;

template <typename T>
__global__ void __launch_bounds__(kThreads, kForwardMinBlocks) scanForwardKernel(ScanParams p, float* yAcc, bool vectorStates) {
  const int d = blockIdx.x * kThreads + threadIdx.x, b = blockIdx.y;
  if (d >= p.channels) return;
  const int N = p.states, L = p.length;
  const RowConsts r = rowConsts(p, d);
  for (int n0 = 0; n0 < N; n0 += kTile) {
    const bool firstTile = n0 == 0, lastTile = n0 + kTile >= N;
    const int count = min(kTile, N - n0);
    float h[kTile], a2[kTile];  // past `count`: a2 = 0 and h stays 0
#pragma unroll
    for (int j = 0; j < kTile; ++j) {
      const int n = n0 + j;
      a2[j] = j < count ? static_cast<const float*>(p.A)[d * N + n] * kLog2e : 0.f;
      h[j] = (j < count && p.initialState) ? static_cast<const float*>(p.initialState)[(int64_t(b) * p.channels + d) * N + n] : 0.f;
    }
    StepInputs<T> next;
    next.load(p, b, 0, d);
    for (int t = 0; t < L; ++t) {
      const StepInputs<T> in = next;
      if (t + 1 < L) next.load(p, b, t + 1, d);
      float raw, y = 0.f;
      const float dt = discretise(p, r, in.delta, &raw), dtu = dt * in.u;
      {  // B then C, each used before the other is loaded: fewer live registers
        float bt[kTile];
        loadStates(rowPointer<T>(p.B, p.bStride, b, t, r.groupOffset + n0), count, vectorStates, bt);
#pragma unroll
        for (int j = 0; j < kTile; ++j) h[j] = exp2f(dt * a2[j]) * h[j] + dtu * bt[j];
      }
      {
        float ct[kTile];
        loadStates(rowPointer<T>(p.C, p.cStride, b, t, r.groupOffset + n0), count, vectorStates, ct);
#pragma unroll
        for (int j = 0; j < kTile; ++j) y += ct[j] * h[j];
      }
      const int64_t row = (int64_t(b) * L + t) * p.channels + d;
      if (!firstTile) y += yAcc[row];
      if (!lastTile) {
        yAcc[row] = y;
      } else {
        y += r.D * in.u;
        if (p.z) y *= in.z * sigmoidf(in.z);
        static_cast<T*>(p.out)[b * p.outStride.batch + t * p.outStride.time + d] = fromFloat<T>(y);
      }
      const bool chunkEnd = (t + 1) % p.chunkLength == 0 || t == L - 1;
      if (chunkEnd && p.chunkStates) {
        float* dst = static_cast<float*>(p.chunkStates) + ((int64_t(b) * p.numChunks() + t / p.chunkLength) * p.channels + d) * N;
#pragma unroll
        for (int j = 0; j < kTile; ++j)
          if (j < count) dst[n0 + j] = h[j];
      }
    }
    if (p.finalState) {
      float* dst = static_cast<float*>(p.finalState) + (int64_t(b) * p.channels + d) * N;
#pragma unroll
      for (int j = 0; j < kTile; ++j)
        if (j < count) dst[n0 + j] = h[j];
    }
  }
}

// dB and dC of one (b, t) and state tile, summed over the warp's 32 channels: values 0..15 are dB of the
// tile's states, 16..31 dC. A transposing butterfly halves the values each lane holds at every step, so
// after 16 + 8 + 4 + 2 + 1 = 31 shuffles lane l holds the warp's total of value l (a shuffle-down
// reduction per value would take 32 x 5 = 160, and lane 0 alone would then issue 32 atomics).
static_assert(2 * kTile == 32, "the transposing reduction maps one value to each lane of a warp");
__device__ __forceinline__ float warpTransposeSum(float (&v)[2 * kTile]) {
  const unsigned lane = threadIdx.x & 31u;
#pragma unroll
  for (int half = kTile; half >= 1; half >>= 1) {
    const bool upper = (lane & unsigned(half)) != 0;  // upper lanes keep the top half of what they hold
#pragma unroll
    for (int k = 0; k < half; ++k) {
      const float keep = upper ? v[k + half] : v[k];
      const float send = upper ? v[k] : v[k + half];
      v[k] = keep + __shfl_xor_sync(0xffffffffu, send, half);
    }
  }
  return v[0];
}

// Adds one (b, t) tile's dB (sums[0..kTile)) and dC (sums[kTile..2 kTile)) at dB/dC + offset. `sums` is
// used as scratch.
__device__ __forceinline__ void addStateGradients(float* dB, float* dC, int64_t offset, int count, bool warpGroups,
                                                  float (&sums)[2 * kTile]) {
  if (warpGroups) {
    const int lane = threadIdx.x & 31, j = lane % kTile;
    const float total = warpTransposeSum(sums);
    if (j < count) atomicAdd((lane < kTile ? dB : dC) + offset + j, total);
    return;
  }
#pragma unroll
  for (int j = 0; j < kTile; ++j) {
    if (j >= count) continue;
    atomicAdd(dB + offset + j, sums[j]);
    atomicAdd(dC + offset + j, sums[kTile + j]);
  }
}

struct BackwardWorkspace {  // float32, (batch, length, channels); used only when states > kTile
  float* yAcc;
  float* duAcc;
  float* ddtAcc;
};

// Four blocks of kThreads per SM: <= 128 registers. The chunk's states live in local memory regardless.
constexpr int kBackwardMinBlocks = 4;

// warpGroups: every warp's 32 channels share one group and all are in range, so dB/dC are reduced over
// the warp (warpTransposeSum) before the atomics instead of one atomic per channel.
template <typename T>
__global__ void __launch_bounds__(kThreads, kBackwardMinBlocks) scanBackwardKernel(ScanGradParams p, BackwardWorkspace ws, bool warpGroups,
                                                               bool vectorStates) {
  const int d = blockIdx.x * kThreads + threadIdx.x, b = blockIdx.y;
  // With warpGroups the channel count is a multiple of 32, so whole warps leave here together and every
  // lane that stays takes part in the warp reductions below.
  if (d >= p.channels) return;
  const int N = p.states, L = p.length, K = p.chunkLength;
  const RowConsts r = rowConsts(p, d);
  float* dB = static_cast<float*>(p.dB);
  float* dC = static_cast<float*>(p.dC);
  float dDacc = 0.f, dBiasAcc = 0.f;
  for (int n0 = 0; n0 < N; n0 += kTile) {
    const bool firstTile = n0 == 0, lastTile = n0 + kTile >= N;
    const int count = min(kTile, N - n0);
    // hs[k] is the state before the chunk's step k, hs[k + 1] after it (local memory).
    float g[kTile], a2[kTile], dA[kTile], hs[kMaxChunk + 1][kTile];
#pragma unroll
    for (int j = 0; j < kTile; ++j) {
      const int n = n0 + j;
      a2[j] = j < count ? static_cast<const float*>(p.A)[d * N + n] * kLog2e : 0.f;
      g[j] = (p.dFinalState && j < count) ? static_cast<const float*>(p.dFinalState)[(int64_t(b) * p.channels + d) * N + n] : 0.f;
      dA[j] = 0.f;
    }
    for (int chunk = p.numChunks() - 1; chunk >= 0; --chunk) {
      const int t0 = chunk * K, t1 = min(L, t0 + K);
      const float* start = chunk == 0 ? static_cast<const float*>(p.initialState)
                                       : static_cast<const float*>(p.chunkStates) + (int64_t(b) * p.numChunks() + chunk - 1) * p.channels * N;
      if (chunk == 0 && start) start += int64_t(b) * p.channels * N;
#pragma unroll
      for (int j = 0; j < kTile; ++j) hs[0][j] = (start && j < count) ? start[int64_t(d) * N + n0 + j] : 0.f;
      // Recompute the chunk's states; earlier tiles also leave their share of the pre-gate y for dz.
      for (int t = t0; t < t1; ++t) {
        float raw, bt[kTile], ct[kTile];
        const float u = loadRow<T>(p.u, p.uStride, b, t, d);
        const float dt = discretise(p, r, loadRow<T>(p.delta, p.deltaStride, b, t, d), &raw), dtu = dt * u;
        loadStates(rowPointer<T>(p.B, p.bStride, b, t, r.groupOffset + n0), count, vectorStates, bt);
        loadStates(rowPointer<T>(p.C, p.cStride, b, t, r.groupOffset + n0), count, vectorStates, ct);
        float y = 0.f;
#pragma unroll
        for (int j = 0; j < kTile; ++j) {
          const float h = exp2f(dt * a2[j]) * hs[t - t0][j] + dtu * bt[j];
          y += ct[j] * h;
          hs[t - t0 + 1][j] = h;
        }
        if (p.z && !lastTile) {
          const int64_t row = (int64_t(b) * L + t) * p.channels + d;
          ws.yAcc[row] = (firstTile ? 0.f : ws.yAcc[row]) + y;
        }
      }
      // Reverse pass through the chunk.
      for (int t = t1 - 1; t >= t0; --t) {
        float raw, bt[kTile], ct[kTile];
        const float u = loadRow<T>(p.u, p.uStride, b, t, d);
        const float dt = discretise(p, r, loadRow<T>(p.delta, p.deltaStride, b, t, d), &raw), dtu = dt * u;
        loadStates(rowPointer<T>(p.B, p.bStride, b, t, r.groupOffset + n0), count, vectorStates, bt);
        loadStates(rowPointer<T>(p.C, p.cStride, b, t, r.groupOffset + n0), count, vectorStates, ct);
        const float dout = loadRow<T>(p.dout, p.doutStride, b, t, d);
        float z = 0.f, gate = 1.f;
        if (p.z) {
          z = loadRow<T>(p.z, p.zStride, b, t, d);
          gate = z * sigmoidf(z);
        }
        const float dy = dout * gate;  // gradient of the pre-gate y
        // gB = sum_n g_n B_n gives du = dt * gB and the B-part of ddt = u * gB; the A-part of ddt is summed
        // with A in log2 units (a2) and scaled once by ln 2.
        float gB = 0.f, ddtA2 = 0.f, yTile = 0.f, sums[2 * kTile];
#pragma unroll
        for (int j = 0; j < kTile; ++j) {
          const float hp = hs[t - t0][j], h = hs[t - t0 + 1][j];
          const float a = exp2f(dt * a2[j]);
          const float gn = g[j] + ct[j] * dy;
          const float w = gn * hp * a;
          yTile += ct[j] * h;
          gB += gn * bt[j];
          ddtA2 += w * a2[j];
          dA[j] += w * dt;
          sums[j] = gn * dtu;        // dB
          sums[kTile + j] = dy * h;  // dC
          g[j] = gn * a;
        }
        addStateGradients(dB, dC, (int64_t(b) * L + t) * p.groups * N + r.groupOffset + n0, count, warpGroups, sums);
        const int64_t row = (int64_t(b) * L + t) * p.channels + d;
        if (p.z && lastTile) {
          const float y = r.D * u + yTile + (firstTile ? 0.f : ws.yAcc[row]);
          const float s = sigmoidf(z);
          static_cast<T*>(p.dz)[row] = fromFloat<T>(dout * y * s * (1.f + z * (1.f - s)));
        }
        float du = dt * gB, ddt = u * gB + ddtA2 * kLn2;
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
#pragma unroll
    for (int j = 0; j < kTile; ++j) {
      if (j >= count) continue;
      atomicAdd(static_cast<float*>(p.dA) + d * N + n0 + j, dA[j]);
      if (p.dInitialState) static_cast<float*>(p.dInitialState)[(int64_t(b) * p.channels + d) * N + n0 + j] = g[j];
    }
  }
  if (p.dD) atomicAdd(static_cast<float*>(p.dD) + d, dDacc);
  if (p.dDeltaBias) atomicAdd(static_cast<float*>(p.dDeltaBias) + d, dBiasAcc);
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
