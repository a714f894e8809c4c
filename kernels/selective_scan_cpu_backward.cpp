// CPU float32 selective-scan backward. A task is one batch element and a span of up to 8 blocks of 16 channel
// lanes. It walks the chunks in reverse: recomputes the chunk's states and decays from the saved chunk-start
// state (the forward kept only those), then runs the adjoint recurrence g_t = C_t dy_t + exp(dt_{t+1} A) g_{t+1}
// backwards through it. At each step the channel sums of dB_t and dC_t are vector sums over the span's blocks,
// with one horizontal 16-lane sum per (t, state) for the whole span instead of one per block (they were most of
// the backward's extra cost); across spans and batch, sums go to per-task partials reduced after the parallel
// loop, so no two threads ever write the same value.
#include "kernels/cpu_isa_namespace.h"
#include "kernels/selective_scan_cpu.h"

#include <omp.h>

#include <stdexcept>

namespace continua::kernels {
namespace CONTINUA_CPU_ISA {  // one build per instruction set; cpu_dispatch.cpp picks one at run time
using namespace cpu;

namespace {

constexpr int kSpanBlocks = 8;  // blocks per task: the span's states, decays and adjoints stay in L2

struct Span {
  int b = 0, blk0 = 0, blocks = 0;
  int group = -1;  // the B/C group every lane of the span reads, or -1 when the span crosses groups
};

int spansPerBatch(const ScanParams& p) { return (blocksPerBatch(p) + kSpanBlocks - 1) / kSpanBlocks; }

Span spanOf(const ScanParams& p, int task) {
  const int perBatch = spansPerBatch(p);
  Span s;
  s.b = task / perBatch;
  s.blk0 = (task % perBatch) * kSpanBlocks;
  s.blocks = std::min(kSpanBlocks, blocksPerBatch(p) - s.blk0);
  const int perGroup = p.channels / p.groups;
  const int d0 = s.blk0 * kLanes, d1 = std::min(p.channels, (s.blk0 + s.blocks) * kLanes) - 1;
  s.group = d0 / perGroup == d1 / perGroup ? d0 / perGroup : -1;
  return s;
}

struct Partials {  // per-task partial sums, reduced once all tasks are done
  int spans = 0;
  std::vector<float> dB, dC;      // (batch, spans, length, groups*states)
  std::vector<float> dA;          // (batch, channels, states)
  std::vector<float> dD, dBias;   // (batch, channels)
};

// One thread's working memory for one span: per block (states x lanes) arrays, per chunk step for hs/as and the
// lane rows ys (y before the gate), dts (dt) and slopes (d dt / d delta), which the recompute keeps for the adjoint.
// Sized for the call's span and chunk, not the largest possible (a small scan would otherwise clear a megabyte),
// and kept by the thread between calls: every array is written before it is read.
struct Scratch {
  int N = 0, blocks = kSpanBlocks;
  std::vector<float> hs, as, ys, dts, slopes, g, h0, dA, sumB, sumC;
  std::vector<BlockConstants> k;
  void size(int chunk, int states, int spanBlocks) {
    N = states;
    blocks = spanBlocks;
    const size_t perStep = size_t(blocks) * N * kLanes, lanes = size_t(chunk) * blocks * kLanes;
    hs.resize(size_t(chunk) * perStep);
    as.resize(size_t(chunk) * perStep);
    ys.resize(lanes);
    dts.resize(lanes);
    slopes.resize(lanes);
    g.resize(perStep);
    h0.resize(perStep);
    dA.resize(perStep);
    sumB.resize(size_t(N) * kLanes);
    sumC.resize(size_t(N) * kLanes);
    k.resize(size_t(blocks));
  }
  float* state(std::vector<float>& v, int step, int blk) { return v.data() + (size_t(step) * blocks + blk) * N * kLanes; }
  float* perBlock(std::vector<float>& v, int blk) { return v.data() + size_t(blk) * N * kLanes; }
  float* lanes(std::vector<float>& v, int step, int blk) { return v.data() + (size_t(step) * blocks + blk) * kLanes; }
};

const float* chunkStart(const ScanParams& p, const BlockLanes& blk, int chunk) {
  if (chunk == 0) {
    return p.initialState ? static_cast<const float*>(p.initialState) + (int64_t(blk.b) * p.channels + blk.d0) * p.states
                          : nullptr;
  }
  return static_cast<const float*>(p.chunkStates) +
         ((int64_t(blk.b) * p.numChunks() + chunk - 1) * p.channels + blk.d0) * p.states;
}

BlockLanes blockAt(const ScanParams& p, const Span& s, int i) { return blockOf(p, s.b * blocksPerBatch(p) + s.blk0 + i); }

// B_t[n] and C_t[n] per lane: one scalar for the whole block when it reads one group (Mamba: always), kept in
// a register, or a lane array when the block's channels read several groups.
struct Scalar {
  float v;
  float operator[](int) const { return v; }
};
struct PerLane {
  const float* v;
  float operator[](int c) const { return v[c]; }
};

// h_t = a_t h_{t-1} + dt u B_t and y_t += C_t h_t for one state over the lanes; a_t = exp(dt A) is kept.
template <typename BC>
inline void recomputeState(BC bl, BC cl, const float* __restrict dt, const float* __restrict dtu,
                           const float* __restrict an, const float* __restrict prev, float* __restrict h,
                           float* __restrict a, float* __restrict y) {
  for (int c = 0; c < kLanes; ++c) {
    a[c] = fastExp(dt[c] * an[c]);
    h[c] = a[c] * prev[c] + dtu[c] * bl[c];
    y[c] += cl[c] * h[c];
  }
}

// One state's adjoint step over the lanes: g_t = g_{t+1} a_{t+1} + C_t dy_t, and what it adds to du, ddt, dA and
// to the lane-wise sums of dB_t and dC_t. Grouped so each product is formed once (11 vector operations). (Sums of
// gb and ha A over states, turned into du and ddt once per step, were tried: no change measured through the
// real binary.)
template <typename BC>
inline void adjointState(BC bl, BC cl, const float* __restrict dy, const float* __restrict dt,
                         const float* __restrict dtu, const float* __restrict u, const float* __restrict an,
                         const float* __restrict a, const float* __restrict hp, const float* __restrict ht,
                         float* __restrict g, float* __restrict dA, float* __restrict ddt, float* __restrict du,
                         float* __restrict sumB, float* __restrict sumC) {
  for (int c = 0; c < kLanes; ++c) {
    const float gn = g[c] + cl[c] * dy[c];
    const float gb = gn * bl[c];                 // shared by du and ddt's B u term
    const float ha = gn * hp[c] * a[c];          // shared by ddt's decay term and dA
    sumC[c] += dy[c] * ht[c];
    sumB[c] += gn * dtu[c];
    du[c] += gb * dt[c];
    ddt[c] += gb * u[c] + ha * an[c];
    dA[c] += ha * dt[c];
    g[c] = gn * a[c];
  }
}

void recomputeChunk(const ScanGradParams& p, const Span& s, int t0, int t1, Scratch& w) {
  const int N = p.states;
  alignas(64) float u[kLanes], dtu[kLanes], bl[kLanes], cl[kLanes];
  for (int t = t0; t < t1; ++t) {
    const int i = t - t0;
    for (int j = 0; j < s.blocks; ++j) {
      const BlockLanes blk = blockAt(p, s, j);
      const BlockConstants& k = w.k[size_t(j)];
      loadLanes(rowAt(p.u, p.uStride, blk.b, t) + blk.d0, blk.width, u);
      float* dt = w.lanes(w.dts, i, j);
      deltaLanes(p, blk, k, t, dt, w.lanes(w.slopes, i, j));
      for (int c = 0; c < kLanes; ++c) dtu[c] = dt[c] * u[c];
      float* y = w.lanes(w.ys, i, j);
      for (int c = 0; c < kLanes; ++c) y[c] = k.D[c] * u[c];
      const float* Bt = rowAt(p.B, p.bStride, blk.b, t);
      const float* Ct = rowAt(p.C, p.cStride, blk.b, t);
      const float* prev = i > 0 ? w.state(w.hs, i - 1, j) : w.perBlock(w.h0, j);
      float* h = w.state(w.hs, i, j);
      float* a = w.state(w.as, i, j);
      if (blk.group >= 0) {
        const float* Bg = Bt + k.groupOffset[0];
        const float* Cg = Ct + k.groupOffset[0];
        for (int n = 0; n < N; ++n)
          recomputeState(Scalar{Bg[n]}, Scalar{Cg[n]}, dt, dtu, k.At.data() + n * kLanes, prev + n * kLanes, h + n * kLanes,
                         a + n * kLanes, y);
      } else {
        for (int n = 0; n < N; ++n) {
          stateLanes(Bt, blk, k, n, bl);
          stateLanes(Ct, blk, k, n, cl);
          recomputeState(PerLane{bl}, PerLane{cl}, dt, dtu, k.At.data() + n * kLanes, prev + n * kLanes, h + n * kLanes,
                         a + n * kLanes, y);
        }
      }
    }
  }
}

// The gate's backward for one block at one step: dz written out, dy turned into the gradient of y before the gate.
void gateBackward(const ScanGradParams& p, const BlockLanes& blk, int t, const float* y, float* dy, int64_t row) {
  float z[kLanes], dz[kLanes];
  loadLanes(rowAt(p.z, p.zStride, blk.b, t) + blk.d0, blk.width, z);
  for (int c = 0; c < kLanes; ++c) {
    const float sg = 1.0f / (1.0f + fastExp(-z[c]));
    dz[c] = dy[c] * y[c] * sg * (1.0f + z[c] * (1.0f - sg));
    dy[c] *= z[c] * sg;
  }
  storeLanes(dz, blk.width, static_cast<float*>(p.dz) + row);
}

void reverseChunk(const ScanGradParams& p, const Span& s, int t0, int t1, Scratch& w, Partials& part, int task) {
  const int N = p.states, L = p.length, GN = p.groups * N;
  alignas(64) float u[kLanes], dtu[kLanes], dy[kLanes], du[kLanes], ddt[kLanes], bl[kLanes], cl[kLanes];
  for (int t = t1 - 1; t >= t0; --t) {
    const int i = t - t0;
    float* dBrow = part.dB.data() + (int64_t(task) * L + t) * GN;
    float* dCrow = part.dC.data() + (int64_t(task) * L + t) * GN;
    if (s.group >= 0) {
      std::fill(w.sumB.begin(), w.sumB.end(), 0.0f);
      std::fill(w.sumC.begin(), w.sumC.end(), 0.0f);
    }
    for (int j = 0; j < s.blocks; ++j) {
      const BlockLanes blk = blockAt(p, s, j);
      const BlockConstants& k = w.k[size_t(j)];
      loadLanes(rowAt(p.u, p.uStride, blk.b, t) + blk.d0, blk.width, u);
      const float* dt = w.lanes(w.dts, i, j);
      loadLanes(rowAt(p.dout, p.doutStride, blk.b, t) + blk.d0, blk.width, dy);
      const int64_t row = (int64_t(blk.b) * L + t) * p.channels + blk.d0;
      if (p.z) gateBackward(p, blk, t, w.lanes(w.ys, i, j), dy, row);
      for (int c = 0; c < kLanes; ++c) { du[c] = k.D[c] * dy[c]; ddt[c] = 0.0f; dtu[c] = dt[c] * u[c]; }
      const float* Bt = rowAt(p.B, p.bStride, blk.b, t);
      const float* Ct = rowAt(p.C, p.cStride, blk.b, t);
      const float* hp = i > 0 ? w.state(w.hs, i - 1, j) : w.perBlock(w.h0, j);
      const float* ht = w.state(w.hs, i, j);
      const float* a = w.state(w.as, i, j);
      float* g = w.perBlock(w.g, j);
      float* dA = w.perBlock(w.dA, j);
      if (s.group >= 0) {  // the whole span reads one group: vector sums across its blocks
        const float* Bg = Bt + k.groupOffset[0];
        const float* Cg = Ct + k.groupOffset[0];
        for (int n = 0; n < N; ++n) {
          const int o = n * kLanes;
          adjointState(Scalar{Bg[n]}, Scalar{Cg[n]}, dy, dt, dtu, u, k.At.data() + o, a + o, hp + o, ht + o, g + o, dA + o,
                       ddt, du, w.sumB.data() + o, w.sumC.data() + o);
        }
      } else {  // lanes of several groups: reduce this block's lanes into their own groups' sums
        for (int n = 0; n < N; ++n) {
          stateLanes(Bt, blk, k, n, bl);
          stateLanes(Ct, blk, k, n, cl);
          const int o = n * kLanes;
          alignas(64) float sB[kLanes] = {}, sC[kLanes] = {};
          adjointState(PerLane{bl}, PerLane{cl}, dy, dt, dtu, u, k.At.data() + o, a + o, hp + o, ht + o, g + o, dA + o, ddt,
                       du, sB, sC);
          for (int c = 0; c < blk.width; ++c) {
            dBrow[k.groupOffset[c] + n] += sB[c];
            dCrow[k.groupOffset[c] + n] += sC[c];
          }
        }
      }
      storeLanes(du, blk.width, static_cast<float*>(p.du) + row);
      float* dD = part.dD.data() + int64_t(blk.b) * p.channels + blk.d0;
      float* dBias = part.dBias.data() + int64_t(blk.b) * p.channels + blk.d0;
      alignas(64) float dyu[kLanes];
      for (int c = 0; c < kLanes; ++c) dyu[c] = dy[c] * u[c];
      addLanes(dyu, blk.width, dD);
      const float* slope = w.lanes(w.slopes, i, j);
      for (int c = 0; c < kLanes; ++c) ddt[c] *= slope[c];
      addLanes(ddt, blk.width, dBias);
      storeLanes(ddt, blk.width, static_cast<float*>(p.ddelta) + row);
    }
    if (s.group >= 0) {  // padded lanes contributed zeros, so the 16-lane sums are exact
      const int off = s.group * N;
      for (int n = 0; n < N; ++n) {
        float sb = 0.0f, sc = 0.0f;
        for (int c = 0; c < kLanes; ++c) { sb += w.sumB[n * kLanes + c]; sc += w.sumC[n * kLanes + c]; }
        dBrow[off + n] += sb;
        dCrow[off + n] += sc;
      }
    }
  }
}

// Between a (channels x states) slot at channel d0 and a block's (states x lanes) array.
void toLanes(const float* src, const BlockLanes& blk, int N, float* dst) {
  std::fill(dst, dst + N * kLanes, 0.0f);
  if (!src) return;
  for (int c = 0; c < blk.width; ++c)
    for (int n = 0; n < N; ++n) dst[n * kLanes + c] = src[c * N + n];
}
void fromLanes(const float* src, const BlockLanes& blk, int N, float* dst) {
  for (int c = 0; c < blk.width; ++c)
    for (int n = 0; n < N; ++n) dst[c * N + n] = src[n * kLanes + c];
}

void backwardSpan(const ScanGradParams& p, const Span& s, Scratch& w, Partials& part, int task) {
  const int N = p.states;
  for (int j = 0; j < s.blocks; ++j) {
    const BlockLanes blk = blockAt(p, s, j);
    w.k[size_t(j)].load(p, blk);
    const float* dFinal = p.dFinalState ? static_cast<const float*>(p.dFinalState) + (int64_t(blk.b) * p.channels + blk.d0) * N : nullptr;
    toLanes(dFinal, blk, N, w.perBlock(w.g, j));
    std::fill(w.perBlock(w.dA, j), w.perBlock(w.dA, j) + N * kLanes, 0.0f);
  }
  for (int chunk = p.numChunks() - 1; chunk >= 0; --chunk) {
    const int t0 = chunk * p.chunkLength, t1 = std::min(p.length, t0 + p.chunkLength);
    for (int j = 0; j < s.blocks; ++j) {
      const BlockLanes blk = blockAt(p, s, j);
      toLanes(chunkStart(p, blk, chunk), blk, N, w.perBlock(w.h0, j));
    }
    recomputeChunk(p, s, t0, t1, w);
    reverseChunk(p, s, t0, t1, w, part, task);
  }
  for (int j = 0; j < s.blocks; ++j) {
    const BlockLanes blk = blockAt(p, s, j);
    fromLanes(w.perBlock(w.dA, j), blk, N, part.dA.data() + (int64_t(blk.b) * p.channels + blk.d0) * N);
    if (p.dInitialState)
      fromLanes(w.perBlock(w.g, j), blk, N, static_cast<float*>(p.dInitialState) + (int64_t(blk.b) * p.channels + blk.d0) * N);
  }
}

void reducePartials(const ScanGradParams& p, const Partials& part) {
  const int64_t rows = int64_t(p.batch) * p.length, GN = int64_t(p.groups) * p.states;
#pragma omp parallel for num_threads(p.numThreads) schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t b = r / p.length, t = r % p.length;
    float* dB = static_cast<float*>(p.dB) + r * GN;
    float* dC = static_cast<float*>(p.dC) + r * GN;
    std::fill(dB, dB + GN, 0.0f);
    std::fill(dC, dC + GN, 0.0f);
    for (int sp = 0; sp < part.spans; ++sp) {
      const int64_t off = ((b * part.spans + sp) * p.length + t) * GN;
      for (int64_t j = 0; j < GN; ++j) { dB[j] += part.dB[off + j]; dC[j] += part.dC[off + j]; }
    }
  }
  const int64_t DN = int64_t(p.channels) * p.states;
  auto* dA = static_cast<float*>(p.dA);
  std::fill(dA, dA + DN, 0.0f);
  for (int b = 0; b < p.batch; ++b)
    for (int64_t j = 0; j < DN; ++j) dA[j] += part.dA[b * DN + j];
  auto reduceChannels = [&](const std::vector<float>& src, void* dstPtr) {
    if (!dstPtr) return;
    auto* dst = static_cast<float*>(dstPtr);
    std::fill(dst, dst + p.channels, 0.0f);
    for (int b = 0; b < p.batch; ++b)
      for (int d = 0; d < p.channels; ++d) dst[d] += src[int64_t(b) * p.channels + d];
  };
  reduceChannels(part.dD, p.dD);
  reduceChannels(part.dBias, p.dDeltaBias);
}

}  // namespace

void scanBackwardCpu(const ScanGradParams& p) {
  if (p.dtype != ScanDType::Float32) throw std::invalid_argument("scanBackwardCpu: the CPU kernel takes Float32");
  validateScanParams(p);
  if (!p.dout || !p.du || !p.ddelta || !p.dA || !p.dB || !p.dC || !p.chunkStates)
    throw std::invalid_argument("scanBackwardCpu: dout, du, ddelta, dA, dB, dC and chunkStates are required");
  if (p.z && !p.dz) throw std::invalid_argument("scanBackwardCpu: dz is required when z is given");
  Partials part;
  part.spans = spansPerBatch(p);
  const int64_t GN = int64_t(p.groups) * p.states;
  part.dB.assign(int64_t(p.batch) * part.spans * p.length * GN, 0.0f);
  part.dC.assign(part.dB.size(), 0.0f);
  part.dA.assign(int64_t(p.batch) * p.channels * p.states, 0.0f);
  part.dD.assign(int64_t(p.batch) * p.channels, 0.0f);
  part.dBias.assign(part.dD.size(), 0.0f);
  const int tasks = p.batch * part.spans;
#pragma omp parallel num_threads(p.numThreads)
  {
    FlushDenormals ftz;
    static thread_local Scratch w;
    w.size(std::min(p.chunkLength, p.length), p.states, std::min(kSpanBlocks, blocksPerBatch(p)));
#pragma omp for schedule(dynamic)
    for (int task = 0; task < tasks; ++task) backwardSpan(p, spanOf(p, task), w, part, task);
  }
  reducePartials(p, part);
}

}  // namespace CONTINUA_CPU_ISA
}  // namespace continua::kernels
