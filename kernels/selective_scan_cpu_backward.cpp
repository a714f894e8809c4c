// CPU float32 selective-scan backward. Per (batch, channel block) task it walks the chunks in reverse:
// recomputes the chunk's states from the saved chunk-start state (the forward kept only those), then runs
// the adjoint recurrence g_t = C_t dy_t + exp(dt_{t+1} A) g_{t+1} backwards through the chunk. Sums over
// channels (dB, dC) and over batch (dA, dD, dbias) go to per-task partials, reduced after the parallel loop,
// so no two threads ever write the same value.
#include "kernels/selective_scan_cpu.h"

#include <omp.h>

#include <stdexcept>

namespace continua::kernels {
using namespace cpu;

namespace {

struct Partials {  // per-task partial sums, reduced once all tasks are done
  int blocks = 0;
  std::vector<float> dB, dC;      // (batch, blocks, length, groups*states)
  std::vector<float> dA;          // (batch, channels, states)
  std::vector<float> dD, dBias;   // (batch, channels)
};

struct Scratch {  // one thread's working memory for one task
  std::vector<float> hs, as, ys, g, h0, dA;
  void size(int chunk, int N) {
    hs.resize(size_t(chunk) * N * kLanes);
    as.resize(size_t(chunk) * N * kLanes);
    ys.resize(size_t(chunk) * kLanes);
    g.resize(size_t(N) * kLanes);
    h0.resize(size_t(N) * kLanes);
    dA.resize(size_t(N) * kLanes);
  }
};

const float* chunkStart(const ScanParams& p, const BlockLanes& blk, int chunk) {
  if (chunk == 0) {
    return p.initialState ? static_cast<const float*>(p.initialState) + (int64_t(blk.b) * p.channels + blk.d0) * p.states
                          : nullptr;
  }
  return static_cast<const float*>(p.chunkStates) +
         ((int64_t(blk.b) * p.numChunks() + chunk - 1) * p.channels + blk.d0) * p.states;
}

// Recomputes states h_t, decays exp(dt_t A) and (when gated) pre-gate outputs y_t for t in [t0, t1).
void recomputeChunk(const ScanGradParams& p, const BlockLanes& blk, const BlockConstants& k, int t0, int t1,
                    Scratch& s) {
  const int N = p.states;
  float u[kLanes], dt[kLanes], raw[kLanes], dtu[kLanes], bl[kLanes], cl[kLanes];
  for (int t = t0; t < t1; ++t) {
    const int i = t - t0;
    loadLanes(rowAt(p.u, p.uStride, blk.b, t) + blk.d0, blk.width, u);
    deltaLanes(p, blk, k, t, dt, raw);
    for (int c = 0; c < kLanes; ++c) dtu[c] = dt[c] * u[c];
    float* y = s.ys.data() + i * kLanes;
    for (int c = 0; c < kLanes; ++c) y[c] = k.D[c] * u[c];
    const float* Bt = rowAt(p.B, p.bStride, blk.b, t);
    const float* Ct = rowAt(p.C, p.cStride, blk.b, t);
    for (int n = 0; n < N; ++n) {
      stateLanes(Bt, blk, k, n, bl);
      stateLanes(Ct, blk, k, n, cl);
      const float* prev = i > 0 ? s.hs.data() + (size_t(i - 1) * N + n) * kLanes : s.h0.data() + n * kLanes;
      float* h = s.hs.data() + (size_t(i) * N + n) * kLanes;
      float* a = s.as.data() + (size_t(i) * N + n) * kLanes;
      const float* an = k.At.data() + n * kLanes;
      for (int c = 0; c < kLanes; ++c) {
        a[c] = fastExp(dt[c] * an[c]);
        h[c] = a[c] * prev[c] + dtu[c] * bl[c];
        y[c] += cl[c] * h[c];
      }
    }
  }
}

void reverseChunk(const ScanGradParams& p, const BlockLanes& blk, const BlockConstants& k, int t0, int t1,
                  Scratch& s, Partials& part, float* dD, float* dBias) {
  const int N = p.states, L = p.length, GN = p.groups * N;
  const int task = blk.d0 / kLanes;
  float u[kLanes], dt[kLanes], raw[kLanes], dy[kLanes], du[kLanes], ddt[kLanes], bl[kLanes], cl[kLanes];
  for (int t = t1 - 1; t >= t0; --t) {
    const int i = t - t0;
    loadLanes(rowAt(p.u, p.uStride, blk.b, t) + blk.d0, blk.width, u);
    deltaLanes(p, blk, k, t, dt, raw);
    loadLanes(rowAt(p.dout, p.doutStride, blk.b, t) + blk.d0, blk.width, dy);
    const int64_t row = (int64_t(blk.b) * L + t) * p.channels + blk.d0;
    if (p.z) {
      float z[kLanes], dz[kLanes];
      loadLanes(rowAt(p.z, p.zStride, blk.b, t) + blk.d0, blk.width, z);
      const float* y = s.ys.data() + i * kLanes;
      for (int c = 0; c < kLanes; ++c) {
        const float sg = 1.0f / (1.0f + fastExp(-z[c]));
        dz[c] = dy[c] * y[c] * sg * (1.0f + z[c] * (1.0f - sg));
        dy[c] *= z[c] * sg;
      }
      storeLanes(dz, blk.width, static_cast<float*>(p.dz) + row);
    }
    for (int c = 0; c < kLanes; ++c) du[c] = k.D[c] * dy[c];
    for (int c = 0; c < kLanes; ++c) ddt[c] = 0.0f;
    const float* Bt = rowAt(p.B, p.bStride, blk.b, t);
    const float* Ct = rowAt(p.C, p.cStride, blk.b, t);
    float* dBrow = part.dB.data() + ((int64_t(blk.b) * part.blocks + task) * L + t) * GN;
    float* dCrow = part.dC.data() + ((int64_t(blk.b) * part.blocks + task) * L + t) * GN;
    for (int n = 0; n < N; ++n) {
      stateLanes(Bt, blk, k, n, bl);
      stateLanes(Ct, blk, k, n, cl);
      const float* hp = i > 0 ? s.hs.data() + (size_t(i - 1) * N + n) * kLanes : s.h0.data() + n * kLanes;
      const float* ht = s.hs.data() + (size_t(i) * N + n) * kLanes;
      const float* a = s.as.data() + (size_t(i) * N + n) * kLanes;
      const float* an = k.At.data() + n * kLanes;
      float* g = s.g.data() + n * kLanes;
      float* dA = s.dA.data() + n * kLanes;
      float sumB[kLanes], sumC[kLanes];
      for (int c = 0; c < kLanes; ++c) {
        const float gn = g[c] + cl[c] * dy[c];
        sumC[c] = dy[c] * ht[c];
        sumB[c] = gn * dt[c] * u[c];
        du[c] += gn * dt[c] * bl[c];
        ddt[c] += gn * (hp[c] * an[c] * a[c] + bl[c] * u[c]);
        dA[c] += gn * hp[c] * dt[c] * a[c];
        g[c] = gn * a[c];
      }
      if (blk.group >= 0) {
        float sb = 0.0f, sc = 0.0f;
        for (int c = 0; c < kLanes; ++c) { sb += sumB[c]; sc += sumC[c]; }
        dBrow[k.groupOffset[0] + n] += sb;
        dCrow[k.groupOffset[0] + n] += sc;
      } else {
        for (int c = 0; c < blk.width; ++c) {
          dBrow[k.groupOffset[c] + n] += sumB[c];
          dCrow[k.groupOffset[c] + n] += sumC[c];
        }
      }
    }
    storeLanes(du, blk.width, static_cast<float*>(p.du) + row);
    for (int c = 0; c < blk.width; ++c) dD[c] += dy[c] * u[c];
    if (p.deltaSoftplus)
      for (int c = 0; c < kLanes; ++c) ddt[c] = ddt[c] / (1.0f + fastExp(-raw[c]));
    for (int c = 0; c < blk.width; ++c) dBias[c] += ddt[c];
    storeLanes(ddt, blk.width, static_cast<float*>(p.ddelta) + row);
  }
}

void backwardBlock(const ScanGradParams& p, const BlockLanes& blk, const BlockConstants& k, Scratch& s,
                   Partials& part) {
  const int N = p.states;
  std::fill(s.g.begin(), s.g.end(), 0.0f);
  if (p.dFinalState) {
    const float* src = static_cast<const float*>(p.dFinalState) + (int64_t(blk.b) * p.channels + blk.d0) * N;
    for (int c = 0; c < blk.width; ++c)
      for (int n = 0; n < N; ++n) s.g[n * kLanes + c] = src[c * N + n];
  }
  std::fill(s.dA.begin(), s.dA.end(), 0.0f);
  float* dD = part.dD.data() + int64_t(blk.b) * p.channels + blk.d0;
  float* dBias = part.dBias.data() + int64_t(blk.b) * p.channels + blk.d0;
  for (int chunk = p.numChunks() - 1; chunk >= 0; --chunk) {
    const int t0 = chunk * p.chunkLength, t1 = std::min(p.length, t0 + p.chunkLength);
    const float* start = chunkStart(p, blk, chunk);
    std::fill(s.h0.begin(), s.h0.end(), 0.0f);
    if (start)
      for (int c = 0; c < blk.width; ++c)
        for (int n = 0; n < N; ++n) s.h0[n * kLanes + c] = start[c * N + n];
    recomputeChunk(p, blk, k, t0, t1, s);
    reverseChunk(p, blk, k, t0, t1, s, part, dD, dBias);
  }
  float* dA = part.dA.data() + (int64_t(blk.b) * p.channels + blk.d0) * N;
  for (int c = 0; c < blk.width; ++c)
    for (int n = 0; n < N; ++n) dA[c * N + n] = s.dA[n * kLanes + c];
  if (p.dInitialState) {
    float* dst = static_cast<float*>(p.dInitialState) + (int64_t(blk.b) * p.channels + blk.d0) * N;
    for (int c = 0; c < blk.width; ++c)
      for (int n = 0; n < N; ++n) dst[c * N + n] = s.g[n * kLanes + c];
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
    for (int blk = 0; blk < part.blocks; ++blk) {
      const int64_t off = ((b * part.blocks + blk) * p.length + t) * GN;
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
  part.blocks = blocksPerBatch(p);
  const int64_t GN = int64_t(p.groups) * p.states;
  part.dB.assign(int64_t(p.batch) * part.blocks * p.length * GN, 0.0f);
  part.dC.assign(part.dB.size(), 0.0f);
  part.dA.assign(int64_t(p.batch) * p.channels * p.states, 0.0f);
  part.dD.assign(int64_t(p.batch) * p.channels, 0.0f);
  part.dBias.assign(part.dD.size(), 0.0f);
  const int tasks = p.batch * part.blocks;
#pragma omp parallel num_threads(p.numThreads)
  {
    FlushDenormals ftz;
    BlockConstants k;
    Scratch s;
    s.size(p.chunkLength, p.states);
#pragma omp for schedule(static)
    for (int task = 0; task < tasks; ++task) {
      BlockLanes blk = blockOf(p, task);
      k.load(p, blk);
      backwardBlock(p, blk, k, s, part);
    }
  }
  reducePartials(p, part);
}

}  // namespace continua::kernels
