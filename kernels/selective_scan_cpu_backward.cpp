// CPU float32 selective-scan backward. A task is one batch element and a span of up to 8 blocks of 16 channel
// lanes; it walks the chunks in reverse. Within a chunk, each block's states are taken a register tile of a few
// states at a time: the tile's states are recomputed forward through the chunk from the saved chunk-start state
// (the forward kept only those), then the adjoint recurrence g_t = C_t dy_t + exp(dt_{t+1} A) g_{t+1} runs
// backwards through the same steps with g, dA and A held in registers. Only the tile's states and decays go
// through memory (a few KiB, so L1), where recomputing all of a span's states first had them round-trip through
// L2 (1 MiB per task at N = 16). States are independent of each other, so tiles only meet in per-step sums over
// states (y for the gate, du, ddt), kept in the chunk's step records; the first tile starts them and the last
// writes the outputs (no separate output pass).
// The channel sums of dB_t and dC_t are lane sums across the span's blocks (dB's folded to one line per tile of
// states), with horizontal sums per (t, state) once for the whole span; across spans and batch, sums go to
// per-task partials reduced after the parallel loop, so no two threads ever write the same value.
#include "kernels/cpu_isa_namespace.h"
#include "kernels/cpu_vec.h"
#include "kernels/selective_scan_cpu.h"
#include "kernels/selective_scan_cpu_backward_lanes.h"

#include <omp.h>

#include <stdexcept>
#include <type_traits>

