// CPU float32 query steps (selective_scan_queries.h). Threads take batch elements; inside one, the loop runs
// over queries and, for each, over blocks of 16 channel lanes, so the channel-sums of dB and dC are vector
// sums across blocks with one horizontal sum per (query, state) — not one per block — and the state gradient
// of every channel stays in a (channels x states) buffer in L1/L2 while all the batch's queries add to it.
#include "kernels/cpu_isa_namespace.h"
#include "kernels/selective_scan_queries.h"

#include "kernels/cpu_math.h"

#include <omp.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace continua::kernels {
namespace CONTINUA_CPU_ISA {  // one build per instruction set; cpu_dispatch.cpp picks one at run time
using namespace cpu;

namespace {

constexpr int kLanes = 16;

void require(bool ok, const char* what) {
  if (!ok) throw std::invalid_argument(std::string("query step: ") + what);
}

void validate(const QueryStepParams& p) {
  require(p.batch >= 1 && p.queries >= 1 && p.channels >= 1, "batch, queries and channels must be >= 1");
  require(p.states >= 1 && p.states <= 256, "states must be 1..256");
  require(p.u && p.delta && p.A && p.B && p.C && p.state, "u, delta, A, B, C and state are required");
}

// A block of up to 16 channels of one (batch, query): per-lane inputs and the block's constants.
struct Lanes {
  float u[kLanes], dt[kLanes], slope[kLanes], z[kLanes], D[kLanes];  // slope: d dt / d(delta + bias)
  int width = kLanes;
};

// A full block is a plain copy (it vectorises); only the last block of a channel count that is not a multiple of
// 16 takes the guarded loop.
void loadRow(const float* src, int width, float* dst, float fill = 0.0f) {
  if (width == kLanes) {
    for (int c = 0; c < kLanes; ++c) dst[c] = src[c];
    return;
  }
  for (int c = 0; c < kLanes; ++c) dst[c] = c < width ? src[c] : fill;
}

// Lanes past the last channel get zeros (u = 0, so they add nothing to any sum; their outputs are never stored).
// Every loop below runs over all 16 lanes without branches, so softplus is computed 16 lanes at a time.
void loadLanes(const QueryStepParams& p, int64_t row, int d0, Lanes& l) {
  l.width = std::min(kLanes, p.channels - d0);
  loadRow(p.u + row + d0, l.width, l.u);
  float raw[kLanes];
  loadRow(p.delta + row + d0, l.width, raw);
  if (p.deltaBias) {
    float bias[kLanes];
    loadRow(p.deltaBias + d0, l.width, bias);
    for (int c = 0; c < kLanes; ++c) raw[c] += bias[c];
  }
  if (p.D)
    loadRow(p.D + d0, l.width, l.D);
  else
    for (int c = 0; c < kLanes; ++c) l.D[c] = 0.0f;
  if (p.deltaSoftplus)
    for (int c = 0; c < kLanes; ++c) l.dt[c] = softplusWithSlope(raw[c], &l.slope[c]);
  else
    for (int c = 0; c < kLanes; ++c) { l.dt[c] = raw[c]; l.slope[c] = 1.0f; }
  if (p.z) loadRow(p.z + row + d0, l.width, l.z);
}

// A and the state of one batch element, transposed to (block, states, lanes) so every inner loop is over lanes.
void transposeBlocks(const float* src /* (channels, states) */, int channels, int N, std::vector<float>& dst) {
  const int blocks = (channels + kLanes - 1) / kLanes;
  dst.assign(size_t(blocks) * N * kLanes, 0.0f);
  for (int d = 0; d < channels; ++d)
    for (int n = 0; n < N; ++n) dst[(size_t(d / kLanes) * N + n) * kLanes + d % kLanes] = src[size_t(d) * N + n];
}

// y += C[n] h'[n] over the block's lanes, h'[n] = exp(dt A[n]) h[n] + dt u B[n].
inline void addReadout(float bn, float cn, const float* __restrict dt, const float* __restrict dtu,
                       const float* __restrict an, const float* __restrict hn, float* __restrict y) {
  for (int c = 0; c < kLanes; ++c) y[c] += cn * (fastExp(dt[c] * an[c]) * hn[c] + dtu[c] * bn);
}

// The backward's decays exp(dt A[n]) of one block, all states, and y before the gate from them: the gate's
// backward needs y, and the adjoint below the same decays, so each exp is taken once.
inline void decaysAndReadout(const float* Bq, const float* Cq, int N, const float* __restrict dt,
                             const float* __restrict dtu, const float* __restrict ab, const float* __restrict hb,
                             float* __restrict decay, float* __restrict y) {
  for (int n = 0; n < N; ++n) {
    float* __restrict an = decay + n * kLanes;
    for (int c = 0; c < kLanes; ++c) {
      an[c] = fastExp(dt[c] * ab[n * kLanes + c]);
      y[c] += Cq[n] * (an[c] * hb[n * kLanes + c] + dtu[c] * Bq[n]);
    }
  }
}

// One state n of a block in the backward: the adjoint g of h'[n] and what it adds to every gradient. Pointers
// are restrict-qualified so the 16-lane loop vectorises (GCC gave up on the aliasing checks otherwise).
inline void accumulateState(float bn, float cn, const float* __restrict dy, const float* __restrict dtu, const Lanes& l,
                            const float* __restrict an, const float* __restrict decay, const float* __restrict hn,
                            float* __restrict sB, float* __restrict sC, float* __restrict dh, float* __restrict dA,
                            float* __restrict ddt, float* __restrict du) {
  for (int c = 0; c < kLanes; ++c) {
    const float a = decay[c];
    const float g = cn * dy[c];                 // adjoint of h'[n]
    sC[c] += dy[c] * (a * hn[c] + dtu[c] * bn);  // dC[n] = sum_c dy h'[n]
    sB[c] += g * dtu[c];                         // dB[n] = sum_c g dt u
    dh[c] += g * a;
    dA[c] += g * hn[c] * l.dt[c] * a;
    ddt[c] += g * (hn[c] * an[c] * a + bn * l.u[c]);
    du[c] += g * l.dt[c] * bn;
  }
}

}  // namespace

void queryStepForwardCpu(const QueryStepParams& p) {
  validate(p);
  require(p.out != nullptr, "out is required");
  const int N = p.states, E = p.channels, blocks = (E + kLanes - 1) / kLanes;
  std::vector<float> At;
  transposeBlocks(p.A, E, N, At);
#pragma omp parallel num_threads(p.numThreads)
  {
    FlushDenormals ftz;
    std::vector<float> h;
    Lanes l;
#pragma omp for schedule(static)
    for (int b = 0; b < p.batch; ++b) {
      transposeBlocks(p.state + size_t(b) * E * N, E, N, h);
      for (int q = 0; q < p.queries; ++q) {
        const int64_t row = (int64_t(b) * p.queries + q) * E;
        const float* Bq = p.B + (int64_t(b) * p.queries + q) * N;
        const float* Cq = p.C + (int64_t(b) * p.queries + q) * N;
        for (int blk = 0; blk < blocks; ++blk) {
          const int d0 = blk * kLanes;
          loadLanes(p, row, d0, l);
          float y[kLanes], dtu[kLanes];
          for (int c = 0; c < kLanes; ++c) { y[c] = l.D[c] * l.u[c]; dtu[c] = l.dt[c] * l.u[c]; }
          const float* hb = h.data() + size_t(blk) * N * kLanes;
          const float* ab = At.data() + size_t(blk) * N * kLanes;
          for (int n = 0; n < N; ++n) addReadout(Bq[n], Cq[n], l.dt, dtu, ab + n * kLanes, hb + n * kLanes, y);
          if (p.z)
            for (int c = 0; c < kLanes; ++c) y[c] *= silu(l.z[c]);
          for (int c = 0; c < l.width; ++c) p.out[row + d0 + c] = y[c];
        }
      }
    }
  }
}

void queryStepBackwardCpu(const QueryStepGradParams& p) {
  validate(p);
  require(p.dout && p.du && p.ddelta && p.dA && p.dB && p.dC && p.dState, "dout, du, ddelta, dA, dB, dC and dState are required");
  require(!p.z || p.dz, "dz is required when z is given");
  const int N = p.states, E = p.channels, blocks = (E + kLanes - 1) / kLanes;
  std::vector<float> At;
  transposeBlocks(p.A, E, N, At);
  // Per-batch partial sums of the parameters' gradients (reduced over batch after the parallel loop).
  std::vector<float> dApart(size_t(p.batch) * blocks * N * kLanes, 0.0f), dDpart(size_t(p.batch) * E, 0.0f),
      dBiasPart(size_t(p.batch) * E, 0.0f);
#pragma omp parallel num_threads(p.numThreads)
  {
    FlushDenormals ftz;
    std::vector<float> h, dh, sumB(size_t(N) * kLanes), sumC(size_t(N) * kLanes);  // sums over blocks, per lane
    std::vector<float> decay(size_t(N) * kLanes);
    Lanes l;
#pragma omp for schedule(static)
    for (int b = 0; b < p.batch; ++b) {
      transposeBlocks(p.state + size_t(b) * E * N, E, N, h);
      dh.assign(h.size(), 0.0f);
      float* dAb = dApart.data() + size_t(b) * blocks * N * kLanes;
      for (int q = 0; q < p.queries; ++q) {
        const int64_t row = (int64_t(b) * p.queries + q) * E, qn = (int64_t(b) * p.queries + q) * N;
        const float* Bq = p.B + qn;
        const float* Cq = p.C + qn;
        std::fill(sumB.begin(), sumB.end(), 0.0f);
        std::fill(sumC.begin(), sumC.end(), 0.0f);
        for (int blk = 0; blk < blocks; ++blk) {
          const int d0 = blk * kLanes;
          loadLanes(p, row, d0, l);
          float dout[kLanes], dy[kLanes], du[kLanes], ddt[kLanes], dtu[kLanes], y[kLanes];
          loadRow(p.dout + row + d0, l.width, dout);
          const float* hb = h.data() + size_t(blk) * N * kLanes;
          const float* ab = At.data() + size_t(blk) * N * kLanes;
          float* dhb = dh.data() + size_t(blk) * N * kLanes;
          float* dAblk = dAb + size_t(blk) * N * kLanes;
          for (int c = 0; c < kLanes; ++c) { dtu[c] = l.dt[c] * l.u[c]; y[c] = l.D[c] * l.u[c]; }
          decaysAndReadout(Bq, Cq, N, l.dt, dtu, ab, hb, decay.data(), y);
          if (p.z) {  // the gate needs y before it
            float dz[kLanes];
            for (int c = 0; c < kLanes; ++c) {
              const float sg = sigmoid(l.z[c]);
              dz[c] = dout[c] * y[c] * sg * (1.0f + l.z[c] * (1.0f - sg));
              dy[c] = dout[c] * l.z[c] * sg;
            }
            for (int c = 0; c < l.width; ++c) p.dz[row + d0 + c] = dz[c];
          } else {
            for (int c = 0; c < kLanes; ++c) dy[c] = dout[c];
          }
          for (int c = 0; c < kLanes; ++c) { du[c] = l.D[c] * dy[c]; ddt[c] = 0.0f; }
          for (int n = 0; n < N; ++n)
            accumulateState(Bq[n], Cq[n], dy, dtu, l, ab + n * kLanes, decay.data() + n * kLanes, hb + n * kLanes,
                            sumB.data() + n * kLanes, sumC.data() + n * kLanes, dhb + n * kLanes, dAblk + n * kLanes, ddt,
                            du);
          float ddelta[kLanes];
          for (int c = 0; c < kLanes; ++c) ddelta[c] = ddt[c] * l.slope[c];
          for (int c = 0; c < l.width; ++c) {
            p.du[row + d0 + c] = du[c];
            p.ddelta[row + d0 + c] = ddelta[c];
            dDpart[size_t(b) * E + d0 + c] += dy[c] * l.u[c];
            dBiasPart[size_t(b) * E + d0 + c] += ddelta[c];
          }
        }
        for (int n = 0; n < N; ++n) {  // padded lanes hold zeros, so the 16-lane sums are exact
          float sb = 0.0f, sc = 0.0f;
          for (int c = 0; c < kLanes; ++c) { sb += sumB[n * kLanes + c]; sc += sumC[n * kLanes + c]; }
          p.dB[qn + n] = sb;
          p.dC[qn + n] = sc;
        }
      }
      float* ds = p.dState + size_t(b) * E * N;
      for (int d = 0; d < E; ++d)
        for (int n = 0; n < N; ++n) ds[size_t(d) * N + n] = dh[(size_t(d / kLanes) * N + n) * kLanes + d % kLanes];
    }
  }
  for (int d = 0; d < E; ++d)
    for (int n = 0; n < N; ++n) {
      float s = 0.0f;
      for (int b = 0; b < p.batch; ++b) s += dApart[((size_t(b) * blocks + d / kLanes) * N + n) * kLanes + d % kLanes];
      p.dA[size_t(d) * N + n] = s;
    }
  for (int d = 0; d < E; ++d) {
    float sd = 0.0f, sbias = 0.0f;
    for (int b = 0; b < p.batch; ++b) { sd += dDpart[size_t(b) * E + d]; sbias += dBiasPart[size_t(b) * E + d]; }
    if (p.dD) p.dD[d] = sd;
    if (p.dDeltaBias) p.dDeltaBias[d] = sbias;
  }
}

}  // namespace CONTINUA_CPU_ISA
}  // namespace continua::kernels
