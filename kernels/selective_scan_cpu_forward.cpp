// CPU float32 selective scan, forward and single-step. Work is split into (batch, block of 16 channels)
// tasks across OpenMP threads; inside a task time is taken in spans of steps, each in three passes (the per-step
// rows, the recurrence, the gate and output), and every inner loop runs over the 16 channel lanes, so it
// vectorises (exp included, see cpu_math.h). The state of a block lives in a (states x lanes) array in L1.
// The passes are kept out of line so a profile names them; a call per span costs nothing measurable.
#include "kernels/cpu_isa_namespace.h"
#include "kernels/cpu_vec.h"
#include "kernels/selective_scan_cpu.h"

#include <omp.h>

#include <stdexcept>

namespace continua::kernels {
namespace CONTINUA_CPU_ISA {  // one build per instruction set; cpu_dispatch.cpp picks one at run time
using namespace cpu;

namespace {

void requireFloat(ScanDType t, const char* what) {
  if (t != ScanDType::Float32) throw std::invalid_argument(std::string(what) + ": the CPU kernel takes Float32");
}

float* stateSlot(void* base, const ScanParams& p, int b, int chunk, int d) {
  return static_cast<float*>(base) + ((static_cast<int64_t>(b) * p.numChunks() + chunk) * p.channels + d) * p.states;
}

// Steps per span: the forward takes time in spans of this many steps, in three passes over the span (below).
// The rows of a span (dt, dt*u, y: 3 x 32 x 16 floats) stay in L1.
constexpr int kSpanSteps = 32;

// A span's per-step rows, lanes of one block: what the state pass reads and writes.
struct SpanRows {
  alignas(64) float dt[kSpanSteps][kLanes];
  alignas(64) float dtu[kSpanSteps][kLanes];
  alignas(64) float y[kSpanSteps][kLanes];  // D * u, then + C . h
};

// Pass 1: dt = softplus(delta + bias), dt * u and the skip term D * u for every step of the span. The steps do
// not depend on each other, so the processor overlaps their softplus; computed inside the state loop, each
// step's softplus (an exp, a log and a division in a chain) was latency the next step's states waited on.
__attribute__((noinline)) void prepareSpan(const ScanParams& p, const BlockLanes& blk, const BlockConstants& k,
                                           int t0, int steps, SpanRows& r) {
  alignas(64) float u[kLanes];
  for (int s = 0; s < steps; ++s) {
    const int t = t0 + s;
    if (t + kPrefetchSteps < p.length) {
      const int tp = t + kPrefetchSteps;
      prefetchRow(p.u, p.uStride, blk.b, tp, blk.d0);
      prefetchRow(p.delta, p.deltaStride, blk.b, tp, blk.d0);
    }
    loadLanes(rowAt(p.u, p.uStride, blk.b, t) + blk.d0, blk.width, u);
    deltaLanes(p, blk, k, t, r.dt[s]);
    for (int v = 0; v < kLanes; v += kVecLanes) {
      const Vec uv = loadV(u + v);
      storeV(r.dtu[s] + v, loadV(r.dt[s] + v) * uv);
      storeV(r.y[s] + v, loadV(k.D + v) * uv);
    }
  }
}

// Pass 2: the recurrence h = exp(dt A) h + dt u B, y += C . h, step after step; the state after each chunk
// (every chunkLength steps, and the last) goes to chunkStates for the backward.
__attribute__((noinline)) void scanSpan(const ScanParams& p, const BlockLanes& blk, const BlockConstants& k, int t0,
                                        int steps, SpanRows& r, float* h, float* bl, float* cl) {
  const int N = p.states;
  const float* __restrict At = k.At.data();
  int chunkEnd = (t0 / p.chunkLength + 1) * p.chunkLength - 1;  // a step to compare with, not a division per step
  for (int s = 0; s < steps; ++s) {
    const int t = t0 + s;
    const float* Bt = rowAt(p.B, p.bStride, blk.b, t);
    const float* Ct = rowAt(p.C, p.cStride, blk.b, t);
    if (blk.group >= 0) {  // B_t[n], C_t[n] are the same for every lane: scalars, no lane arrays
      const float* __restrict Bg = Bt + k.groupOffset[0];
      const float* __restrict Cg = Ct + k.groupOffset[0];
      for (int v = 0; v < kLanes; v += kVecLanes) {  // one vector of lanes at a time, y_t in a register
        const Vec dtv = loadV(r.dt[s] + v), dtuv = loadV(r.dtu[s] + v);
        Vec yv = loadV(r.y[s] + v);
        for (int n = 0; n < N; ++n) {
          float* __restrict hn = h + n * kLanes + v;
          const Vec hv = fastExpV(dtv * loadV(At + n * kLanes + v)) * loadV(hn) + dtuv * Bg[n];
          storeV(hn, hv);
          yv += Cg[n] * hv;
        }
        storeV(r.y[s] + v, yv);
      }
    } else {
      const float* __restrict dt = r.dt[s];
      const float* __restrict dtu = r.dtu[s];
      float* __restrict y = r.y[s];
      for (int n = 0; n < N; ++n) {
        stateLanes(Bt, blk, k, n, bl);
        stateLanes(Ct, blk, k, n, cl);
        float* __restrict hn = h + n * kLanes;
        const float* __restrict an = At + n * kLanes;
        for (int c = 0; c < kLanes; ++c) {
          hn[c] = fastExp(dt[c] * an[c]) * hn[c] + dtu[c] * bl[c];
          y[c] += cl[c] * hn[c];
        }
      }
    }
    if (t == chunkEnd || t == p.length - 1) {
      if (p.chunkStates) lanesToStates(h, blk, N, stateSlot(p.chunkStates, p, blk.b, t / p.chunkLength, blk.d0));
      chunkEnd += p.chunkLength;
    }
  }
}

// Pass 3: the gate y * silu(z) and the output rows.
__attribute__((noinline)) void finishSpan(const ScanParams& p, const BlockLanes& blk, int t0, int steps,
                                          SpanRows& r) {
  alignas(64) float z[kLanes];
  for (int s = 0; s < steps; ++s) {
    const int t = t0 + s;
    if (p.z) {
      loadLanes(rowAt(p.z, p.zStride, blk.b, t) + blk.d0, blk.width, z);
      for (int v = 0; v < kLanes; v += kVecLanes) {
        const Vec zv = loadV(z + v);
        storeV(r.y[s] + v, loadV(r.y[s] + v) * zv / (1.0f + fastExpV(-zv)));
      }
    }
    storeLanes(r.y[s], blk.width, static_cast<float*>(p.out) + blk.b * p.outStride.batch + t * p.outStride.time + blk.d0);
  }
}

void forwardBlock(const ScanParams& p, const BlockLanes& blk, const BlockConstants& k, float* h, float* bl,
                  float* cl) {
  const int N = p.states;
  const float* init = p.initialState
                          ? static_cast<const float*>(p.initialState) + (int64_t(blk.b) * p.channels + blk.d0) * N
                          : nullptr;
  statesToLanes(init, blk, N, h);
  SpanRows rows;
  for (int t0 = 0; t0 < p.length; t0 += kSpanSteps) {
    const int steps = std::min(kSpanSteps, p.length - t0);
    if (p.z)
      for (int s = 0; s < steps; ++s) prefetchRow(p.z, p.zStride, blk.b, t0 + s, blk.d0);
    prepareSpan(p, blk, k, t0, steps, rows);
    scanSpan(p, blk, k, t0, steps, rows, h, bl, cl);
    finishSpan(p, blk, t0, steps, rows);
  }
  if (p.finalState)
    lanesToStates(h, blk, N, static_cast<float*>(p.finalState) + (int64_t(blk.b) * p.channels + blk.d0) * N);
}

}  // namespace

void scanForwardCpu(const ScanParams& p) {
  requireFloat(p.dtype, "scanForwardCpu");
  validateScanParams(p);
  if (!p.out) throw std::invalid_argument("selective scan forward: out is required");
  const int tasks = p.batch * blocksPerBatch(p);
#pragma omp parallel num_threads(p.numThreads)
  {
    FlushDenormals ftz;
    BlockConstants k;
    std::vector<float> h(static_cast<size_t>(p.states) * kLanes);
    float bl[kLanes], cl[kLanes];
#pragma omp for schedule(static)
    for (int task = 0; task < tasks; ++task) {
      BlockLanes blk = blockOf(p, task);
      k.load(p, blk);
      forwardBlock(p, blk, k, h.data(), bl, cl);
    }
  }
}

// One token. The state is (batch, channels, states) with states contiguous, so here the states are the
// vector lanes; at N = 16 that is two AVX2 vectors per channel and no transposes.
void scanStepCpu(const ScanStepParams& p) {
  requireFloat(p.dtype, "scanStepCpu");
  FlushDenormals ftz;
  const int N = p.states, Dch = p.channels, perGroup = Dch / p.groups;
  auto cf = [](const void* ptr) { return static_cast<const float*>(ptr); };
  const float* A = cf(p.A);
  for (int b = 0; b < p.batch; ++b) {
    for (int d = 0; d < Dch; ++d) {
      const int64_t i = int64_t(b) * Dch + d;
      const float u = cf(p.u)[i];
      float dt = cf(p.delta)[i] + (p.deltaBias ? cf(p.deltaBias)[d] : 0.0f);
      if (p.deltaSoftplus) dt = softplus(dt);
      const float* Bt = cf(p.B) + (int64_t(b) * p.groups + d / perGroup) * N;
      const float* Ct = cf(p.C) + (int64_t(b) * p.groups + d / perGroup) * N;
      float* h = static_cast<float*>(p.state) + i * N;
      const float* a = A + int64_t(d) * N;
      const float dtu = dt * u;
      float y = 0.0f;
      for (int n = 0; n < N; ++n) {
        h[n] = fastExp(dt * a[n]) * h[n] + dtu * Bt[n];
        y += Ct[n] * h[n];
      }
      y += p.D ? cf(p.D)[d] * u : 0.0f;
      if (p.z) y *= silu(cf(p.z)[i]);
      static_cast<float*>(p.out)[i] = y;
    }
  }
}

}  // namespace CONTINUA_CPU_ISA
}  // namespace continua::kernels