namespace continua::kernels {
namespace CONTINUA_CPU_ISA {  // one build per instruction set; cpu_dispatch.cpp picks one at run time
using namespace cpu;

namespace {
using namespace backward;

constexpr int kSpanBlocks = 8;  // blocks per task: dB/dC's horizontal sums are shared by the span

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

// A block's per-step values over the chunk are lane rows, kept as one record per step: u, dt and softplus'
// slope, dy, dz / y, and the sums over states y, du and ddt. One record per step lets the tile walk them all with
// one pointer; as eight arrays, GCC ran out of registers for their pointers and reloaded them from the stack
// every step.
enum RowField { kU, kDt, kSlope, kDy, kDzPerY, kY, kDu, kDdt, kRowFields };
constexpr int kRecordFloats = kRowFields * kLanes;

// One thread's working memory for one span: the block's step records; the tile's decays and previous states
// (per step: a_t of the tile's states, then h_{t-1}); the span's lane sums of dC_t and dB_t over the chunk (per
// step: a line per state for C, then a folded line per tile of states for B); g and dA, every block's adjoint
// and dA carried from chunk to chunk; h0, the block's chunk-start state. Sized for the call, kept by the thread
// between calls: every array is written before it is read.
struct Scratch {
  int N = 0;
  std::vector<float> records;  // chunk x kRowFields x lanes
  std::vector<float> tile;     // chunk x 2 x tile states x vector lanes
  std::vector<float> sums;     // LaneSumsLayout
  std::vector<float> g, dA;    // blocks x states x lanes
  std::vector<float> h0;       // states x lanes
  std::vector<BlockConstants> k;
  void size(int chunk, int states, int spanBlocks) {
    N = states;
    records.resize(size_t(chunk) * kRecordFloats);
    tile.resize(size_t(chunk) * 2 * kTileStates * kVecLanes);
    sums.resize(LaneSumsLayout::floats(chunk, N));
    g.resize(size_t(spanBlocks) * N * kLanes);
    dA.resize(g.size());
    h0.resize(size_t(N) * kLanes);
    k.resize(size_t(spanBlocks));
  }
  float* row(int step, RowField f) { return records.data() + size_t(step) * kRecordFloats + f * kLanes; }
  LaneSumsLayout laneSums() { return {sums.data(), N, LaneSumsLayout::tilesOf(N)}; }
  float* perBlock(std::vector<float>& v, int blk) { return v.data() + size_t(blk) * N * kLanes; }
};

// The calling thread's scratch, kept between calls. Out of line on purpose: with the thread_local object in
// sight, GCC specialised the passes for it and recomputed its address (a __tls_get_addr call in this PIC code,
// with every vector register spilled around it) several times per step; through an opaque reference it is a
// pointer like any other.
__attribute__((noinline)) Scratch& threadScratch() {
  static thread_local Scratch w;
  return w;
}

const float* chunkStart(const ScanParams& p, const BlockLanes& blk, int chunk) {
  if (chunk == 0) {
    return p.initialState ? static_cast<const float*>(p.initialState) + (int64_t(blk.b) * p.channels + blk.d0) * p.states
                          : nullptr;
  }
  return static_cast<const float*>(p.chunkStates) +
         ((int64_t(blk.b) * p.numChunks() + chunk - 1) * p.channels + blk.d0) * p.states;
}

BlockLanes blockAt(const ScanParams& p, const Span& s, int i) { return blockOf(p, s.b * blocksPerBatch(p) + s.blk0 + i); }

// The step records' inputs of one block over the chunk: u, dt and softplus' slope, dy (the gradient of y before
// the gate: dout * silu(z)) and dz / y (the gate's derivative, so dz needs neither z nor another exp once y is
// known). The sums over states are the tiles' (tileBackward).
__attribute__((noinline)) void prepareBlock(const ScanGradParams& p, const BlockLanes& blk, const BlockConstants& k,
                                            int t0, int T, Scratch& w) {
  // Everything the loop reads from p, blk and w, in locals: storeV is a memcpy, which may write anything as far as
  // GCC knows, so fields read through a reference were reloaded (and the rows' addresses recomputed, two
  // multiplications each) after every store.
  struct Rows {  // an input's row at the chunk's first step and the block's first channel, and the step between rows
    const float* at;
    int64_t step;
  };
  auto rows = [&](const void* base, Strides2 s) {
    return base ? Rows{rowAt(base, s, blk.b, t0) + blk.d0, s.time} : Rows{nullptr, 0};
  };
  const Rows u = rows(p.u, p.uStride), delta = rows(p.delta, p.deltaStride), dout = rows(p.dout, p.doutStride),
             z = rows(p.z, p.zStride);
  const int width = blk.width;
  const bool softplus = p.deltaSoftplus;
  float* const rec = w.records.data();
  const float* const bias = k.bias;
  for (int i = 0; i < T; ++i) {
    if (i + kPrefetchSteps < T) {  // rows a whole row apart: the hardware prefetcher does not follow them
      for (const Rows& r : {u, delta, dout, z})
        if (r.at) __builtin_prefetch(r.at + (i + kPrefetchSteps) * r.step);
    }
    float* const record = rec + size_t(i) * kRecordFloats;
    for (int v = 0; v < kLanes; v += kVecLanes) {
      storeV(record + kU * kLanes + v, laneVec(u.at + i * u.step, width, v));
      Vec slope;
      storeV(record + kDt * kLanes + v, dtOf(laneVec(delta.at + i * delta.step, width, v) + loadV(bias + v), softplus,
                                            &slope));
      storeV(record + kSlope * kLanes + v, slope);
      const Vec g = laneVec(dout.at + i * dout.step, width, v);
      if (!z.at) {
        storeV(record + kDy * kLanes + v, g);
        continue;
      }
      // the gate: out = y silu(z), so dy = dout silu(z) and dz = dout y sigma(z)(1 + z(1 - sigma(z)))
      const Vec zv = laneVec(z.at + i * z.step, width, v), sg = sigmoidV(zv);
      storeV(record + kDzPerY * kLanes + v, g * sg * (1.0f + zv * (1.0f - sg)));
      storeV(record + kDy * kLanes + v, g * zv * sg);
    }
  }
}

// Where a block's last tile at a lane position writes its lanes' outputs: the du, ddelta and dz rows (at the
// chunk's first step and the tile's first lane) and the task's dD and dbias partials. `lanes` of the vector's
// lanes are channels; the last block may be narrower than a vector.
struct TileOutputs {
  float *du, *ddelta, *dz;  // dz: null without a gate
  int64_t rowStride;        // channels
  int lanes;
  bool stream;              // past the caches (streamsOutput), every row vector-aligned
  float *dD, *dBias;

  void put(float* rows, int i, Vec v) const {
    float* dst = rows + i * rowStride;
    if (lanes == kVecLanes) return stream ? streamV(dst, v) : storeV(dst, v);
    alignas(64) float part[kVecLanes];
    storeV(part, v);
    std::memcpy(dst, part, sizeof(float) * size_t(std::max(lanes, 0)));
  }
  void addSums(Vec dDsum, Vec dBiasSum) const {
    for (int c = 0; c < lanes; ++c) {
      dD[c] += dDsum[c];
      dBias[c] += dBiasSum[c];
    }
  }
};

// One tile — S states (n0 .. n0+S-1) of the kVecLanes lanes from lane0 of one block — through the chunk: recompute
// forward, then the adjoint backward. g and dA (the block's, states x lanes) are read at the chunk's end and
// written back at its start. The sums over states (y, du, ddt) gather in the step records: the first tile at a
// lane position (kFirst) starts them with their D terms (y = D u, du = D dy, ddt = 0), the last (kLast) finishes
// them into the outputs: dz = dz/y * y as soon as y is whole, du and ddelta = ddt * slope at each adjoint step,
// dD and dbias summed over the chunk. bc, sums and out come by value and the rows as local pointers: through
// references, GCC reloads them after every store (storeV is a memcpy, which may alias them as far as it knows).
template <int S, bool kFirst, bool kLast, typename BC, typename Sums>
__attribute__((noinline)) void tileBackward(const BlockConstants& k, BC bc, Sums sums, TileOutputs out, int n0,
                                            int lane0, int t0, int T, Scratch& w, float* g, float* dA) {
  // Step i's record at rec + i * kRecordFloats (field f kLanes * f further); the tile's a_t of step i at
  // tile + i * 2 * kStep, its h_{t-1} kStep further.
  float* __restrict rec = w.records.data() + lane0;
  float* __restrict tile = w.tile.data();
  constexpr int kStep = S * kVecLanes;
  auto field = [rec](int i, RowField f) { return rec + i * kRecordFloats + f * kLanes; };
  auto decay = [tile](int i, int s) { return tile + i * 2 * kStep + s * kVecLanes; };
  auto prevState = [tile](int i, int s) { return tile + i * 2 * kStep + kStep + s * kVecLanes; };
  const float* __restrict At = k.At.data();
  const float* __restrict h0 = w.h0.data() + lane0;  // states x lanes, like At, g and dA
  const Vec D = loadV(k.D + lane0);
  auto at = [lane0](int n) { return n * kLanes + lane0; };
  Vec A[S], h[S];
#pragma GCC unroll 8
  for (int s = 0; s < S; ++s) {
    A[s] = loadV(At + at(n0 + s));
    h[s] = loadV(h0 + (n0 + s) * kLanes);
  }
  for (int i = 0; i < T; ++i) {  // h_t = a_t h_{t-1} + dt u B_t, kept with a_t = exp(dt A); y_t += C_t h_t
    const auto bct = bc.at(t0 + i);
    const Vec dt = loadV(field(i, kDt)), u = loadV(field(i, kU)), dtu = dt * u;
    const Vec dy = loadV(field(i, kDy));
    Vec y = {}, dC[S];
#pragma GCC unroll 8
    for (int s = 0; s < S; ++s) {
      const Vec a = fastExpV(dt * A[s]);
      storeV(decay(i, s), a);
      storeV(prevState(i, s), h[s]);
      h[s] = a * h[s] + dtu * bct.B(n0 + s, lane0);
      y += bct.C(n0 + s, lane0) * h[s];
      dC[s] = dy * h[s];
    }
    sums.template addC<S>(i, n0, lane0, dC);
    y += kFirst ? D * u : loadV(field(i, kY));
    if (!kLast) storeV(field(i, kY), y);
    else if (out.dz) out.put(out.dz, i, loadV(field(i, kDzPerY)) * y);
  }
  Vec gr[S], dAr[S];
#pragma GCC unroll 8
  for (int s = 0; s < S; ++s) {
    gr[s] = loadV(g + at(n0 + s));
    dAr[s] = loadV(dA + at(n0 + s));
  }
  Vec dDsum = {}, dBiasSum = {};
  // g_t = g_{t+1} a_{t+1} + C_t dy_t; du = dt sum_n g B, ddt = u sum_n g B + sum_n g h_{t-1} a A, dA += g h_{t-1} a dt
  for (int i = T - 1; i >= 0; --i) {
    const auto bct = bc.at(t0 + i);
    const Vec dt = loadV(field(i, kDt)), u = loadV(field(i, kU)), dy = loadV(field(i, kDy));
    const Vec dtu = dt * u;
    Vec sumGB = {}, sumHaA = {}, dB[S];
#pragma GCC unroll 8
    for (int s = 0; s < S; ++s) {
      const Vec a = loadV(decay(i, s));
      const Vec gn = gr[s] + bct.C(n0 + s, lane0) * dy;
      gr[s] = gn * a;  // g_t a_t: the next step's carry, and with h_{t-1} the decay's share of ddt and dA
      const Vec ha = gr[s] * loadV(prevState(i, s));
      sumGB += gn * bct.B(n0 + s, lane0);
      sumHaA += ha * A[s];
      dAr[s] += ha * dt;
      dB[s] = gn * dtu;
    }
    sums.template addB<S>(i, n0, lane0, dB);
    const Vec du = (kFirst ? D * dy : loadV(field(i, kDu))) + dt * sumGB;
    const Vec ddt = (kFirst ? Vec{} : loadV(field(i, kDdt))) + u * sumGB + sumHaA;
    if (kLast) {
      const Vec ddelta = ddt * loadV(field(i, kSlope));
      out.put(out.du, i, du);
      out.put(out.ddelta, i, ddelta);
      dDsum += dy * u;
      dBiasSum += ddelta;
    } else {
      storeV(field(i, kDu), du);
      storeV(field(i, kDdt), ddt);
    }
  }
#pragma GCC unroll 8
  for (int s = 0; s < S; ++s) {
    storeV(g + at(n0 + s), gr[s]);
    storeV(dA + at(n0 + s), dAr[s]);
  }
  if (kLast) out.addSums(dDsum, dBiasSum);
}

// Calls f with the tile size S (1 .. Max) as a compile-time constant.
template <int Max, typename F>
void withTileSize(int states, F&& f) {
  if constexpr (Max > 1) {
    if (states < Max) return withTileSize<Max - 1>(states, f);
  }
  f(std::integral_constant<int, Max>{});
}

// Every tile of a block: for each lane position, the state groups in order, the first and last with their roles.
template <typename BC, typename Sums>
void blockTiles(const ScanGradParams& p, const BlockLanes& blk, const BlockConstants& k, const BC& bc,
                const Sums& sums, int t0, int T, Scratch& w, float* g, float* dA, Partials& part) {
  const int N = p.states;
  const int64_t row = (int64_t(blk.b) * p.length + t0) * p.channels + blk.d0;
  // Streaming stores need vector-aligned addresses: every row's are when the outputs start aligned and a row is a
  // whole number of vectors (blocks start at multiples of 16 channels).
  const auto aligned = [](const void* base) { return !base || reinterpret_cast<uintptr_t>(base) % sizeof(Vec) == 0; };
  const bool stream = streamsOutput(int64_t(p.batch) * p.length * p.channels) && p.channels % kVecLanes == 0 &&
                      aligned(p.du) && aligned(p.ddelta) && aligned(p.dz);
  for (int lane0 = 0; lane0 < kLanes; lane0 += kVecLanes) {
    auto at = [&](void* rows) { return rows ? static_cast<float*>(rows) + row + lane0 : nullptr; };
    const int64_t sumsAt = int64_t(blk.b) * p.channels + blk.d0 + lane0;
    const TileOutputs out{at(p.du), at(p.ddelta), at(p.dz), p.channels, std::min(kVecLanes, blk.width - lane0),
                          stream, part.dD.data() + sumsAt, part.dBias.data() + sumsAt};
    for (int n0 = 0; n0 < N; n0 += kTileStates) {
      const bool first = n0 == 0, last = n0 + kTileStates >= N;
      withTileSize<kTileStates>(N - n0, [&](auto S) {
        constexpr int kS = decltype(S)::value;
        const auto run = [&](auto tile) { tile(k, bc, sums, out, n0, lane0, t0, T, w, g, dA); };
        if (first && last) run(tileBackward<kS, true, true, BC, Sums>);
        else if (first) run(tileBackward<kS, true, false, BC, Sums>);
        else if (last) run(tileBackward<kS, false, true, BC, Sums>);
        else run(tileBackward<kS, false, false, BC, Sums>);
      });
    }
  }
}

// The span's lane sums of dB_t/dC_t over the chunk into the task's partials: a dC line's lanes are one state's,
// each lane of a folded dB line belongs to the state its segment holds (foldTile). Padded lanes and missing states
// contributed zeros.
__attribute__((noinline)) void reduceSpanSums(const ScanGradParams& p, const Span& s, int t0, int T, Scratch& w,
                                              Partials& part, int task) {
  const int N = p.states, GN = p.groups * N, off = s.group * N;
  constexpr int kSegment = kVecLanes / kTileStates;
  auto addLine = [N](const float* line, int n0, float* dst) {
    float perState[kTileStates] = {};
    for (int l = 0; l < kLanes; ++l) perState[foldedState((l % kVecLanes) / kSegment)] += line[l];
    for (int s = 0; s < kTileStates && n0 + s < N; ++s) dst[n0 + s] += perState[s];
  };
  const LaneSumsLayout sums = w.laneSums();
  for (int i = 0; i < T; ++i) {
    float* dBrow = part.dB.data() + (int64_t(task) * p.length + t0 + i) * GN + off;
    float* dCrow = part.dC.data() + (int64_t(task) * p.length + t0 + i) * GN + off;
    for (int tile = 0; tile < sums.tiles; ++tile) addLine(sums.bLine(i, tile), tile * kTileStates, dBrow);
    for (int n = 0; n < N; ++n) {
      const float* line = sums.cLine(i, n);
      float sum = 0.0f;
      for (int l = 0; l < kLanes; ++l) sum += line[l];
      dCrow[n] += sum;
    }
  }
}

void chunkBackward(const ScanGradParams& p, const Span& s, int chunk, Scratch& w, Partials& part, int task) {
  const int N = p.states, GN = p.groups * N;
  const int t0 = chunk * p.chunkLength, T = std::min(p.length, t0 + p.chunkLength) - t0;
  for (int j = 0; j < s.blocks; ++j) {
    const BlockLanes blk = blockAt(p, s, j);
    const BlockConstants& k = w.k[size_t(j)];
    statesToLanes(chunkStart(p, blk, chunk), blk, N, w.h0.data());
    prepareBlock(p, blk, k, t0, T, w);
    float* g = w.perBlock(w.g, j);
    float* dA = w.perBlock(w.dA, j);
    if (s.group >= 0) {
      const OneGroupBC bc(p, blk.b, k.groupOffset[0]);
      if (j == 0)
        blockTiles(p, blk, k, bc, SpanLaneSums<true>{w.laneSums()}, t0, T, w, g, dA, part);
      else
        blockTiles(p, blk, k, bc, SpanLaneSums<false>{w.laneSums()}, t0, T, w, g, dA, part);
    } else {
      float* dBrows = part.dB.data() + (int64_t(task) * p.length + t0) * GN;
      float* dCrows = part.dC.data() + (int64_t(task) * p.length + t0) * GN;
      const PerGroupSums sums{dBrows, dCrows, blk, k, GN};
      if (blk.group >= 0)
        blockTiles(p, blk, k, OneGroupBC(p, blk.b, k.groupOffset[0]), sums, t0, T, w, g, dA, part);
      else
        blockTiles(p, blk, k, PerLaneBC{p, blk, k}, sums, t0, T, w, g, dA, part);
    }
  }
  if (s.group >= 0) reduceSpanSums(p, s, t0, T, w, part, task);
}

void backwardSpan(const ScanGradParams& p, const Span& s, Scratch& w, Partials& part, int task) {
  const int N = p.states;
  for (int j = 0; j < s.blocks; ++j) {
    const BlockLanes blk = blockAt(p, s, j);
    w.k[size_t(j)].load(p, blk);
    const float* dFinal = p.dFinalState ? static_cast<const float*>(p.dFinalState) + (int64_t(blk.b) * p.channels + blk.d0) * N : nullptr;
    statesToLanes(dFinal, blk, N, w.perBlock(w.g, j));
    std::fill(w.perBlock(w.dA, j), w.perBlock(w.dA, j) + N * kLanes, 0.0f);
  }
  for (int chunk = p.numChunks() - 1; chunk >= 0; --chunk) chunkBackward(p, s, chunk, w, part, task);
  for (int j = 0; j < s.blocks; ++j) {
    const BlockLanes blk = blockAt(p, s, j);
    lanesToStates(w.perBlock(w.dA, j), blk, N, part.dA.data() + (int64_t(blk.b) * p.channels + blk.d0) * N);
    if (p.dInitialState)
      lanesToStates(w.perBlock(w.g, j), blk, N, static_cast<float*>(p.dInitialState) + (int64_t(blk.b) * p.channels + blk.d0) * N);
  }
}

__attribute__((noinline)) void reducePartials(const ScanGradParams& p, const Partials& part) {
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
    Scratch& w = threadScratch();
    w.size(std::min(p.chunkLength, p.length), p.states, std::min(kSpanBlocks, blocksPerBatch(p)));
#pragma omp for schedule(dynamic)
    for (int task = 0; task < tasks; ++task) backwardSpan(p, spanOf(p, task), w, part, task);
    _mm_sfence();  // the outputs' streaming stores are weakly ordered: complete them before anyone reads the outputs
  }
  reducePartials(p, part);
}

}  // namespace CONTINUA_CPU_ISA
}  // namespace continua::kernels
